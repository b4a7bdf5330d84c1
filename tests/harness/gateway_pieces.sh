#!/bin/sh
# A streamed body reaches the agent in the same pieces live and in a
# replay: one HTTP chunk for each piece that the exchange records, even
# when several arrived at once, and the end of the body when it came.
# The head of a response comes when it came too.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/harness/gateway_lib.sh"

# Two events in one segment, which libcurl hands over as two pieces,
# then the end of the stream 400 ms after the last event.
head='HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n'
head="${head}Transfer-Encoding: chunked\r\n\r\n"
ev() { printf 'f\\r\\ndata: {\\"%s\\":1}\\n\\n\\r\\n' "$1"; }
cat >"$TMP/paced.json" <<JSON
{"/v1/slow": [500, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"],
 "*": ["$head", 20, "$(ev a)", 40, "$(ev b)$(ev c)", 40,
       "e\r\ndata: [DONE]\n\n\r\n", 400, "0\r\n\r\n"]}
JSON
"$PYTHON" "$TESTS_DIR/harness/paced_upstream.py" "$TMP/paced.port" \
	"$TMP/paced.json" 2>"$TMP/paced.err" &
SERVER_PIDS="$SERVER_PIDS $!"
PACED=http://127.0.0.1:$(wait_port "$TMP/paced.port")

# agent URL: print the size of each HTTP chunk of the response, then the
# milliseconds between the last piece of data and the end of the body.
agent() {
	"$PYTHON" - "$1" <<'PY' || fail "the agent could not read $1"
import socket, sys, time, urllib.parse
url = urllib.parse.urlsplit(sys.argv[1])
s = socket.create_connection((url.hostname, url.port))
s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
          b"Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
data, now = b"", 0
def more():
    global data, now
    chunk = s.recv(65536)
    if not chunk:
        sys.exit("the connection closed early")
    data += chunk
    now = time.monotonic()
while b"\r\n\r\n" not in data:
    more()
data = data.split(b"\r\n\r\n", 1)[1]
sizes, last = [], now
while True:
    while b"\r\n" not in data:
        more()
    line, data = data.split(b"\r\n", 1)
    size = int(line, 16)
    if size == 0:
        break
    while len(data) < size + 2:
        more()
    sizes.append(size)
    last = now
    data = data[size + 2:]
while not data.endswith(b"\r\n"):
    more()
print(",".join(map(str, sizes)))
print(int((now - last) * 1000))
PY
}

# first_byte URL: print the milliseconds until the head of the response
# to a request for URL came.
first_byte() {
	post "$1" '{}' -o /dev/null -w '%{time_starttransfer}\n' |
		awk '{ printf "%d\n", $1 * 1000 }'
}

start_gateway rec --upstream paced="$PACED"
agent "$GATEWAY" >"$TMP/live.out"
[ "$(first_byte "$GATEWAY/v1/slow")" -ge 400 ] ||
	fail "the live head came before the upstream sent it"
wait_records "$TMP/rec.jsonl" 2
stop_gateway "$GATEWAY_PID"
expect_eq "15,15,15,14" "$(sed -n 1p "$TMP/live.out")" \
	"HTTP chunks of the live stream"
expect_eq "15,15,15,14" "$($RECORDS chunks "$TMP/rec.jsonl" 1)" \
	"recorded chunks"
[ "$(sed -n 2p "$TMP/live.out")" -ge 300 ] ||
	fail "the live stream ended with its last event"

start_gateway play --replay "$TMP/rec.jsonl"
agent "$GATEWAY" >"$TMP/replay.out"
expect_eq "15,15,15,14" "$(sed -n 1p "$TMP/replay.out")" \
	"HTTP chunks of the replayed stream"
[ "$(sed -n 2p "$TMP/replay.out")" -ge 300 ] ||
	fail "the replayed stream ended with its last event, not when" \
		"the recorded one ended"
[ "$(first_byte "$GATEWAY/v1/slow")" -ge 400 ] ||
	fail "the replayed head came before its recorded time"
stop_gateway "$GATEWAY_PID"

# Fast timing ends it at once.
start_gateway fast --replay "$TMP/rec.jsonl" --timing fast
agent "$GATEWAY" >"$TMP/fast.out"
stop_gateway "$GATEWAY_PID"
[ "$(sed -n 2p "$TMP/fast.out")" -lt 300 ] ||
	fail "the fast replay waited for the recorded end"
