#!/bin/sh
# A replay of --repeat that ends without a verdict and leaves no reason
# in its log (killed from outside, here) is named as failed, with the
# signal that its status names. Without -o
# or --keep its log is removed with the batch's directory at the end,
# so the message must not send the user to that path, and the hint
# explains how to keep it. With -o the log stays and is named.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"

new_workspace "$TMP/ws" 'sleep 3'
record_in "$TMP/ws" "$TMP/run.rb"

# repeat_one_killed [OPTION...]: replay twice at once, SIGKILL the
# first replay's process, and leave stderr in $TMP/err.
repeat_one_killed() {
	TMPDIR=$TMP/batch "$RUNBUNDLE" replay --repeat 2 -j 2 "$@" \
		"$TMP/run.rb" >/dev/null 2>"$TMP/err" &
	batch=$!
	# The batch runs in a child of the process that the shell
	# started, and each replay in a child of that one.
	i=0
	until runner=$(pgrep -o -P "$batch") &&
		child=$(pgrep -o -P "$runner"); do
		i=$((i + 1))
		[ $i -le 500 ] || fail "no replay started in 10 s"
		sleep 0.02
	done
	sleep 0.5
	kill -KILL "$child"
	wait_status "$batch"
	expect_eq 3 "$status" "status of the batch with a killed replay"
}

mkdir "$TMP/batch"
repeat_one_killed
expect_grep "^runbundle: replay 1 failed: 'replay-1.log': killed by SIGKILL \
before the replay ended, and that log is removed with the replays' \
directory\$" "$TMP/err"
expect_grep "^hint: run it again with -o DIR to keep the log of each \
replay in DIR\$" "$TMP/err"
# The killed replay leaves its workspace, but the batch's directory goes.
expect_eq "" "$(ls "$TMP/batch" | grep runbundle-repeat || true)" \
	"the batch's directory left in TMPDIR"

repeat_one_killed -o "$TMP/out"
expect_grep "^runbundle: replay 1 failed: '$TMP/out/replay-1.log': killed \
by SIGKILL before the replay ended, and this log has its output\$" "$TMP/err"
[ -f "$TMP/out/replay-1.log" ] || fail "the named log is missing"
exit 0
