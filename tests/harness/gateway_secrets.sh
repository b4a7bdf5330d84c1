#!/bin/sh
# Secret canaries planted in every place a credential can travel: the
# injected key, credential headers, cookies, other headers, the query,
# request and response bodies, compressed or not, and streams. The
# upstream gets what it needs, the agent never gets the injected key even
# when the upstream echoes it, and the record contains none of them, with
# every body decoded and decompressed.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/harness/gateway_lib.sh"

export KEY_CANARY=canary-injected-key-7f3a91
export EXTRA_CANARY=canary-extra-secret-c04e22
agent_auth=canary-agent-bearer-5d1b07
agent_xkey=canary-agent-xapikey-88e2aa
cookie=canary-cookie-value-13c9fd
# What a 26-character secret becomes, masked.
mask='[REDACTED]****************'

# no_key FILE...: fail when the injected key is in one of the files.
no_key() {
	for _file in "$@"; do
		if grep -q "$KEY_CANARY" "$_file"; then
			fail "the injected key reached the agent in '$_file'"
		fi
	done
}

# has_mask TEXT FILE: fail unless FILE contains TEXT, the mask included.
has_mask() {
	grep -qF -e "$1" "$2" || {
		cat "$2" >&2
		fail "'$2' does not hold '$1'"
	}
}

# sent_encoding FILE: the Accept-Encoding that the echo in FILE got.
sent_encoding() {
	jq -r '.headers[] | select(.[0] | ascii_downcase ==
		"accept-encoding") | .[1]' "$1"
}

start_upstream
start_gateway rec --upstream openai="$UPSTREAM/v1" --auth openai=KEY_CANARY \
	--upstream anthropic="$UPSTREAM/v1" \
	--auth anthropic=KEY_CANARY:x-api-key \
	--upstream plain="$UPSTREAM" --redact-env EXTRA_CANARY \
	--upstream keyed="$UPSTREAM" --auth keyed=KEY_CANARY
REC=$GATEWAY REC_PID=$GATEWAY_PID

# 1: the agent's placeholder is replaced by the injected key, which the
# upstream echoes in the body and in Set-Cookie. The agent gets both
# masked; the hash beside them shows what the upstream got.
post "$REC/openai/chat/completions" '{"model":"m"}' -D "$TMP/h1" \
	-H 'Authorization: Bearer placeholder-key' -H 'x-test-echo: 1' \
	>"$TMP/r1"
expect_eq "$(printf 'Bearer %s' "$KEY_CANARY" | sha256sum | cut -d' ' -f1)" \
	"$(jq -r .auth_sha256 "$TMP/r1")" "hash of what the upstream got"
has_mask "Bearer $mask" "$TMP/r1"
has_mask "session=Bearer $mask" "$TMP/h1"
no_key "$TMP/r1" "$TMP/h1"

# 2: the same in x-api-key, streamed.
post "$REC/anthropic/messages" '{"model":"m","stream":true}' \
	-H 'x-api-key: placeholder-key' -H 'x-test-echo: 1' >"$TMP/r2"
has_mask "m $mask" "$TMP/r2"
expect_grep 'event: message_stop' "$TMP/r2"
no_key "$TMP/r2"

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
# The upstream was asked for identity and compressed anyway, so the
# agent gets the body decoded, with the key masked.
printf '{"token":"%s"}' "$EXTRA_CANARY" | gzip -c >"$TMP/body.gz"
curl -sS --data-binary @"$TMP/body.gz" -H 'Content-Encoding: gzip' \
	-H 'Accept-Encoding: gzip, br' -D "$TMP/h4" \
	-H 'Content-Type: application/json' "$REC/openai/echo?gzip=1" \
	-o "$TMP/r4"
has_mask "Bearer $mask" "$TMP/r4"
expect_eq identity "$(sent_encoding "$TMP/r4")" "Accept-Encoding sent"
if grep -qi '^content-encoding' "$TMP/h4"; then
	fail "the decoded body still claims a Content-Encoding"
fi
no_key "$TMP/r4" "$TMP/h4"

# 5: the same with brotli, both ways.
printf '{"token":"%s"}' "$EXTRA_CANARY" | "$PYTHON" -c 'import brotli, sys
sys.stdout.buffer.write(brotli.compress(sys.stdin.buffer.read()))' \
	>"$TMP/body.br"
curl -sS --data-binary @"$TMP/body.br" -H 'Content-Encoding: br' \
	-H 'Content-Type: application/json' "$REC/openai/echo?br=1" \
	-o "$TMP/r5"
has_mask "Bearer $mask" "$TMP/r5"
no_key "$TMP/r5"

# 6: the key split between two pieces of the body, 100 ms apart.
post "$REC/openai/chat/completions" '{"model":"m"}' -H 'x-test-echo: 1' \
	-H 'Authorization: Bearer placeholder-key' -H 'x-test-split: 1' \
	>"$TMP/r6"
has_mask "Bearer $mask" "$TMP/r6"
no_key "$TMP/r6"

# 7: a compressed body without the key reaches the agent as sent.
curl -sS -D "$TMP/h7" "$REC/keyed/gzip" -o "$TMP/r7.gz"
curl -sS "$UPSTREAM/gzip" -o "$TMP/direct7.gz"
cmp -s "$TMP/r7.gz" "$TMP/direct7.gz" ||
	fail "a compressed body without the key was changed"
grep -qi '^content-encoding: gzip' "$TMP/h7" ||
	fail "a compressed body without the key lost its Content-Encoding"

# 8: a body that claims gzip and is not could hide the key, so the agent
# gets a 502 instead. Where no key is injected, it goes through.
code=$(curl -sS -o "$TMP/r8" -w '%{http_code}' "$REC/keyed/bad-coding")
expect_eq 502 "$code" "status of an undecodable body"
expect_eq upstream_body_unchecked "$(jq -r .error.code "$TMP/r8")" \
	"code of an undecodable body"
expect_eq keyed "$(jq -r .error.details.upstream "$TMP/r8")" \
	"upstream named in the 502"
code=$(curl -sS -o "$TMP/r9" -w '%{http_code}' "$REC/plain/bad-coding")
expect_eq 200 "$code" "status of an undecodable body without a key"
expect_eq 'this is not gzip' "$(cat "$TMP/r9")" "body passed as sent"

# 9: the agent cannot ask a keyed upstream for ranges, which would cut
# an echo of the key into pieces that are masked nowhere.
curl -sS -H 'Range: bytes=0-20' -H 'If-Range: "x"' "$REC/keyed/echo" \
	>"$TMP/r10"
expect_eq 0 "$(jq '[.headers[] | select(.[0] | ascii_downcase |
	test("^(if-)?range$"))] | length' "$TMP/r10")" \
	"range headers that reached a keyed upstream"

# 10: a HEAD request for a compressed body has no body to check.
curl -sS -I "$REC/keyed/gzip" >"$TMP/h10"
expect_grep '^HTTP/1.1 200' "$TMP/h10"

# 11: a secret in the path, where some APIs take a token, and the
# agent's credential there too.
post "$REC/plain/bot$EXTRA_CANARY/$agent_auth/x" '{}' \
	-H "Authorization: Bearer $agent_auth" >/dev/null
stop_gateway "$REC_PID"

f=$TMP/rec.jsonl
expect_eq 12 "$($RECORDS count "$f")" "recorded exchanges"
expect_eq upstream-failed "$($RECORDS field "$f" 8 outcome)" \
	"outcome of the body that was not relayed"
expect_eq 502 "$($RECORDS field "$f" 8 response.status)" \
	"recorded status of the body that was not relayed"
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
expect_eq "/plain/bot$mask/[REDACTED]****************/x" \
	"$($RECORDS field "$f" 12 request.path)" "masked secrets in the path"
$RECORDS body "$f" 2 | grep -q 'event: ping' ||
	fail "the masked stream lost its events"
# The compressed responses that held a secret are stored decoded.
decoded=x-runbundle-decoded-content-encoding
expect_eq gzip "$($RECORDS header "$f" 4 response $decoded)" \
	"original coding of the decoded body"
expect_eq br "$($RECORDS header "$f" 5 response $decoded)" \
	"original coding of the decoded brotli body"
