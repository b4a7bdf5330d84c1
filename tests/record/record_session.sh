#!/bin/sh
# The recording's session. runbundle record moves the recorder into a
# new session, where the agent runs too, and stays behind in the
# caller's session to pass signals on. The agent never has the caller's
# terminal as its controlling terminal, and it shares the recorder's
# scheduling autogroup. The process left behind ends as the recorder
# ends, by exit status or by signal.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/record/record_lib.sh"

command -v script >/dev/null || skip "script (util-linux) is missing"
ws=$TMP/ws
mkdir "$ws"
cd "$ws"

# The agent writes whether it can open a controlling terminal, and its
# autogroup when the kernel has them.
cat >probe.sh <<'EOF'
if (exec 3<>/dev/tty) 2>/dev/null; then echo tty >ctty; else echo none >ctty; fi
cat /proc/self/autogroup >group 2>/dev/null || :
touch started
while [ ! -e stop ]; do sleep 0.05; done
EOF

# under_tty NAME MODE: record probe.sh with a terminal as stdin, stdout
# and stderr, given by script(1), and check what the agent saw.
under_tty() {
	rm -f started stop ctty group
	script -qfec "exec '$RB' record -o '$TMP/$1.rb' --sandbox $2 \
		-- sh probe.sh" "$TMP/$1.log" >/dev/null </dev/null &
	script_pid=$!
	tries=0
	until [ -e started ]; do
		tries=$((tries + 1))
		[ "$tries" -le 600 ] || fail "$1: the agent did not start:" \
			"$(cat "$TMP/$1.log")"
		sleep 0.05
	done
	relay=$(pgrep -P "$script_pid")
	recorder=$(pgrep -P "$relay")
	[ -n "$recorder" ] || fail "$1: no recorder process under $relay"

	# The relay stays in the terminal's session, which script(1) made;
	# the recorder has one of its own, without a terminal.
	expect_eq "$recorder ?" "$(ps -o sid=,tty= -p "$recorder" |
		awk '{ print $1, $2 }')" "$1: the recorder's session"
	case $(ps -o tty= -p "$relay") in
	*pts/*) ;;
	*) fail "$1: the relay lost its terminal" ;;
	esac
	expect_eq none "$(cat ctty)" "$1: the agent's controlling terminal"
	if [ -s group ]; then
		expect_eq "$(cat "/proc/$recorder/autogroup")" "$(cat group)" \
			"$1: the agent's autogroup"
	fi
	touch stop
	set +e
	wait "$script_pid"
	status=$?
	set -e
	expect_eq 0 "$status" "$1: exit status"
	"$RB" verify "$TMP/$1.rb" >/dev/null || fail "$1: bundle"
}

under_tty tty-ns namespaces
under_tty tty-none none

# Without a terminal the agent has none either.
rm -f started stop ctty
"$RB" record -o "$TMP/plain.rb" -- sh probe.sh >/dev/null 2>"$TMP/err" \
	</dev/null &
pid=$!
until [ -e started ]; do sleep 0.05; done
expect_eq none "$(cat ctty)" "plain: the agent's controlling terminal"

# The recorder killed from outside: the relay dies of the same signal.
kill -KILL "$(pgrep -P "$pid")"
set +e
wait "$pid"
status=$?
set -e
expect_eq 137 "$status" "the relay after its recorder's SIGKILL"
expect_status 0 "$RB" verify --allow-incomplete "$TMP/plain.rb"

# An exit status of the agent passes through both processes.
record "$TMP/seven.rb" -- sh -c 'exit 7'
expect_recorded 7
exit 0
