#!/bin/sh
# The explanation ties a divergent request to the one command whose
# output it carries: the tool result's id (Chat Completions
# tool_call_id, Responses call_id, Anthropic tool_use_id) names the call
# in the recorded response, whose arguments name the command of the
# step. Two commands run in the same step; only the second one differs.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"

# The second command reads its output and its exit status from outside
# the workspace, bound read-only, where the test changes them.
tools=$TMP/tools
mkdir "$tools"
jq -n --arg tools "$tools" '{version: 1, filesystem: {read_only:
	["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc",
	$tools]}}' \
	>"$TMP/policy.json"
second="cat $tools/message; exit \$(cat $tools/code)"
jq -n --arg second "$second" '{turns: [
	{tool_calls: [{name: "run", arguments: {command: "echo hello"}},
		      {name: "run", arguments: {command: $second}}]},
	{text: "done"}]}' >"$TMP/script.json"

# record_passed NAME API: record the agent speaking API in $TMP/NAME,
# into $TMP/NAME.rb, while the second command passes, then make it fail
# for the replay.
record_passed() {
	ws=$TMP/$1
	mkdir "$ws"
	cp "$TESTS_DIR/replay/tool_agent.sh" "$ws/agent.sh"
	echo passed >"$tools/message"
	echo 0 >"$tools/code"
	(cd "$ws" && "$RUNBUNDLE" record -o "$TMP/$1.rb" \
		--model-script "$TMP/script.json" --policy "$TMP/policy.json" \
		-- sh ./agent.sh "$2" </dev/null >"$TMP/record.out" \
		2>"$TMP/record.err") ||
		{ cat "$TMP/record.err" >&2; fail "recording $1 failed"; }
	echo failed >"$tools/message"
	echo 1 >"$tools/code"
}

# check API PATH: record with one outcome, replay with another.
check() {
	api=$1
	want=$2
	record_passed "$api" "$api"
	replay_json "$TMP/$api.rb" --trust-policy --on-mismatch closest
	expect_replay_status 1
	expect_eq "2 $want" "$(jqr '.first_divergence |
		"\(.step) \(.request.differences[0].path)"')" \
		"$api: where the request differs"
	expect_eq "$want|sh -c $second|exit 1|exit 0|2|false" \
		"$(jqr '.first_divergence.request.cause |
			"\(.path)|\(.command)|\(.other)|" +
			"\(.recorded)|\(.step)|\(.guess)"')" \
		"$api: the command behind it"
	expect_eq "$3" "$(jqr '.first_divergence.request.cause.tie')" \
		"$api: what ties them"

	set +e
	"$RUNBUNDLE" replay --trust-policy \
		--on-mismatch closest "$TMP/$api.rb" \
		>"$TMP/text" 2>"$TMP/err"
	set -e
	line="first divergence: step 2: the request differs at $want, which"
	line="$line is the output of \`sh -c $second\`"
	line="$line (exit 1, recorded exit 0)"
	grep -qF "$line" "$TMP/text" ||
		fail "$api: the text report does not say '$line'"
}

check chat 'messages[3].content' tool_call_id
check responses 'input[4].output' call_id
check messages 'messages[2].content[1].content' tool_use_id

# A command of several lines is named by its first line, so that the
# explanation stays on one line of the text report.
second="cat $tools/message
exit \$(cat $tools/code)"
jq -n --arg second "$second" '{turns: [
	{tool_calls: [{name: "run", arguments: {command: "echo hello"}},
		      {name: "run", arguments: {command: $second}}]},
	{text: "done"}]}' >"$TMP/script.json"
record_passed lines chat
set +e
"$RUNBUNDLE" replay --trust-policy \
	--on-mismatch closest "$TMP/lines.rb" >"$TMP/text" \
	2>"$TMP/err"
set -e
line="first divergence: step 2: the request differs at messages[3].content,"
line="$line which is the output of \`sh -c cat $tools/message...\`"
line="$line (exit 1, recorded exit 0)"
grep -qF "$line" "$TMP/text" || { cat "$TMP/text" >&2;
	fail "the text report does not say '$line' on one line"; }
