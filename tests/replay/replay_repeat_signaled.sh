#!/bin/sh
# A replay of --repeat that a SIGTERM sent to it alone stops has no
# verdict while the batch goes on. It counts as failed, with that
# reason, so the counts add up to the requested replays and the batch
# does not exit 0 as if every replay matched.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"

new_workspace "$TMP/ws" 'sleep 3'
record_in "$TMP/ws" "$TMP/run.rb"

"$RUNBUNDLE" replay --json --repeat 2 -j 2 "$TMP/run.rb" >"$TMP/json" \
	2>"$TMP/replay.err" &
batch=$!
# The batch runs in a child of the process that the shell started, and
# each replay in a child of that one.
i=0
until runner=$(pgrep -o -P "$batch") && child=$(pgrep -o -P "$runner"); do
	i=$((i + 1))
	[ $i -le 500 ] || fail "no replay started in 10 s"
	sleep 0.02
done
sleep 0.5
kill -TERM "$child"
wait_status "$batch"
expect_replay_status 3
expect_eq "2 2 1 1 0 null" "$(jqr '"\(.replays) \(.requested) " +
	"\(.failed) \(.identical) \(.diverged) \(.interrupted)"')" \
	"replays, requested, failed, identical, diverged, interrupted"
expect_grep "^runbundle: replay 1 could not run: interrupted by SIGTERM \
before the replay ended\$" "$TMP/replay.err"
