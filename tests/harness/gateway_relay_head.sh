#!/bin/sh
# The agent gets the response head that the exchange records. A 304
# keeps the upstream's Content-Length, the length a 200 would have had
# (RFC 9110, section 8.6), or has none. A header value with a control
# byte other than HTAB, which RFC 9110, section 5.5, lets a proxy
# reject, gets a 502 that the exchange records in its place.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/harness/gateway_lib.sh"

# An upstream that sends fixed bytes for each path.
ok='HTTP/1.1 200 OK\r\n'
nm='HTTP/1.1 304 Not Modified\r\nETag: \"e\"\r\n'
nc='HTTP/1.1 204 No Content\r\n'
cat >"$TMP/raw.json" <<JSON
{"/304": "${nm}Content-Length: 2\r\n\r\n",
 "/304-list": "${nm}Content-Length: 2, 2\r\n\r\n",
 "/304-twice": "${nm}Content-Length: 2\r\nContent-Length: 2\r\n\r\n",
 "/204": "${nc}Content-Length: 0\r\nX-A: 1\r\nContent-Length: 0\r\n\r\n",
 "/304-bare": "$nm\r\n",
 "/304-chunked": "${nm}Transfer-Encoding: chunked\r\n\r\n",
 "/soh": "${ok}X-A: a\u0001b\r\nContent-Length: 2\r\n\r\n{}",
 "/del": "${ok}X-A: a\u007fb\r\nContent-Length: 2\r\n\r\n{}",
 "/tab": "${ok}X-A: a\tb\r\nContent-Length: 2\r\n\r\n{}",
 "*": "${ok}Content-Length: 2\r\n\r\n{}"}
JSON
"$PYTHON" "$TESTS_DIR/harness/raw_upstream.py" "$TMP/raw.port" \
	"$TMP/raw.json" 2>"$TMP/raw.err" &
SERVER_PIDS="$SERVER_PIDS $!"
RAW=http://127.0.0.1:$(wait_port "$TMP/raw.port")

# get NAME URL...: fetch the URLs on one connection. The head of the
# first response goes to $TMP/NAME.head without its CRs, and the status
# of each response to $TMP/NAME.codes.
get() {
	_get_name=$1
	shift
	curl -sS -D "$TMP/$_get_name.raw" -o "$TMP/$_get_name.body" \
		-w '%{http_code}\n' "$@" >"$TMP/$_get_name.codes" ||
		fail "$_get_name: the agent got no response"
	tr -d '\r' <"$TMP/$_get_name.raw" | sed '/^$/q' >"$TMP/$_get_name.head"
}

# has_no NAME HEADER: fail when the head of $TMP/NAME.head has HEADER.
has_no() {
	! grep -qi "^$2:" "$TMP/$1.head" || {
		cat "$TMP/$1.head" >&2
		fail "$1: the agent got a $2 header"
	}
}

start_gateway rec --upstream raw="$RAW"
REC=$GATEWAY REC_PID=$GATEWAY_PID
f=$TMP/rec.jsonl

# 1, 2: the 304's Content-Length reaches the agent, and the connection
# still serves the next request.
get 304 "$REC/304" -o /dev/null "$REC/next"
expect_eq "304 200" "$(tr '\n' ' ' <"$TMP/304.codes" | sed 's/ $//')" \
	"statuses on one connection"
expect_grep '^Content-Length: 2$' "$TMP/304.head"
expect_grep '^ETag: "e"$' "$TMP/304.head"
# 3: a 304 without one gets none, nor a Transfer-Encoding.
get bare "$REC/304-bare"
has_no bare Content-Length
has_no bare Transfer-Encoding
# 4: nor does one that came with Transfer-Encoding get a length.
get chunked "$REC/304-chunked"
has_no chunked Content-Length
expect_grep '^Transfer-Encoding: chunked$' "$TMP/chunked.head"

# 5, 6: a control byte in a value gets a 502; 7: a tab does not.
for path in soh del; do
	get "$path" "$REC/$path"
	expect_eq 502 "$(cat "$TMP/$path.codes")" "status for $path"
	expect_grep '"code":"upstream_header_invalid"' "$TMP/$path.body"
	expect_grep \
	    "cannot be relayed: 'X-A': its value has a control byte other than" \
	    "$TMP/$path.body"
done
get tab "$REC/tab"
expect_eq 200 "$(cat "$TMP/tab.codes")" "status for a tab in a value"
expect_grep "$(printf '^X-A: a\tb$')" "$TMP/tab.head"
# 8 to 11: a 304 whose lengths are one number in a list or in two
# fields gets that number once, and keeps its connection.
for path in 304-list 304-twice; do
	get "$path" "$REC/$path" -o /dev/null "$REC/next"
	expect_eq "304 200" "$(tr '\n' ' ' <"$TMP/$path.codes" | sed 's/ $//')" \
		"statuses of $path on one connection"
	expect_eq "Content-Length: 2" "$(grep -i '^Content-Length:' \
		"$TMP/$path.head")" "Content-Length of $path"
done
# 12, 13: a 204 gets its Content-Length fields as the upstream sent
# them, and keeps its connection.
get 204 "$REC/204" -o /dev/null "$REC/next"
expect_eq "204 200" "$(tr '\n' ' ' <"$TMP/204.codes" | sed 's/ $//')" \
	"statuses of a 204 on one connection"
expect_eq "Content-Length: 0|X-A: 1|Content-Length: 0" \
	"$(grep -v '^HTTP/\|^Date:\|^$' "$TMP/204.head" | tr '\n' '|' |
		sed 's/|$//')" "head of the 204"
wait_records "$f" 13
stop_gateway "$REC_PID"

expect_eq 2 "$($RECORDS header "$f" 1 response Content-Length)" \
	"recorded Content-Length of the 304"
expect_eq "" "$($RECORDS header "$f" 3 response Content-Length)" \
	"recorded Content-Length of the 304 without one"
for seq in 5 6; do
	expect_eq 502 "$($RECORDS field "$f" $seq response.status)" \
		"recorded status of exchange $seq"
	expect_eq upstream-failed "$($RECORDS field "$f" $seq outcome)" \
		"outcome of exchange $seq"
done
$RECORDS body "$f" 5 >"$TMP/recorded.json"
cmp -s "$TMP/recorded.json" "$TMP/soh.body" ||
	fail "the record holds another body than the agent got"

# 8, 9: the replay serves the recorded 304s alike.
start_gateway replay --replay "$f" --timing fast
get replayed "$GATEWAY/304"
expect_eq 304 "$(cat "$TMP/replayed.codes")" "replayed status"
expect_grep '^Content-Length: 2$' "$TMP/replayed.head"
get replayed-bare "$GATEWAY/304-bare"
has_no replayed-bare Content-Length
get replayed-list "$GATEWAY/304-list"
expect_grep '^Content-Length: 2$' "$TMP/replayed-list.head"
get replayed-204 "$GATEWAY/204"
expect_eq 2 "$(grep -c '^Content-Length: 0$' "$TMP/replayed-204.head")" \
	"Content-Length fields of the replayed 204"
stop_gateway "$GATEWAY_PID"
