#!/bin/sh
# A reader of runbundle's stdout that stops reading blocks the copy of the
# agent's output. A second Ctrl-C then ends the run all the same: the
# copy is given up, and the bundle stores the output and is finalized.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/record/record_lib.sh"

ws=$TMP/ws
mkdir "$ws"
cd "$ws"

# start NAME MODE SCRIPT: record sh -c SCRIPT with stdout into a FIFO
# whose reader takes a little and then keeps it open without reading.
# The script creates the file "started".
start() {
	name=$1
	rm -f started "$TMP/fifo"
	mkfifo "$TMP/fifo"
	/usr/bin/python3 -c '
import sys, time
with open(sys.argv[1], "rb") as f:
    f.read(1000)
    time.sleep(120)' "$TMP/fifo" &
	reader=$!
	env --default-signal=INT "$RB" record -o "$TMP/$name.rb" \
		--sandbox "$2" -- sh -c "$3" \
		>"$TMP/fifo" 2>"$TMP/$name.err" </dev/null &
	pid=$!
	wait_file started "$name: the agent did not start" "$TMP/$name.err"
}

# agent_gone WHAT: wait until runbundle ($pid) runs no sandbox init or
# agent any more, below the process that does the work, so that only
# the copy of the output is left. A fixed sleep was too short on a
# loaded machine.
agent_gone() {
	tries=0
	for worker in $(pgrep -P "$pid"); do
		while pgrep -P "$worker" >/dev/null; do
			tries=$((tries + 1))
			[ "$tries" -le 400 ] ||
				fail "$1: the agent did not end"
			sleep 0.05
		done
	done
}

# finish STATUS: the recording ends within 10 s, although the reader
# still does not read, and leaves a finalized bundle with both
# interrupts counted.
finish() {
	tries=0
	while kill -0 "$pid" 2>/dev/null; do
		tries=$((tries + 1))
		[ "$tries" -le 200 ] ||
			fail "$name: the recording waits for the reader"
		sleep 0.05
	done
	wait_status "$pid"
	kill "$reader"
	wait "$reader" 2>/dev/null || true
	cp "$TMP/$name.err" "$TMP/err"
	bundle=$TMP/$name.rb
	expect_recorded "$1"
	expect_eq 2 "$(last_data "$bundle" end .interrupts)" \
		"$name: end.interrupts"
	# What the reader never took is in the bundle: more than the 1000
	# bytes it read and the 64 KiB that the FIFO keeps.
	stored=$($EVENTS "$bundle" output stdout | wc -c)
	[ "$stored" -gt 66536 ] ||
		fail "$name: the bundle has $stored bytes of the output"
}

for mode in namespaces none; do
	# Both signals while the agent runs: it ignores the first one.
	start "running-$mode" "$mode" "trap '' INT; touch started; exec yes"
	sleep 0.3
	kill -INT "$pid"
	sleep 0.3
	kill -INT "$pid"
	finish 137
done

# The agent ends at the first signal, and the second one comes while
# runbundle waits to copy the rest of its output.
start ended namespaces "touch started; exec yes"
sleep 0.3
kill -INT "$pid"
agent_gone ended
sleep 0.3
kill -0 "$pid" 2>/dev/null || fail "ended: the recording did not wait"
kill -INT "$pid"
finish 130

# A replay shows the agent's output on stderr. Once its agent has ended,
# a signal that comes while the replay waits for the reader does not
# cut it short: it keeps its verdict when the reader reads again. The
# agent's 100,000 bytes fill the FIFO but fit in the pipes, so the agent
# can end while the reader waits.
mkdir "$TMP/replay"
cd "$TMP/replay"
rm -f "$TMP/fifo" "$TMP/resume"
record "$TMP/print.rb" -- sh -c 'head -c 100000 /dev/zero | tr "\0" x'
expect_recorded 0
mkfifo "$TMP/fifo"
/usr/bin/python3 -c '
import os, sys, time
with open(sys.argv[1], "rb") as f:
    f.read(1000)
    open(sys.argv[2] + ".read", "w").close()
    while not os.path.exists(sys.argv[2]):
        time.sleep(0.05)
    while f.read(65536):
        pass' "$TMP/fifo" "$TMP/resume" &
reader=$!
env --default-signal=INT "$RB" replay "$TMP/print.rb" \
	>"$TMP/replay.out" 2>"$TMP/fifo" </dev/null &
pid=$!
wait_file "$TMP/resume.read" "replay: the reader got nothing" \
	"$TMP/replay.out"
agent_gone replay
kill -INT "$pid"
sleep 0.3
touch "$TMP/resume"
wait_status "$pid"
wait "$reader"
expect_eq 0 "$status" "the replay's status"
expect_grep '^identical' "$TMP/replay.out"

exit 0
