#!/bin/sh
# A response head that the gateway cannot relay as it came gets a 502
# with the reason, and the exchange records that 502: a header name
# that libmicrohttpd will not send, Content-Length values that differ,
# and a 101 that no final response follows. The replay serves the same
# 502.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/harness/gateway_lib.sh"

# An upstream that sends fixed bytes for each path. The lengths that
# differ announce one byte less than the body has.
ok='HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n'
cl='Content-Length:'
cat >"$TMP/raw.json" <<JSON
{"/space-name": "${ok}X Y: v\r\n$cl 2\r\n\r\n{}",
 "/space-before-colon": "${ok}X-A : v\r\n$cl 2\r\n\r\n{}",
 "/empty-name": "${ok}: v\r\n$cl 2\r\n\r\n{}",
 "/two-lengths": "${ok}$cl 2\r\n$cl 3\r\n\r\n{}x",
 "/length-list": "${ok}$cl 2, 3\r\n\r\n{}x",
 "/same-length": "${ok}$cl 3\r\n$cl 3\r\n\r\n{}x",
 "/switching": "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\nraw",
 "*": "${ok}$cl 2\r\n\r\n{}"}
JSON
"$PYTHON" "$TESTS_DIR/harness/raw_upstream.py" "$TMP/raw.port" \
	"$TMP/raw.json" --close 2>"$TMP/raw.err" &
SERVER_PIDS="$SERVER_PIDS $!"
RAW=http://127.0.0.1:$(wait_port "$TMP/raw.port")

start_gateway rec --upstream raw="$RAW"
REC=$GATEWAY REC_PID=$GATEWAY_PID

# 1, 2, 3: a name with a space, or empty, would make libmicrohttpd
# drop the response and close the connection.
n=0
for path in space-name space-before-colon empty-name; do
	n=$((n + 1))
	code=$(curl -sS -o "$TMP/$path.json" -w '%{http_code}' "$REC/$path") ||
		fail "$path: the agent got no response"
	expect_eq 502 "$code" "status for $path"
	expect_grep '"code":"upstream_header_invalid"' "$TMP/$path.json"
	expect_grep '"upstream":"raw"' "$TMP/$path.json"
done
expect_grep "cannot be relayed: 'X Y'" "$TMP/space-name.json"
# 4: the gateway goes on serving.
code=$(curl -sS -o /dev/null -w '%{http_code}' "$REC/fine")
expect_eq 200 "$code" "status after the invalid heads"

# 5, 6: two lengths, in two fields or in one, would give the agent and
# the record bodies of different lengths.
for path in two-lengths length-list; do
	code=$(curl -sS -o "$TMP/$path.json" -w '%{http_code}' "$REC/$path")
	expect_eq 502 "$code" "status for $path"
	expect_grep '"code":"upstream_framing_invalid"' "$TMP/$path.json"
done
# 7: the same length twice is one length.
curl -sS -o "$TMP/same-length.out" "$REC/same-length"
expect_eq '{}x' "$(cat "$TMP/same-length.out")" "body with the same length"
# 8: a 101 gets a 502, and the bytes after the 101, which libcurl hands
# over as body, go neither to the agent nor into the record.
code=$(curl -sS -o "$TMP/switching.json" -w '%{http_code}' "$REC/switching")
expect_eq 502 "$code" "status for a 101"
expect_grep '"code":"upstream_switched_protocols"' "$TMP/switching.json"
stop_gateway "$REC_PID"

f=$TMP/rec.jsonl
for seq in 1 2 3 5 6; do
	expect_eq upstream-failed "$($RECORDS field "$f" $seq outcome)" \
		"outcome of exchange $seq"
	expect_eq 502 "$($RECORDS field "$f" $seq response.status)" \
		"recorded status of exchange $seq"
done
$RECORDS body "$f" 1 >"$TMP/recorded.json"
cmp -s "$TMP/recorded.json" "$TMP/space-name.json" ||
	fail "the record holds another body than the agent got"
$RECORDS body "$f" 8 >"$TMP/recorded-101.json"
cmp -s "$TMP/recorded-101.json" "$TMP/switching.json" ||
	fail "the record of the 101 holds another body than the agent got"

# The replay serves the recorded 502, with the Content-Length that the
# agent got live.
start_gateway replay --replay "$f" --timing fast
code=$(curl -sS -D "$TMP/replayed.head" -o "$TMP/replayed.json" \
	-w '%{http_code}' "$GATEWAY/space-name")
expect_eq 502 "$code" "replayed status"
expect_grep "^Content-Length: $(wc -c <"$TMP/space-name.json")" \
	"$TMP/replayed.head"
cmp -s "$TMP/replayed.json" "$TMP/space-name.json" ||
	fail "the replay served another body than the agent got"
