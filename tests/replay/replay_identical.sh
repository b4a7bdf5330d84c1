#!/bin/sh
# Deterministic agents replay as identical, ten times in a row: the
# example agent with a model script, and a plain shell agent. The replay
# writes its own bundle, which verifies and compares equal with diff.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"

# The example agent, as record's tests run it.
ws=$TMP/example
mkdir "$ws"
cp "$SOURCE_DIR/examples/shell-agent/agent.sh" "$ws/"
cp "$SOURCE_DIR/examples/shell-agent/workspace/"* "$ws/"
cat >"$ws.script.json" <<'JSON'
{"turns": [
 {"tool_calls": [{"name": "write_file",
   "arguments": {"path": "notes.txt", "content": "hello\n"}}]},
 {"tool_calls": [{"name": "run_command",
   "arguments": {"command": "wc -l notes.txt calc.py"}}]},
 {"text": "Done."}
]}
JSON
(cd "$ws" && "$RUNBUNDLE" record -o "$TMP/example.rb" \
	--model-script "$ws.script.json" -- sh ./agent.sh "write notes" \
	</dev/null >"$TMP/record.out" 2>"$TMP/record.err") ||
	{ cat "$TMP/record.err" >&2; fail "recording the example failed"; }

# The example keeps its state at a fixed path in the sandbox's private
# /tmp, so nothing in its commands differs between runs.
replay_json "$TMP/example.rb" -o "$TMP/example-replay.rb"
expect_replay_status 0
expect_eq identical "$(jqr .verdict)" "verdict of the example's replay"
expect_eq 4 "$(jqr .steps)" "steps of the example (3 requests, final)"
"$RUNBUNDLE" verify "$TMP/example-replay.rb" >/dev/null ||
	fail "the replay's bundle does not verify"
expect_status 0 "$RUNBUNDLE" diff "$TMP/example.rb" "$TMP/example-replay.rb"
expect_grep '^identical: 4 steps$' "$TMP/out"

replay_json "$TMP/example.rb" --repeat 10 -j 2
expect_replay_status 0
expect_eq "10 10 0" \
	"$(jqr '"\(.replays) \(.identical) \(.diverged)"')" \
	"ten replays of the example"

# A plain shell agent whose steps read and write the workspace.
new_workspace "$TMP/plain" 'echo one >one.txt' 'ls' 'cat one.txt; pwd'
record_in "$TMP/plain" "$TMP/plain.rb"
# One after another this time: ten in a row.
replay_json "$TMP/plain.rb" --repeat 10
expect_replay_status 0
expect_eq "10 10 0" "$(jqr '"\(.replays) \(.identical) \(.diverged)"')" \
	"ten replays of the plain agent"
expect_eq 0 "$(jqr '.commands | length')" "commands that varied"
