#!/bin/sh
# The policy's matching rules. Only the user can know that some values
# are random, such as a chunk id in tool output or a token in a
# command's argv. Without rules they make a replay diverge; with rules
# they are volatile, in the requests and in the process tree. A rule
# that does not compile stops the recording with a message naming it.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"

# Step 1 prints a random chunk id for the model to see; step 2 runs a
# program whose argv contains a random token.
random_hex='$(od -An -N3 -tx1 /dev/urandom | tr -d " \n")'
chunk="echo \"Chunk ID: $random_hex\""
token="sh -c \"exec echo token-$random_hex\""

base='"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc"'
cat >"$TMP/plain.json" <<JSON
{"version": 1, "filesystem": {"read_only": [$base]}}
JSON
cat >"$TMP/rules.json" <<JSON
{"version": 1, "filesystem": {"read_only": [$base]},
 "matching": {"rules": ["regex:(?<=Chunk ID: )[0-9a-f]+",
			"regex:token-[0-9a-f]+"]}}
JSON

# Without the rules, the chunk id is a divergence in the request that
# carries step 1's output.
new_workspace "$TMP/plain" "$chunk" "$token"
record_in "$TMP/plain" "$TMP/plain.rb" --policy "$TMP/plain.json"
replay_json "$TMP/plain.rb"
expect_replay_status 1
expect_eq 1 "$(jqr .first_divergence.step)" "first divergent step"
expect_eq "messages[1].content" \
	"$(jqr '.first_divergence.request.differences[0].path')" \
	"the path of the chunk id"
expect_eq divergent \
	"$(jqr '.first_divergence.request.differences[0].class')" \
	"the class of the chunk id without a rule"

# With them, the same agent replays with volatile differences only.
new_workspace "$TMP/rules" "$chunk" "$token"
record_in "$TMP/rules" "$TMP/rules.rb" --policy "$TMP/rules.json"
replay_json "$TMP/rules.rb"
expect_replay_status 0
expect_eq volatile-only "$(jqr .verdict)" "verdict with the rules"
expect_eq volatile "$(jqr '.differences[] | select(.step == 1) |
	.request.differences[0].class')" "the chunk id with a rule"

# runbundle diff of two recordings applies the first one's rules.
record_in "$TMP/rules" "$TMP/rules2.rb" --policy "$TMP/rules.json"
set +e
"$RUNBUNDLE" diff "$TMP/rules.rb" "$TMP/rules2.rb" >"$TMP/diff.out" 2>&1
status=$?
set -e
[ "$status" -eq 0 ] || { cat "$TMP/diff.out" >&2;
	fail "diff of two runs with the rules exited $status"; }

# The same rules on the command line serve a bundle recorded without
# them: replay and diff apply them beside the recorded policy's.
replay_json "$TMP/plain.rb" --match-rule 'regex:(?<=Chunk ID: )[0-9a-f]+' \
	--match-rule 'regex:token-[0-9a-f]+'
expect_replay_status 0
expect_eq volatile-only "$(jqr .verdict)" "verdict with --match-rule"
record_in "$TMP/plain" "$TMP/plain2.rb" --policy "$TMP/plain.json"
expect_status 1 "$RUNBUNDLE" diff "$TMP/plain.rb" "$TMP/plain2.rb"
expect_status 0 "$RUNBUNDLE" diff \
	--match-rule 'regex:(?<=Chunk ID: )[0-9a-f]+' \
	--match-rule 'regex:token-[0-9a-f]+' "$TMP/plain.rb" "$TMP/plain2.rb"
expect_status 2 "$RUNBUNDLE" diff --match-rule 'regex:(' \
	"$TMP/plain.rb" "$TMP/plain2.rb"
expect_grep "invalid --match-rule: .*'('" "$TMP/err"
expect_status 2 "$RUNBUNDLE" replay --match-rule 'path:messages[' \
	"$TMP/plain.rb"
expect_grep "invalid --match-rule" "$TMP/err"

# A pattern that does not compile is rejected before the agent starts.
cat >"$TMP/bad.json" <<JSON
{"version": 1, "matching": {"rules": ["regex:(unclosed"]}}
JSON
set +e
(cd "$TMP/rules" && "$RUNBUNDLE" record -o "$TMP/bad.rb" \
	--policy "$TMP/bad.json" --model-script "$TMP/rules.script.json" \
	-- true) >"$TMP/bad.out" 2>&1
status=$?
set -e
expect_eq 3 "$status" "exit status of a policy with a broken rule"
expect_grep "^runbundle: invalid policy: '$TMP/bad.json': \
matching.rules\\[0\\]: \"regex:(unclosed\": " "$TMP/bad.out"
[ ! -e "$TMP/bad.rb" ] || fail "a bundle was created for a broken rule"
