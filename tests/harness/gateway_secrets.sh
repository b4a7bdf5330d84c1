#!/bin/sh
# Secret canaries planted in every place a credential can travel: the
# injected key, credential headers, cookies, other headers, the query,
# request and response bodies, compressed or not, and streams. The agent
# and the upstream get what they need; the record contains none of them,
# with every body decoded and decompressed.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/harness/gateway_lib.sh"

export KEY_CANARY=canary-injected-key-7f3a91
export EXTRA_CANARY=canary-extra-secret-c04e22
agent_auth=canary-agent-bearer-5d1b07
agent_xkey=canary-agent-xapikey-88e2aa
cookie=canary-cookie-value-13c9fd

start_upstream
start_gateway rec --upstream openai="$UPSTREAM/v1" --auth openai=KEY_CANARY \
	--upstream anthropic="$UPSTREAM/v1" \
	--auth anthropic=KEY_CANARY:x-api-key \
	--upstream plain="$UPSTREAM" --redact-env EXTRA_CANARY
REC=$GATEWAY REC_PID=$GATEWAY_PID

# 1: the agent's placeholder is replaced by the injected key, which the
# upstream echoes in the body and in Set-Cookie.
post "$REC/openai/chat/completions" '{"model":"m"}' -D "$TMP/h1" \
	-H 'Authorization: Bearer placeholder-key' -H 'x-test-echo: 1' \
	>"$TMP/r1"
expect_grep "Bearer $KEY_CANARY" "$TMP/r1"
grep -qi "^set-cookie: session=Bearer $KEY_CANARY" "$TMP/h1" ||
	fail "the upstream did not get the injected key"

# 2: the same in x-api-key, streamed.
post "$REC/anthropic/messages" '{"model":"m","stream":true}' \
	-H 'x-api-key: placeholder-key' -H 'x-test-echo: 1' >"$TMP/r2"
expect_grep "$KEY_CANARY" "$TMP/r2"

# 3: the agent's own credentials, a cookie, a custom header, the query
# and the body go through an upstream without injection. The echo shows
# that they reached it.
post "$REC/plain/echo?key=$EXTRA_CANARY&x=1" "{\"token\":\"$EXTRA_CANARY\"}" \
	-H "Authorization: Bearer $agent_auth" -H "x-api-key: $agent_xkey" \
	-H "Cookie: session=$cookie" -H "X-Custom-Token: t-$EXTRA_CANARY" \
	>"$TMP/r3"
for value in "$agent_auth" "$agent_xkey" "$cookie" "$EXTRA_CANARY"; do
	expect_grep "$value" "$TMP/r3"
done

# 4: a gzip request body and a gzip response body, both with secrets.
printf '{"token":"%s"}' "$EXTRA_CANARY" | gzip -c >"$TMP/body.gz"
curl -sS --data-binary @"$TMP/body.gz" -H 'Content-Encoding: gzip' \
	-H 'Content-Type: application/json' "$REC/openai/echo?gzip=1" \
	-o "$TMP/r4.gz"
gzip -dc <"$TMP/r4.gz" | grep -q "Bearer $KEY_CANARY" ||
	fail "the compressed echo does not carry the injected key"

# 5: the same with brotli, both ways.
printf '{"token":"%s"}' "$EXTRA_CANARY" | "$PYTHON" -c 'import brotli, sys
sys.stdout.buffer.write(brotli.compress(sys.stdin.buffer.read()))' \
	>"$TMP/body.br"
curl -sS --data-binary @"$TMP/body.br" -H 'Content-Encoding: br' \
	-H 'Content-Type: application/json' "$REC/openai/echo?br=1" \
	-o "$TMP/r5.br"
"$PYTHON" -c 'import brotli, sys
sys.stdout.buffer.write(brotli.decompress(open(sys.argv[1], "rb").read()))' \
	"$TMP/r5.br" | grep -q "Bearer $KEY_CANARY" ||
	fail "the brotli echo does not carry the injected key"
stop_gateway "$REC_PID"

f=$TMP/rec.jsonl
expect_eq 5 "$($RECORDS count "$f")" "recorded exchanges"
if ! $RECORDS secrets "$f" "$KEY_CANARY" "$EXTRA_CANARY" "$agent_auth" \
	"$agent_xkey" "$cookie" >"$TMP/found"; then
	cat "$TMP/found" >&2
	fail "secrets remain in the record"
fi
for file in "$TMP"/rec.out "$TMP"/rec.err; do
	if grep -q canary- "$file"; then
		fail "a secret reached '$file'"
	fi
done

# The redaction is visible where it happened.
expect_eq '[REDACTED]' "$($RECORDS header "$f" 1 request Authorization)" \
	"redacted Authorization"
expect_eq '[REDACTED]' "$($RECORDS header "$f" 2 request x-api-key)" \
	"redacted x-api-key"
expect_eq '[REDACTED]' "$($RECORDS header "$f" 3 request Cookie)" \
	"redacted Cookie"
expect_eq '[REDACTED]' "$($RECORDS header "$f" 1 response Set-Cookie)" \
	"redacted Set-Cookie"
expect_eq 't-[REDACTED]****************' \
	"$($RECORDS header "$f" 3 request X-Custom-Token)" \
	"masked secret in a custom header"
expect_eq 'key=[REDACTED]****************&x=1' \
	"$($RECORDS field "$f" 3 request.query)" "masked secret in the query"
$RECORDS body "$f" 2 | grep -q 'event: ping' ||
	fail "the masked stream lost its events"
# The compressed responses that held a secret are stored decoded.
decoded=x-runbundle-decoded-content-encoding
expect_eq gzip "$($RECORDS header "$f" 4 response $decoded)" \
	"original coding of the decoded body"
expect_eq br "$($RECORDS header "$f" 5 response $decoded)" \
	"original coding of the decoded brotli body"
