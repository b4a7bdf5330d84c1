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
	wait_file started "$1: the agent did not start" "$TMP/$1.log"
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
	wait_status "$script_pid"
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
wait_status "$pid"
expect_eq 137 "$status" "the relay after its recorder's SIGKILL"
expect_status 0 "$RB" verify --allow-incomplete "$TMP/plain.rb"

# start_plain NAME SCRIPT: record sh -c SCRIPT without a terminal, in
# the background, setting $pid (the relay) and $recorder.
start_plain() {
	rm -f started stop
	"$RB" record -o "$TMP/$1.rb" -- sh -c "$2" >"$TMP/$1.out" \
		2>"$TMP/$1.err" </dev/null &
	pid=$!
	until [ -e started ]; do sleep 0.05; done
	recorder=$(pgrep -P "$pid")
}

# finish_plain NAME STATUS: let the agent end, and expect STATUS.
finish_plain() {
	touch stop
	wait_status "$pid"
	expect_eq "$2" "$status" "$1: exit status"
}

wait_loop='touch started; while [ ! -e stop ]; do sleep 0.05; done'

# One signal sent to both processes, as killall and service managers
# do, counts once: the agent that ignores it runs to its end.
start_plain both "trap '' TERM; $wait_loop"
kill -TERM "$pid" "$recorder"
sleep 0.3
expect_eq S "$(ps -o stat= -p "$recorder" | cut -c1)" "both: the recorder"
finish_plain both 0
bundle=$TMP/both.rb
expect_eq 1 "$(last_data "$bundle" end .interrupts)" "both: end.interrupts"

# Also when the relay passes its copy on long after the recorder got its
# own: the relay is stopped meanwhile, as a starved process would be.
start_plain late "trap '' TERM; $wait_loop"
kill -STOP "$pid"
kill -TERM "$pid" "$recorder"
sleep 0.3
kill -CONT "$pid"
sleep 0.3
finish_plain late 0
expect_eq 1 "$(last_data "$TMP/late.rb" end .interrupts)" \
	"late: end.interrupts"

# Two signals to both processes are two, whatever their order.
start_plain twice "trap '' TERM; $wait_loop"
kill -STOP "$pid"
kill -TERM "$pid" "$recorder"
sleep 0.3
kill -TERM "$pid" "$recorder"
sleep 0.3
kill -CONT "$pid"
wait_status "$pid"
expect_eq 137 "$status" "twice: exit status"

# Ctrl-Z stops the recorder with the relay, and SIGCONT resumes both.
# The kernel stops no process of an orphaned process group on SIGTSTP,
# so the relay gets a group of its own under a session leader, as a job
# of an interactive shell has.
rm -f started stop
setsid /usr/bin/python3 - "$RB" "$TMP/tstp.rb" "$wait_loop" <<'PY' ||
import os, signal, subprocess, sys, time

sys.path.insert(0, os.environ["TESTS_DIR"])
from proc_state import settle, state

rb, out, loop = sys.argv[1:]
relay = subprocess.Popen([rb, "record", "-o", out, "--", "sh", "-c", loop],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL,
                         preexec_fn=lambda: os.setpgid(0, 0))
while not os.path.exists("started"):
    time.sleep(0.05)
with open("/proc/%d/task/%d/children" % (relay.pid, relay.pid)) as f:
    recorder = int(f.read().split()[0])
os.kill(relay.pid, signal.SIGTSTP)
stopped = settle((relay.pid, recorder), True)
os.kill(relay.pid, signal.SIGCONT)
resumed = settle((recorder,), False)[0]
open("stop", "w").close()
status = relay.wait()
if stopped != ("T", "T") or resumed == "T" or status != 0:
    sys.exit("stopped %s, resumed %s, status %d" % (stopped, resumed, status))
PY
	fail "tstp: the relay and the recorder did not stop and resume"

# An exit status of the agent passes through both processes.
record "$TMP/seven.rb" -- sh -c 'exit 7'
expect_recorded 7
exit 0
