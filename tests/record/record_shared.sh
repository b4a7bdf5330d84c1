#!/bin/sh
# A recording whose workspace another run uses notes it before the agent
# starts, because that run's changes show in the recording's snapshots.
# A run without the sandbox holds the workspace's lock too, so that a
# later run detects it.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/record/record_lib.sh"

note="^note: another runbundle run uses the workspace '$TMP/ws'"
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

for mode in namespaces none; do
	rm -f "$TMP/ws/started"
	"$RB" sandbox --sandbox "$mode" --workspace "$TMP/ws" -- \
		sh -c 'touch started; sleep 2' >/dev/null 2>&1 &
	other=$!
	wait_started "$TMP/ws/started"
	record "$TMP/beside-$mode.rb" -- true
	expect_recorded 0
	expect_grep "$note" "$TMP/err"
	wait "$other"

	# And the other way round: a recording without the sandbox holds
	# the lock while its agent runs.
	rm -f "$TMP/ws/started"
	"$RB" record -o "$TMP/holder-$mode.rb" --sandbox none -- \
		sh -c 'touch started; sleep 2' >/dev/null 2>&1 &
	other=$!
	wait_started "$TMP/ws/started"
	record "$TMP/after-$mode.rb" --sandbox "$mode" -- true
	expect_recorded 0
	expect_grep "$note" "$TMP/err"
	wait "$other"
done
exit 0
