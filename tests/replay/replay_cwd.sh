#!/bin/sh
# A command that runs in another directory than it was recorded in
# diverges, even with the same argv and output. A cwd in a temporary
# directory of another name does not, and neither does the workspace's
# own path in a replay without a sandbox, which runs elsewhere.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"

mkdir "$TMP/tools"
echo a >"$TMP/tools/where"
jq -n --arg tools "$TMP/tools" '{version: 1, filesystem: {read_only:
	["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc",
	$tools]}}' >"$TMP/policy.json"
new_workspace "$TMP/ws" 'echo start' \
	"cd \"\$(mktemp -d)\" && /bin/true tmp" \
	"cd sub && /bin/true sub" \
	"cd \"\$(cat $TMP/tools/where)\" && /bin/true where"
mkdir "$TMP/ws/a" "$TMP/ws/b" "$TMP/ws/sub"
record_in "$TMP/ws" "$TMP/run.rb" --policy "$TMP/policy.json"

cwd_of() {
	"$RUNBUNDLE" log --json "$TMP/run.rb" | jq -r --arg arg "$1" \
		'.. | objects | select(.kind? == "exec") | .data |
		select(.argv[1]? == $arg) | .cwd'
}
expect_eq "$TMP/ws/a" "$(cwd_of where)" "the recorded cwd"

replay_json "$TMP/run.rb" --trust-policy
expect_replay_status 0
expect_eq volatile-only "$(jqr .verdict)" \
	"verdict in the same directories"
expect_eq volatile-only \
	"$(jqr '.differences[] | select(.step == 2) | .verdict')" \
	"the step that ran in a temporary directory"

echo b >"$TMP/tools/where"
replay_json "$TMP/run.rb" --trust-policy
expect_replay_status 1
expect_eq 4 "$(jqr .first_divergence.step)" "the step of the cd"
expect_eq "/bin/true where cwd" \
	"$(jqr '.first_divergence.processes[0] |
		"\(.command) \(.difference)"')" \
	"the process that ran elsewhere"
expect_eq "$TMP/ws/b" "$(jqr .first_divergence.processes[0].other)" \
	"the directory it ran in"
expect_eq "2 4" "$(jqr '[.differences[].step] | join(" ")')" \
	"steps that differ"
set +e
"$RUNBUNDLE" replay --trust-policy "$TMP/run.rb" >"$TMP/text" 2>/dev/null
set -e
expect_grep "^first divergence: step 4: \`/bin/true where\` ran in \
$TMP/ws/b, recorded $TMP/ws/a" "$TMP/text"

# Without a sandbox the replay's workspace is a directory of its own,
# and mktemp's directory is below TMPDIR there, which the replay moves.
new_workspace "$TMP/bare" 'echo start' "cd sub && /bin/true sub"
mkdir "$TMP/bare/sub"
record_in "$TMP/bare" "$TMP/bare.rb" --sandbox none
replay_json "$TMP/bare.rb" --sandbox none
expect_replay_status 0
expect_eq identical "$(jqr .verdict)" "verdict without a sandbox"
