#!/bin/sh
# runbundle sandbox and signals. The first SIGINT or SIGTERM reaches the
# command, and a second one kills every process of the run. A signal
# that the caller ignores stays ignored. Ctrl-Z (SIGTSTP) stops the
# command with runbundle, and SIGCONT resumes both. With --sandbox none,
# a daemonized grandchild dies at the end and on timeout too, and the
# run's cgroup is removed. In both modes, as root and as the test user.
. "$TESTS_DIR/lib.sh"
ATTACK=/bin/true
. "$TESTS_DIR/sandbox/escape_lib.sh"

# start WHO MODE SCRIPT: runbundle sandbox as WHO running sh -c SCRIPT
# in the background, with SIGINT's default action (this shell starts a
# background job with SIGINT ignored). Sets $pid, which is runbundle
# itself, and waits until the script has created "started".
start() {
	ws=$(workspace "$1")
	rm -f "$ws/started" "$ws/stop" "$ws/daemon"
	if [ "$1" = user ] && [ "$(id -u)" -eq 0 ]; then
		set -- "$2" "$3" setpriv --reuid="$TEST_USER" \
			--regid="$TEST_USER" --init-groups -- \
			"$UNPRIV_RUNBUNDLE"
	else
		set -- "$2" "$3" "$RUNBUNDLE"
	fi
	mode=$1 script=$2
	shift 2
	(cd "$ws" && exec env --default-signal=INT "$@" sandbox \
		--workspace "$ws" --sandbox "$mode" -- sh -c "$script" \
		>"$TMP/out" 2>"$TMP/err" </dev/null) &
	pid=$!
	wait_file "$ws/started" "$mode: the command did not start"
}

# expect_gone PID WHAT: no process PID is left.
expect_gone() {
	tries=0
	while kill -0 "$1" 2>/dev/null; do
		tries=$((tries + 1))
		[ "$tries" -le 20 ] || fail "$2 is still running (pid $1)"
		sleep 0.05
	done
}

# A daemon that leaves the command's process group and session, and
# stores its pid (the host's with --sandbox none).
daemon='(setsid sh -c "echo \$\$ >daemon; exec sleep 60" </dev/null \
	>/dev/null 2>&1 &); until [ -s daemon ]; do sleep 0.05; done'
loop='touch started; while [ ! -e stop ]; do sleep 0.05; done'

for who in $IDENTITIES; do
	for mode in namespaces none; do
		# The first SIGINT and SIGTERM reach the command's trap.
		for sig in INT TERM; do
			start "$who" "$mode" \
				"trap 'echo got-$sig; exit 4' $sig; $loop"
			kill -"$sig" "$pid"
			wait_status "$pid"
			expect_eq 4 "$status" "$who $mode: status after SIG$sig"
			expect_eq "got-$sig" "$(cat "$TMP/out")" \
				"$who $mode: the command's trap"
		done

		# A second one kills the whole run, and runbundle prints why.
		start "$who" "$mode" "trap '' INT TERM; $daemon; $loop"
		daemon_pid=$(cat "$ws/daemon")
		kill -INT "$pid"
		sleep 0.3
		kill -0 "$pid" || fail "$who $mode: the first SIGINT ended it"
		kill -TERM "$pid"
		wait_status "$pid"
		expect_eq 137 "$status" "$who $mode: status after two signals"
		expect_grep "^runbundle: sandbox killed: 'SIGTERM': \
a second signal kills the command and every process descended from it$" \
			"$TMP/err"
		if [ "$mode" = none ]; then
			expect_gone "$daemon_pid" "$who $mode: the daemon"
		fi

		# A signal ignored at the start stays ignored.
		ws=$(workspace "$who")
		rm -f "$ws/started" "$ws/stop"
		if [ "$who" = user ] && [ "$(id -u)" -eq 0 ]; then
			set -- setpriv --reuid="$TEST_USER" \
				--regid="$TEST_USER" --init-groups -- \
				"$UNPRIV_RUNBUNDLE"
		else
			set -- "$RUNBUNDLE"
		fi
		(cd "$ws" && exec nohup "$@" sandbox --workspace "$ws" \
			--sandbox "$mode" -- sh -c "$loop" >"$TMP/out" \
			2>"$TMP/err" </dev/null) &
		pid=$!
		until [ -e "$ws/started" ]; do sleep 0.05; done
		kill -HUP "$pid"
		sleep 0.3
		touch "$ws/stop"
		wait_status "$pid"
		expect_eq 0 "$status" \
			"$who $mode: status after an ignored SIGHUP"
	done
done

# Ctrl-Z stops the command with runbundle, and SIGCONT resumes both.
# The kernel stops no process of an orphaned process group on SIGTSTP,
# so runbundle gets a group of its own under a session leader, as a job
# of an interactive shell has.
for mode in namespaces none; do
	ws=$(workspace root)
	rm -f "$ws/started" "$ws/stop"
	(cd "$ws" && setsid /usr/bin/python3 - "$RUNBUNDLE" "$mode" \
		"$loop" <<'PY'
import os, signal, subprocess, sys, time

sys.path.insert(0, os.environ["TESTS_DIR"])
from proc_state import settle, state

def child(pid):
    with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
        return int(f.read().split()[0])

rb, mode, loop = sys.argv[1:]
run = subprocess.Popen([rb, "sandbox", "--sandbox", mode, "--", "sh", "-c",
                        loop], stdin=subprocess.DEVNULL,
                       preexec_fn=lambda: os.setpgid(0, 0))
while not os.path.exists("started"):
    time.sleep(0.05)
command = child(child(run.pid))
os.kill(run.pid, signal.SIGTSTP)
stopped = settle((run.pid, command), True)
os.kill(run.pid, signal.SIGCONT)
resumed = settle((command,), False)[0]
open("stop", "w").close()
status = run.wait()
if stopped != ("T", "T") or resumed == "T" or status != 0:
    sys.exit("%s: stopped %s, resumed %s, status %d" %
             (mode, stopped, resumed, status))
PY
	) || fail "tstp: the command did not stop and resume with runbundle"
done

# --sandbox none: a daemon dies when the command ends and on timeout,
# and the run's cgroup goes.
p=$(policy timeout '{"version": 1, "limits": {"timeout_seconds": 1}}')
for who in $IDENTITIES; do
	ws=$(workspace "$who")
	rm -f "$ws/daemon"
	expect_status 0 sandbox "$who" --sandbox none -- sh -c "$daemon"
	expect_gone "$(cat "$ws/daemon")" "$who: the daemon after the end"

	rm -f "$ws/daemon"
	expect_status 137 sandbox "$who" --sandbox none --policy "$p" -- \
		sh -c "$daemon; sleep 30"
	expect_gone "$(cat "$ws/daemon")" "$who: the daemon after a timeout"
	expect_grep "^runbundle: policy violation: timeout_seconds: '1': \
the command and every process descended from it were killed$" "$TMP/err"
done
if [ "$(id -u)" -eq 0 ] && [ -w /sys/fs/cgroup/pids ]; then
	ws=$(workspace root)
	(cd "$ws" && exec "$RUNBUNDLE" sandbox --sandbox none -- \
		sh -c "$daemon") >/dev/null 2>&1 &
	pid=$!
	wait_status "$pid"
	[ ! -e "/sys/fs/cgroup/pids/runbundle-$pid" ] ||
		fail "the run's cgroup is left: runbundle-$pid"
fi
exit 0
