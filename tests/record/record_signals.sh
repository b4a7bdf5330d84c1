#!/bin/sh
# Signals. SIGTERM and a first Ctrl-C are forwarded to the agent, and the
# bundle is finalized. A second Ctrl-C kills the tree and still
# finalizes. A SIGKILLed runbundle leaves the bundle incomplete but
# verifiable, and the agent dead. A signal before the agent starts (in
# the sandbox launch or the initial snapshot) ends the recording without
# running the agent: the bundle is finalized, or left incomplete after a
# second signal, and no process is left.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/record/record_lib.sh"

ws=$TMP/ws
mkdir "$ws"
cd "$ws"

# start NAME [OPTION...] -- SCRIPT: record sh -c SCRIPT in the
# background, and wait until the script has created the file "started".
# This shell starts a background job with SIGINT ignored, which
# runbundle would keep, so env gives it the default action back, as a
# terminal's foreground job has it.
start() {
	name=$1
	shift
	rm -f started
	env --default-signal=INT "$RB" record -o "$TMP/$name.rb" "$@" \
		>"$TMP/$name.out" 2>"$TMP/$name.err" </dev/null &
	pid=$!
	wait_file started "$name: the agent did not start" "$TMP/$name.err"
}

# finish STATUS: wait for the recording, which must exit with STATUS
# and leave a finalized bundle that verifies.
finish() {
	wait_status "$pid"
	cp "$TMP/$name.err" "$TMP/err"
	bundle=$TMP/$name.rb
	expect_recorded "$1"
}

loop='touch started; while :; do sleep 0.1; done'

for mode in namespaces none; do
	start "term-$mode" --sandbox "$mode" -- \
		sh -c "trap 'echo got-term; exit 3' TERM; $loop"
	kill -TERM "$pid"
	finish 3
	expect_eq got-term "$(cat "$TMP/$name.out")" "the agent's trap ($mode)"
	expect_eq 1 "$(last_data "$bundle" end .interrupts)" \
		"end.interrupts ($mode)"

	start "int-$mode" --sandbox "$mode" -- \
		sh -c "trap 'echo got-int; exit 4' INT; $loop"
	kill -INT "$pid"
	finish 4
	expect_eq got-int "$(cat "$TMP/$name.out")" "the agent's trap ($mode)"

	# An agent that ignores Ctrl-C is killed, tree and all, by the
	# second one.
	start "int2-$mode" --sandbox "$mode" -- sh -c "trap '' INT TERM; $loop"
	kill -INT "$pid"
	sleep 0.3
	kill -INT "$pid"
	finish 137
	expect_eq 2 "$(last_data "$bundle" end .interrupts)" \
		"end.interrupts ($mode)"
	tree_json "$bundle" "$TMP/tree.json"
	jq -e '[.. | objects | select(has("end")) | .end] |
	       all(. != "running")' "$TMP/tree.json" >/dev/null ||
		fail "a process of the tree was left running ($mode)"
done

# SIGKILL: no finalize, but every committed event verifies, and the
# agent does not outlive runbundle.
start kill9 -- sh -c 'i=0; touch started
	while :; do i=$((i + 1)); echo $i >tick; sleep 0.05; done'
sleep 0.3
kill -KILL "$pid"
wait_status "$pid"
expect_eq 137 "$status" "runbundle killed"
expect_status 1 "$RB" verify "$TMP/kill9.rb"
expect_grep 'not finalized' "$TMP/out"
expect_status 0 "$RB" verify --allow-incomplete "$TMP/kill9.rb"
sleep 0.5
before=$(cat tick)
sleep 0.5
expect_eq "$before" "$(cat tick)" "the agent's counter after SIGKILL"
# Before the agent starts. The agent would create "ran" in its
# workspace; runbundle runs from its own directory, so that a process
# left behind shows as one whose cwd is either.
early=$TMP/early
mkdir "$early" "$TMP/run"
/usr/bin/python3 - "$early" <<'PY'
import os, sys
for d in range(40):
    os.mkdir(os.path.join(sys.argv[1], "d%02d" % d))
    for f in range(50):
        with open(os.path.join(sys.argv[1], "d%02d" % d, "f%02d" % f),
                  "wb") as out:
            out.write(os.urandom(4096))
PY
agent='touch ran; while :; do sleep 0.1; done'

# pending SIGNALS COMMAND...: run COMMAND with SIGNALS (comma-separated)
# blocked and already pending, as if they came in the instant it began.
pending() {
	/usr/bin/python3 -c '
import os, signal, sys
sigs = [getattr(signal, n) for n in sys.argv[1].split(",")]
signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
for s in sigs:
    os.kill(os.getpid(), s)
os.execvp(sys.argv[2], sys.argv[2:])' "$@"
}

expect_no_leftovers() {
	for proc in /proc/[0-9]*; do
		[ "${proc#/proc/}" != $$ ] || continue
		cwd=$(readlink "$proc/cwd" 2>/dev/null) || continue
		case $cwd in
		"$early" | "$TMP/run")
			fail "$1: process ${proc#/proc/} was left behind:" \
				"$(tr '\0' ' ' <"$proc/cmdline")" ;;
		esac
	done
}

# expect_stopped_early SIGNAL: the agent never ran, and the finalized
# bundle records that SIGNAL stopped the recording.
expect_stopped_early() {
	expect_recorded "$status"
	[ ! -e "$early/ran" ] || fail "$name: the agent ran"
	expect_eq false "$(last_data "$bundle" end .started)" \
		"$name: end.started"
	expect_eq "$1" "$(last_data "$bundle" end .stopped_by)" \
		"$name: end.stopped_by"
	expect_grep "^stopped: SIG$1 before the agent started" "$TMP/err"
	expect_no_leftovers "$name"

	# The reading commands report the same, with no agent exit status.
	"$RB" inspect --json "$bundle" >"$TMP/summary.json"
	expect_eq "$1 null" "$(jq -r '.run |
		"\(.stopped_before_start) \(.exit_code)"' \
		"$TMP/summary.json")" "$name: inspect's run"
	"$RB" log "$bundle" >"$TMP/log.txt"
	expect_grep "end  *stopped by SIG$1 before the agent" \
		"$TMP/log.txt"
}

# early NAME SIGNALS [OPTION...]: record the agent with SIGNALS pending
# from the start, leaving the exit status in $status.
early() {
	name=$1
	bundle=$TMP/$1.rb
	sigs=$2
	shift 2
	set +e
	pending "$sigs" "$RB" record -o "$bundle" --workspace "$early" "$@" \
		-- sh -c "$agent" >"$TMP/out" 2>"$TMP/err" </dev/null
	status=$?
	set -e
}

cd "$TMP/run"
for mode in namespaces none; do
	early "pending-$mode" SIGTERM --sandbox "$mode"
	expect_eq 143 "$status" "$name: exit status"
	expect_stopped_early TERM

	# A second signal ends runbundle at once: the bundle stays
	# incomplete but verifiable.
	early "twice-$mode" SIGTERM,SIGINT --sandbox "$mode"
	expect_eq 125 "$status" "$name: exit status"
	expect_grep "a second SIG[A-Z]* before the agent started" "$TMP/err"
	expect_status 1 "$RB" verify "$bundle"
	expect_status 0 "$RB" verify --allow-incomplete "$bundle"
	[ ! -e "$early/ran" ] || fail "$name: the agent ran"
	expect_no_leftovers "$name"
	# The sandbox made .git/hooks read-only for the run (the workspace
	# has no .git), and runbundle removed it before it exited.
	[ ! -e "$early/.git" ] || fail "$name: the part made for the run" \
		"was left in the workspace"
done

# A Ctrl-C during the initial snapshot, seen by its progress line on a
# terminal: script(1) gives runbundle one, and its log has the line.
command -v script >/dev/null || skip "script (util-linux) is missing"
name=during-snapshot
bundle=$TMP/$name.rb
RUNBUNDLE_PROGRESS_DELAY=0 script -qfec "exec env --default-signal=INT \
	'$RB' record -o '$bundle' --workspace '$early' -- sh -c '$agent'" \
	"$TMP/tty.log" >/dev/null </dev/null &
script_pid=$!
tries=0
until grep -q 'snapshot of the workspace' "$TMP/tty.log" 2>/dev/null; do
	tries=$((tries + 1))
	[ "$tries" -le 3000 ] ||
		fail "$name: no progress line: $(cat "$TMP/tty.log")"
	sleep 0.01
done
kill -INT "$(pgrep -P "$script_pid")"
wait_status "$script_pid"
expect_eq 130 "$status" "$name: exit status"
tr '\r' '\n' <"$TMP/tty.log" >"$TMP/err"
expect_stopped_early INT

exit 0
