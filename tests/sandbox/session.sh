#!/bin/sh
# The agent's session: with no controlling terminal to protect, init
# keeps the caller's session; under a terminal, it starts a new one.
# Either way the agent has no controlling terminal. As root and as the
# test user.
. "$TESTS_DIR/lib.sh"
ATTACK=/bin/true
. "$TESTS_DIR/sandbox/escape_lib.sh"

# In the agent: whether /dev/tty opens, and the session id from
# /proc/self/stat, which is 0 for a session whose leader lies outside
# the sandbox's PID namespace.
PROBE='if (exec 3</dev/tty) 2>/dev/null; then echo tty=yes; else echo tty=no; fi
sed "s/^.*) //" /proc/self/stat | cut -d" " -f4 | sed "s/^/sid=/"'

# in_pty COMMAND...: run the command on a new pseudo-terminal, which is
# its controlling terminal, with its output in $TMP/out and its exit
# status as the status of in_pty.
in_pty() {
	/usr/bin/python3 -c '
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
out = b""
while True:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
' "$@" >"$TMP/out"
}

# start WHO WRAPPER...: the words that run runbundle sandbox as WHO
# under the wrapper, which the caller runs in WHO's workspace.
start() {
	who=$1
	shift
	if [ "$who" = user ]; then
		if [ "$(id -u)" -eq 0 ]; then
			set -- "$@" setpriv --reuid="$TEST_USER" \
				--regid="$TEST_USER" --init-groups --
		fi
		set -- "$@" "$UNPRIV_RUNBUNDLE"
	else
		set -- "$@" "$RUNBUNDLE"
	fi
	printf '%s\n' "$@"
}

# check_session WHO HOW SETSID SESSION SID: the description $d and the
# probe's output in $TMP/out of a run started HOW.
check_session() {
	expect_grep '^tty=no$' "$TMP/out"
	expect_grep "^sid=$5\$" "$TMP/out"
	expect_eq "$3" "$(jq .privileges.setsid "$d")" "$1, $2: setsid"
	expect_eq "$4" "$(jq -r .privileges.session "$d")" "$1, $2: session"
}

for who in $IDENTITIES; do
	ws=$(workspace "$who")
	d=$ws/description.json
	cd "$ws"

	# No terminal: init keeps the caller's session.
	IFS='
'
	set -- $(start "$who" setsid -w)
	unset IFS
	expect_status 0 "$@" sandbox --workspace "$ws" --description "$d" \
		-- sh -c "$PROBE"
	check_session "$who" "without a terminal" false \
		"inherited, no controlling terminal" 0

	# A terminal: init starts a session of its own, without it.
	IFS='
'
	set -- $(start "$who")
	unset IFS
	in_pty "$@" sandbox --workspace "$ws" --description "$d" -- \
		sh -c "$PROBE" ||
		fail "$who: the run under a terminal failed: $(cat "$TMP/out")"
	check_session "$who" "under a terminal" true new 1
done
