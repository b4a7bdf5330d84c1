#!/bin/sh
# A recording whose workspace another run in the sandbox uses notes it
# before the agent starts, because that run's changes show in the
# recording's snapshots. A process that keeps the workspace locked
# delays no run by more than a second or so, and hangs none.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/record/record_lib.sh"

note="^note: another process holds the lock of the workspace '$TMP/ws'"
mkdir "$TMP/ws"
cd "$TMP/ws"

record "$TMP/alone.rb" -- true
expect_recorded 0
if grep -q "$note" "$TMP/err"; then
	cat "$TMP/err" >&2
	fail "a recording alone in its workspace noted another run"
fi

# wait_started FILE: wait until the background run has written FILE.
wait_started() {
	n=0
	while [ ! -e "$1" ] && [ $n -lt 200 ]; do
		sleep 0.05
		n=$((n + 1))
	done
	[ -e "$1" ] || fail "the other run did not start"
}

"$RB" sandbox --workspace "$TMP/ws" -- sh -c 'touch started; sleep 2' \
	>/dev/null 2>&1 &
other=$!
wait_started "$TMP/ws/started"
record "$TMP/beside.rb" -- true
expect_recorded 0
expect_grep "$note" "$TMP/err"
wait "$other"

# Another process's exclusive lock: every kind of run goes on after
# about a second, and a recording notes the lock.
command -v flock >/dev/null || exit 0
flock -x -o "$TMP/ws" sleep 30 &
holder=$!
sleep 0.2
start=$(date +%s)
record "$TMP/locked.rb" -- true
expect_recorded 0
expect_grep "$note" "$TMP/err"
expect_status 0 "$RB" sandbox --workspace "$TMP/ws" -- true
expect_status 0 "$RB" sandbox --sandbox none --workspace "$TMP/ws" -- true
[ $(($(date +%s) - start)) -lt 20 ] ||
	fail "a run waited for the workspace's lock"
pkill -P "$holder" sleep
wait "$holder" 2>/dev/null || true
exit 0
