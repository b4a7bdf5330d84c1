#!/bin/sh
# Bodies of every kind: compressed ones stored as sent, chunked request
# bodies, HEAD and empty bodies, binary bytes, a 50 MiB body, an empty
# header value and one that is not UTF-8, each the same through the
# gateway, in the record and on replay.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/harness/gateway_lib.sh"

start_upstream
start_gateway rec --upstream test="$UPSTREAM"
REC=$GATEWAY REC_PID=$GATEWAY_PID

# 1, 2: compressed bodies pass through and are stored compressed.
for coding in gzip br; do
	curl -sS "$UPSTREAM/$coding" -o "$TMP/direct.$coding"
	curl -sS -D "$TMP/head.$coding" "$REC/$coding" -o "$TMP/gw.$coding"
	cmp "$TMP/direct.$coding" "$TMP/gw.$coding" ||
		fail "the $coding body was changed on the way"
	grep -qi "^content-encoding: $coding" "$TMP/head.$coding" ||
		fail "the agent did not get Content-Encoding: $coding"
done
wait_records "$TMP/rec.jsonl" 2
$RECORDS body "$TMP/rec.jsonl" 1 | cmp - "$TMP/direct.gzip" ||
	fail "the stored gzip body is not the compressed bytes"
$RECORDS body "$TMP/rec.jsonl" 2 | cmp - "$TMP/direct.br" ||
	fail "the stored brotli body is not the compressed bytes"
"$PYTHON" -c 'import brotli, sys; sys.stdout.buffer.write(
	brotli.decompress(open(sys.argv[1], "rb").read()))' "$TMP/gw.br" |
	grep -q '"coding": "br"' || fail "the brotli body does not decode"

# 3: a chunked request body arrives whole.
head -c 300000 /dev/urandom >"$TMP/upload.bin"
curl -sS -H 'Transfer-Encoding: chunked' --data-binary @"$TMP/upload.bin" \
	"$REC/echo" >"$TMP/echo.json"
sum=$(sha256sum <"$TMP/upload.bin" | cut -d' ' -f1)
expect_grep "\"body_sha256\": \"$sum\"" "$TMP/echo.json"
$RECORDS request-body "$TMP/rec.jsonl" 3 | cmp - "$TMP/upload.bin" ||
	fail "the stored chunked request body differs"

# 4, 5, 6: HEAD, an empty 200 and a 204.
curl -sS -I "$REC/binary?size=1000" >"$TMP/head.txt"
expect_grep '^Content-Length: 1000' "$TMP/head.txt"
expect_eq HEAD "$($RECORDS field "$TMP/rec.jsonl" 4 request.method)" \
	"HEAD method"
expect_eq "" "$($RECORDS chunks "$TMP/rec.jsonl" 4)" "HEAD body chunks"
expect_eq complete "$($RECORDS field "$TMP/rec.jsonl" 4 outcome)" \
	"HEAD outcome"
expect_eq 0 "$(curl -sS "$REC/empty" | wc -c)" "empty body length"
expect_eq 204 "$(curl -sS -o /dev/null -w '%{http_code}' "$REC/no-content")" \
	"no-content status"

# 7: binary bytes, all 256 values.
curl -sS "$UPSTREAM/binary?size=70000" -o "$TMP/direct.bin"
curl -sS "$REC/binary?size=70000" -o "$TMP/gw.bin"
cmp "$TMP/direct.bin" "$TMP/gw.bin" || fail "the binary body was changed"
expect_eq "size=70000" "$($RECORDS field "$TMP/rec.jsonl" 7 request.query)" \
	"recorded query"

# 8: 50 MiB.
big=$((50 * 1024 * 1024))
curl -sS "$REC/binary?size=$big" -o "$TMP/gw.big"
expect_eq "$big" "$(wc -c <"$TMP/gw.big")" "50 MiB body length"
"$PYTHON" -c 'import sys
p = bytes(range(256)); n = int(sys.argv[2])
sys.exit(open(sys.argv[1], "rb").read() != (p * (n // 256 + 1))[:n])' \
	"$TMP/gw.big" "$big" || fail "the 50 MiB body differs"

# 9: a header with an empty value, which is valid, reaches the agent
# and the record empty.
curl -sS -D "$TMP/head.empty" "$REC/empty-header" -o "$TMP/gw.empty" ||
	fail "the response with an empty header did not arrive"
expect_eq ok "$(cat "$TMP/gw.empty")" "body beside an empty header"
expect_grep '^X-Empty: *.$' "$TMP/head.empty"

# 10: a header value that is not UTF-8 keeps its bytes, and the record
# stays JSON that a strict parser reads.
curl -sS -D "$TMP/head.raw" "$REC/raw-header" -o /dev/null ||
	fail "the response with a header that is not UTF-8 did not arrive"
printf 'X-Raw: a\377\376b\r\n' >"$TMP/raw.line"
grep -a '^X-Raw' "$TMP/head.raw" | cmp - "$TMP/raw.line" ||
	fail "the header that is not UTF-8 reached the agent changed"
stop_gateway "$REC_PID"
"$PYTHON" -c 'import json, sys
for line in open(sys.argv[1], "rb"):
    json.loads(line.decode("utf-8"))' "$TMP/rec.jsonl" ||
	fail "the record is not strict UTF-8 JSON"
expect_eq '{"base64": "Yf/+Yg=="}' \
	"$($RECORDS field "$TMP/rec.jsonl" 10 response.headers | "$PYTHON" -c \
	'import json, sys
print(json.dumps(dict(json.load(sys.stdin)).get("X-Raw")))')" \
	"recorded header value that is not UTF-8"
expect_eq '""' \
	"$($RECORDS field "$TMP/rec.jsonl" 9 response.headers | "$PYTHON" -c \
	'import json, sys
print(json.dumps(dict(json.load(sys.stdin)).get("X-Empty")))')" \
	"recorded empty header value"
expect_eq 10 "$($RECORDS count "$TMP/rec.jsonl")" "recorded exchanges"
for seq in 1 2 3 4 5 6 7 8 9 10; do
	expect_eq complete "$($RECORDS field "$TMP/rec.jsonl" $seq outcome)" \
		"outcome of exchange $seq"
done

# Replay serves every body the same, the 50 MiB one included.
start_gateway replay --replay "$TMP/rec.jsonl" --timing fast
curl -sS "$GATEWAY/gzip" -o "$TMP/replay.gzip"
cmp "$TMP/direct.gzip" "$TMP/replay.gzip" || fail "replayed gzip differs"
curl -sS -D "$TMP/rhead.br" "$GATEWAY/br" -o "$TMP/replay.br"
cmp "$TMP/direct.br" "$TMP/replay.br" || fail "replayed brotli differs"
grep -qi '^content-encoding: br' "$TMP/rhead.br" ||
	fail "the replayed brotli body lost its Content-Encoding"
curl -sS -H 'Transfer-Encoding: chunked' --data-binary @"$TMP/upload.bin" \
	"$GATEWAY/echo" >"$TMP/replay.echo"
cmp "$TMP/echo.json" "$TMP/replay.echo" || fail "replayed echo differs"
curl -sS -I "$GATEWAY/binary?size=1000" >"$TMP/rhead.txt"
expect_grep '^Content-Length: 1000' "$TMP/rhead.txt"
expect_eq 0 "$(curl -sS "$GATEWAY/empty" | wc -c)" "replayed empty body"
expect_eq 204 \
	"$(curl -sS -o /dev/null -w '%{http_code}' "$GATEWAY/no-content")" \
	"replayed no-content status"
curl -sS "$GATEWAY/binary?size=70000" -o "$TMP/replay.bin"
cmp "$TMP/direct.bin" "$TMP/replay.bin" || fail "replayed binary differs"
curl -sS "$GATEWAY/binary?size=$big" -o "$TMP/replay.big"
cmp "$TMP/gw.big" "$TMP/replay.big" || fail "replayed 50 MiB body differs"
curl -sS -D "$TMP/rhead.empty" "$GATEWAY/empty-header" \
	-o "$TMP/replay.empty" ||
	fail "the replayed response with an empty header did not arrive"
expect_eq ok "$(cat "$TMP/replay.empty")" \
	"replayed body beside an empty header"
expect_grep '^X-Empty: *.$' "$TMP/rhead.empty"
curl -sS -D "$TMP/rhead.raw" "$GATEWAY/raw-header" -o /dev/null
grep -a '^X-Raw' "$TMP/rhead.raw" | cmp - "$TMP/raw.line" ||
	fail "the replayed header that is not UTF-8 changed"
stop_gateway "$GATEWAY_PID"
