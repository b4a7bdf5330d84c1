#!/bin/sh
# --repeat with --keep keeps the batch's directory, whose name is
# random, and each replay's workspace. The batch prints that directory,
# and each replay's log names its workspace, as one replay with --keep
# prints it.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"

new_workspace "$TMP/ws" 'echo one >one.txt'
record_in "$TMP/ws" "$TMP/run.rb"

mkdir "$TMP/kept"
expect_status 0 env TMPDIR="$TMP/kept" "$RUNBUNDLE" replay --repeat 2 \
	--keep "$TMP/run.rb"
expect_grep "^replays: $TMP/kept/runbundle-repeat-[A-Za-z0-9]*\$" "$TMP/err"
dir=$(sed -n 's/^replays: //p' "$TMP/err")
for i in 1 2; do
	[ -f "$dir/replay-$i.rb" ] || fail "replay-$i.rb is missing in '$dir'"
	expect_grep "^workspace: $TMP/kept/runbundle-replay-" \
		"$dir/replay-$i.log"
	ws=$(sed -n 's/^workspace: //p' "$dir/replay-$i.log")
	expect_eq one "$(cat "$ws/one.txt")" "one.txt in replay $i's workspace"
done

# With -o the directory is the user's own, and only the logs name the
# workspaces.
expect_status 0 env TMPDIR="$TMP/kept" "$RUNBUNDLE" replay --repeat 1 \
	--keep -o "$TMP/batch" "$TMP/run.rb"
if grep -q '^replays: ' "$TMP/err"; then
	fail "the directory of -o is printed"
fi
expect_grep "^workspace: $TMP/kept/runbundle-replay-" "$TMP/batch/replay-1.log"
