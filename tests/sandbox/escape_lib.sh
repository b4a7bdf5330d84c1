# escape_lib.sh - sourced by the escape tests after lib.sh.
#
# Every attack runs twice when the tests run as root: as root, and as
# the unprivileged test user. $ATTACK is the attack program (attack.c);
# it is copied into each identity's workspace, because the build
# directory is not visible inside the sandbox.
: "${ATTACK:?ATTACK must name the attack program}"

unpriv_setup
if [ "$(id -u)" -eq 0 ]; then
	IDENTITIES="root user"
else
	IDENTITIES="user"
fi

# workspace WHO: the workspace directory of one identity, created with
# the attack program in it.
workspace() {
	ws=$TMP/ws-$1
	if [ ! -d "$ws" ]; then
		mkdir -p "$ws"
		cp "$ATTACK" "$ws/attack"
		chmod 755 "$ws" "$ws/attack"
		if [ "$1" = user ] && [ "$(id -u)" -eq 0 ]; then
			chown -R "$TEST_USER" "$ws"
		fi
	fi
	echo "$ws"
}

# sandbox WHO [OPTION...] -- COMMAND...: runbundle sandbox as WHO, in
# WHO's workspace.
sandbox() {
	who=$1
	shift
	ws=$(workspace "$who")
	if [ "$who" = user ]; then
		(cd "$ws" && as_user "$UNPRIV_RUNBUNDLE" sandbox \
			--workspace "$ws" "$@")
	else
		(cd "$ws" && "$RUNBUNDLE" sandbox --workspace "$ws" "$@")
	fi
}

# policy NAME JSON: write a policy file readable by both identities and
# print its path.
policy() {
	printf '%s\n' "$2" >"$TMP/$1.json"
	chmod 644 "$TMP/$1.json"
	echo "$TMP/$1.json"
}

# blocked WHO ATTACK [ARG...]: the attack runs in the default sandbox
# and reports that it was stopped.
blocked() {
	who=$1
	shift
	expect_status 0 sandbox "$who" -- ./attack "$@"
	expect_grep '^blocked: ' "$TMP/out"
}

# violation PATTERN: runbundle reported a policy violation matching it.
violation() {
	expect_grep "^runbundle: policy violation: .*$1" "$TMP/err"
}

# refused WHO [OPTION...] -- COMMAND...: the command fails inside the
# sandbox (any status but 0 and 125, which means the sandbox failed).
refused() {
	set +e
	sandbox "$@" >"$TMP/out" 2>"$TMP/err"
	got=$?
	set -e
	if [ "$got" = 0 ] || [ "$got" = 125 ]; then
		cat "$TMP/err" >&2
		fail "$*: expected a failure, got exit status $got"
	fi
}

# host_servers NAME: start one host-side server, TCP on an ephemeral
# loopback port and an abstract Unix socket named NAME, both replying
# "hello". Sets $port, and stops the server when the test exits.
host_servers() {
	/usr/bin/python3 -c '
import socket, sys, threading
t = socket.socket(); t.bind(("127.0.0.1", 0)); t.listen(16)
u = socket.socket(socket.AF_UNIX); u.bind("\0" + sys.argv[1]); u.listen(16)
print(t.getsockname()[1], flush=True)
def serve(s):
    while True:
        c, _ = s.accept(); c.sendall(b"hello\n"); c.close()
threading.Thread(target=serve, args=(u,), daemon=True).start()
serve(t)
' "$1" >"$TMP/port" &
	server=$!
	trap 'kill $server 2>/dev/null; cleanup' EXIT
	port=$(wait_port "$TMP/port")
}
