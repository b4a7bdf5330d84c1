#!/bin/sh
# gateway --listen-fd: a listening TCP socket is served and its real
# address printed; anything else fails before serving, naming the fd.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/harness/gateway_lib.sh"

printf '{"turns": [{"text": "served"}]}\n' >"$TMP/script.json"

# with_socket KIND COMMAND...: run the command with fd 5 open on a
# socket of KIND (listening, bound, udp, unix) that python3 makes. It
# execs the command, so that $! of "with_socket ... &" is the command.
cat >"$TMP/with_socket.py" <<'PY'
import os, socket, sys
kind, argv = sys.argv[1], sys.argv[2:]
if kind == "unix":
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(os.path.join(os.path.dirname(sys.argv[0]), "sock"))
    s.listen(4)
elif kind == "udp":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    if kind == "listening":
        s.listen(4)
os.dup2(s.fileno(), 5)
os.execvp(argv[0], argv)
PY
with_socket="$PYTHON $TMP/with_socket.py"

# rejected WHY COMMAND...: exit status 3 before serving, with the fd and
# the reason in the message and a hint. SIGKILL ends a gateway that
# serves instead, which then fails on its status.
rejected() {
	_why=$1
	shift
	expect_status 3 timeout -s KILL 20 "$@"
	expect_grep "^runbundle: invalid listen socket: 'fd [0-9]*': $_why\$" \
		"$TMP/err"
	expect_grep '^hint: pass the number of an open TCP socket' "$TMP/err"
	if grep -q 'listening on' "$TMP/out"; then
		fail "$*: claimed to listen"
	fi
}
exec 7>&-
rejected 'Bad file descriptor' \
	"$RUNBUNDLE" gateway --listen-fd 7 --model-script "$TMP/script.json"
rejected 'not a socket' "$RUNBUNDLE" gateway --listen-fd 0 \
	--model-script "$TMP/script.json" </dev/null
rejected 'not a socket' "$RUNBUNDLE" gateway --listen-fd 6 \
	--model-script "$TMP/script.json" 6>"$TMP/file"
rejected 'not a listening socket' $with_socket bound \
	"$RUNBUNDLE" gateway --listen-fd 5 --model-script "$TMP/script.json"
rejected 'not a stream socket' $with_socket udp \
	"$RUNBUNDLE" gateway --listen-fd 5 --model-script "$TMP/script.json"
rejected 'not an IPv4 or IPv6 socket' $with_socket unix \
	"$RUNBUNDLE" gateway --listen-fd 5 --model-script "$TMP/script.json"

# A listening socket is served, and the port printed is its own.
$with_socket listening "$RUNBUNDLE" gateway --listen-fd 5 \
	--port-file "$TMP/port" --model-script "$TMP/script.json" \
	>"$TMP/gw.out" 2>"$TMP/gw.err" &
pid=$!
SERVER_PIDS="$SERVER_PIDS $pid"
port=$(wait_port "$TMP/port")
expect_grep "^gateway: listening on http://127.0.0.1:$port\$" "$TMP/gw.out"
post "http://127.0.0.1:$port/v1/chat/completions" \
	'{"model":"m","messages":[]}' >"$TMP/reply"
expect_grep '"content":"served"' "$TMP/reply"
stop_gateway "$pid"
