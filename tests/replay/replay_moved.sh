#!/bin/sh
# A bundle copied to another directory replays with the recorded
# workspace path absent on the host: the checkout is mounted at the
# recorded path inside the sandbox, so absolute paths that the agent
# printed into its requests still match.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"

ws=$TMP/somewhere/ws
new_workspace "$ws" 'pwd' 'ls "$PWD"' 'echo "$PWD/x" >path.txt'
record_in "$ws" "$TMP/run.rb"

mkdir "$TMP/elsewhere"
cp "$TMP/run.rb" "$TMP/elsewhere/copy.rb"
rm -rf "$TMP/somewhere" "$TMP/run.rb"
[ ! -e "$ws" ] || fail "the recorded workspace is still there"

cd "$TMP/elsewhere"
replay_json copy.rb -o "$TMP/elsewhere/replay.rb" --keep
expect_replay_status 0
expect_eq identical "$(jqr .verdict)" "verdict of the moved replay"
[ ! -e "$ws" ] || fail "the replay created the recorded path on the host"

# The agent wrote the recorded path into a file of the workspace.
kept=$(jqr .workspace)
[ -d "$kept" ] || fail "--keep did not keep the workspace: '$kept'"
expect_eq "$ws/x" "$(cat "$kept/path.txt")" "the path the agent wrote"

# Without --keep, the replay's directory is removed.
replay_json copy.rb
expect_replay_status 0
dir=$(dirname "$(jqr .bundle)")
[ ! -e "$dir" ] || fail "the replay's directory was left: '$dir'"
