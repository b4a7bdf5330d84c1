#!/bin/sh
# --step K restores the snapshot taken before step K and re-runs only
# the commands that the agent ran in step K, comparing their exit
# statuses and file changes with the recording.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"

new_workspace "$TMP/ws" 'echo one >one.txt' \
	'mkdir -p out; cat one.txt >out/copy.txt; exit 3' \
	'date +%s%N >stamp.txt' 'true'
record_in "$TMP/ws" "$TMP/run.rb"

# Step 2 needs the file of step 1 and changes the workspace the same way
# each time.
replay_json "$TMP/run.rb" --step 2 --repeat 3 -j 2
expect_replay_status 0
expect_eq "3 3 0 0" \
	"$(jqr '"\(.replays) \(.identical) \(.diverged) \(.failed)"')" \
	"re-runs of step 2"
expect_eq 'sh -c mkdir -p out; cat one.txt >out/copy.txt; exit 3' \
	"$(jqr '.commands[0].command')" "the command of step 2"
expect_eq "exit 3 exit 3 3" \
	"$(jqr '.commands[0] |
	"\(.recorded) \(.statuses[0].status) \(.statuses[0].count)"')" \
	"its statuses"
expect_eq "as recorded 3" "$(jqr '.files[0] | "\(.files) \(.count)"')" \
	"the file changes"

# Step 3 writes the time: each re-run changes the file otherwise.
replay_json "$TMP/run.rb" --step 3 --repeat 2
expect_replay_status 1
expect_eq "2 0 2" "$(jqr '"\(.replays) \(.identical) \(.diverged)"')" \
	"re-runs of step 3"
expect_eq "stamp.txt (content) 2" \
	"$(jqr '.files[0] | "\(.files) \(.count)"')" "the file that differs"

# Without --repeat, one re-run, reported as text.
expect_status 0 "$RUNBUNDLE" replay --step 2 "$TMP/run.rb"
expect_grep '^step 2 re-run 1 time: 1 as recorded' "$TMP/out"
expect_status 2 "$RUNBUNDLE" replay --step 9 "$TMP/run.rb"
expect_grep 'no such step' "$TMP/err"

# --step takes the names of the readers' --step: final, or its alias
# latest, is the last step, step 5, which follows the agent's last model
# request. The agent ran no command in it, which the message states, and
# the message names the steps that did. initial names no step to re-run.
for name in final latest 5; do
	expect_status 3 "$RUNBUNDLE" replay --step "$name" "$TMP/run.rb"
	expect_grep "^runbundle: cannot re-run step 5: '$TMP/run.rb': the \
agent ran no command after its last model request$" "$TMP/err"
	expect_grep '^hint: re-run a step that ran commands: 1, 2, 3, 4$' \
		"$TMP/err"
done
for name in initial 0 00; do
	expect_status 2 "$RUNBUNDLE" replay --step "$name" "$TMP/run.rb"
	expect_grep "^runbundle: invalid --step: '$name': the initial \
snapshot is taken before the agent runs any command" "$TMP/err"
done
expect_status 2 "$RUNBUNDLE" replay --step last "$TMP/run.rb"
expect_grep "^runbundle: invalid --step: 'last': expected a number from 1 \
to 100000, or 'final' for the last step$" "$TMP/err"

# Each command re-runs with its own recorded environment, not the
# agent's: the command of step 2 had a variable that the agent never
# had, and writes it into the workspace.
unset FLAVOR
new_workspace "$TMP/env" 'echo start' \
	"FLAVOR=mint exec sh -c 'echo \"flavor \$FLAVOR\" >flavor.txt'"
record_in "$TMP/env" "$TMP/env.rb"
replay_json "$TMP/env.rb" --step 2 -o "$TMP/env-replays"
expect_replay_status 0
expect_eq "1 1 as recorded" \
	"$(jqr '"\(.replays) \(.identical) \(.files[0].files)"')" \
	"the re-run of a command with its own variable"
"$RUNBUNDLE" checkout "$TMP/env-replays/replay-1.rb" latest "$TMP/env-out" \
	>/dev/null 2>&1 || fail "cannot check out the re-run's workspace"
expect_eq "flavor mint" "$(cat "$TMP/env-out/flavor.txt")" \
	"what the re-run wrote"

# An agent that runs each tool in a command substitution of more than
# one command, as examples/shell-agent does, forks a subshell that runs
# no program. The tool's `sh -c` is that subshell's child, and is still
# one of the commands that step K re-runs.
new_workspace "$TMP/sub" 'echo one >one.txt' 'echo more >>one.txt'
sed 's|output=$(sh -c "$command" 2>&1)|output=$(sh -c "$command" 2>\&1; :)|' \
	"$TMP/sub/agent.sh" >"$TMP/sub/agent2.sh"
mv "$TMP/sub/agent2.sh" "$TMP/sub/agent.sh"
grep -q '2>&1; :)' "$TMP/sub/agent.sh" || fail "the agent was not changed"
record_in "$TMP/sub" "$TMP/sub.rb"
replay_json "$TMP/sub.rb" --step 2
expect_replay_status 0
expect_eq 'sh -c echo more >>one.txt' "$(jqr '.commands[0].command')" \
	"the tool command inside the substitution"
expect_eq "as recorded" "$(jqr '.files[0].files')" \
	"the file changes of the substitution's command"
