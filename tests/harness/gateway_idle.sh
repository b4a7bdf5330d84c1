#!/bin/sh
# Idle and half-sent agent connections. The gateway keeps serving while
# 1,100 of them are open, more than select() and libmicrohttpd's default
# limit allow. It closes them after --agent-timeout, but never counts
# the time it waits for an upstream as silence of the agent.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/harness/gateway_lib.sh"

IDLE=1100

# The gateway inherits the limit, and 1,100 connections need about as
# many descriptors in the gateway and in the client below.
ulimit -n 8192 2>/dev/null || ulimit -n 4096 2>/dev/null ||
	skip "cannot raise the open file limit to 4096"

start_upstream
start_gateway idle --upstream test="$UPSTREAM"
port=${GATEWAY##*:}

# Open IDLE connections that each send half a request head, then send a
# whole request on a new one. Outputs the status of that request and how
# many of the idle connections the gateway had closed by then.
"$PYTHON" - "$port" "$IDLE" >"$TMP/crowd.out" <<'PY'
import select, socket, sys
port, count = int(sys.argv[1]), int(sys.argv[2])
idle = []
for i in range(count):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Le")
    idle.append(s)
s = socket.create_connection(("127.0.0.1", port))
s.settimeout(30)
s.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
data = b""
try:
    while True:
        more = s.recv(65536)
        if not more:
            break
        data += more
except ConnectionResetError:
    pass
line = data.split(b"\r\n")[0].decode("latin-1")
print(line.split(" ")[1] if line.startswith("HTTP/1.1 ") else "closed")
poller = select.poll()
for c in idle:
    poller.register(c, select.POLLIN)
closed = sum(1 for fd, ev in poller.poll(0) if ev)
print(closed)
PY
expect_eq 200 "$(sed -n 1p "$TMP/crowd.out")" \
	"status of a request beside $IDLE idle connections"
expect_eq 0 "$(sed -n 2p "$TMP/crowd.out")" \
	"idle connections closed before the request was served"
stop_gateway "$GATEWAY_PID"

start_gateway short --upstream test="$UPSTREAM" --agent-timeout 1000
port=${GATEWAY##*:}

# A half-sent request head is closed once the agent is silent for the
# timeout. The client waits up to 60 s, for a loaded machine.
"$PYTHON" - "$port" >"$TMP/half.out" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(60)
s.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\nX-A: b")
try:
    print("closed" if s.recv(65536) == b"" else "answered")
except socket.timeout:
    print("open")
except ConnectionResetError:
    print("closed")
PY
expect_eq closed "$(cat "$TMP/half.out")" "half-sent request after the timeout"

# An upstream that pauses longer than the agent timeout, before its
# response head and between events, is relayed whole: the wait for the
# upstream is not silence of the agent.
curl -sS -N -o "$TMP/slow.out" -w '%{http_code}' \
	"$GATEWAY/slow?events=3&delay_ms=2500&head_delay_ms=2500" \
	>"$TMP/slow.code"
expect_eq 200 "$(cat "$TMP/slow.code")" "status of a slow stream"
expect_eq 3 "$(grep -c '^data: ' "$TMP/slow.out")" \
	"events of a slow stream"

# An agent that stops reading a response is closed after the timeout
# too, long before the 50 MB body is through, and the record names the
# timeout. The client closes after 5 s, which would be recorded with
# another failure text.
"$PYTHON" - "$port" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /binary?size=50000000 HTTP/1.1\r\nHost: x\r\n\r\n")
time.sleep(5)
s.close()
PY

stop_gateway "$GATEWAY_PID"
expect_grep '"failure":"the agent was silent for longer than --agent-timeout' \
	"$TMP/short.jsonl"
