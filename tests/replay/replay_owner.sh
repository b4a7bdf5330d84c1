#!/bin/sh
# A workspace that belonged to another uid than the agent's, as when
# root records a checkout bound from the host, could not be written by
# the recorded agent. The replay's checkout is the agent's, so the
# replay names the recorded owner before its agent writes there.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root to record in another's workspace"

new_workspace "$TMP/ws" 'touch new; echo $?'
chown -R 4321:4321 "$TMP/ws"
record_in "$TMP/ws" "$TMP/other.rb"
expect_grep "^note: the command cannot write to the workspace" \
	"$TMP/record.err"
replay_json "$TMP/other.rb"
expect_replay_status 1
expect_grep "^note: the recorded workspace belonged to uid 4321, where \
the agent, as uid 0, could not write; " "$TMP/replay.err"

# Root's own workspace: no note.
chown -R 0:0 "$TMP/ws"
record_in "$TMP/ws" "$TMP/own.rb"
replay_json "$TMP/own.rb"
expect_replay_status 0
if grep -q "recorded workspace belonged" "$TMP/replay.err"; then
	cat "$TMP/replay.err" >&2
	fail "a note on the owner of root's own workspace"
fi
