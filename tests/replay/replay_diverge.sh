#!/bin/sh
# Injected nondeterminism: the report names the first divergent step,
# the command responsible and the JSON paths exactly. A file written
# with the current time; a command whose binary changed between record
# and replay; an environment variable that differs between two runs.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"

# Step 2 writes the time into a file; step 3 shows it to the model.
new_workspace "$TMP/time" 'echo start' 'date +%s%N >stamp.txt' \
	'cat stamp.txt'
record_in "$TMP/time" "$TMP/time.rb"
replay_json "$TMP/time.rb" --trust-policy
expect_replay_status 1
expect_eq diverged "$(jqr .verdict)" "verdict"
expect_eq 2 "$(jqr .first_divergence.step)" "first divergent step"
expect_eq "stamp.txt content 2" \
	"$(jqr '.first_divergence.files[0] |
	"\(.path) \(.change) \(.since)"')" \
	"the file that differs"
expect_eq 0 "$(jqr '.first_divergence.request.differences | length')" \
	"request 2 is the same"
expect_eq "messages[3].content" \
	"$(jqr '.differences[] | select(.step == 3) |
		.request.differences[0].path')" "the path in request 3"
# The time itself is a Unix timestamp, which the normalizers know.
expect_eq volatile "$(jqr '.differences[] | select(.step == 3) |
		.request.differences[0].class')" "the class of that difference"
jqr '.differences[] | select(.step == 3) | .explanation' >"$TMP/why"
expect_grep 'stamp.txt has differed from the recording since step 2' \
	"$TMP/why"

# The text report says the same.
set +e
"$RUNBUNDLE" replay --trust-policy "$TMP/time.rb" >"$TMP/text" 2>"$TMP/err"
status=$?
set -e
expect_eq 1 "$status" "exit status of a diverged replay"
expect_grep "^first divergence: step 2: stamp.txt differs from the recording \
(content)\$" "$TMP/text"

# A tool outside the workspace, bound read-only by the policy, is
# another binary at replay: the host check names it, and step 2 diverges
# at that command, its exit status and the output the model saw.
mkdir "$TMP/tools"
cp /bin/true "$TMP/tools/mytool"
jq -n --arg tools "$TMP/tools" '{version: 1, filesystem: {read_only:
	["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc",
	$tools]}}' \
	>"$TMP/policy.json"
new_workspace "$TMP/bin" 'echo start' "$TMP/tools/mytool; echo \$?" 'true'
record_in "$TMP/bin" "$TMP/bin.rb" --policy "$TMP/policy.json"
cp /bin/false "$TMP/tools/mytool"
replay_json "$TMP/bin.rb" --trust-policy
expect_replay_status 1
expect_grep "executables.$TMP/tools/mytool" "$TMP/replay.err"
expect_eq 2 "$(jqr .first_divergence.step)" "first divergent step"
expect_eq "messages[2].content" \
	"$(jqr '.first_divergence.request.differences[0].path')" \
	"the path in request 2"
expect_eq '["0\n[exit 0]","1\n[exit 0]"]' \
	"$(jq -c '.first_divergence.request.differences[0] |
		[.recorded, .live]' "$TMP/json")" "both values"
# No tool call id in this agent's requests: the command of the step is
# a guess, and the report marks it as one. The shell ended as recorded,
# so the tool below it that did not is named.
expect_eq "$TMP/tools/mytool|true|null|2" \
	"$(jqr '.first_divergence.request.cause |
		"\(.command)|\(.guess)|\(.tie)|\(.step)"')" \
	"the command guessed behind request 2"
expect_eq "binary status" \
	"$(jqr '[.first_divergence.processes[] |
		select(.command == "'"$TMP/tools/mytool"'") | .difference] |
		join(" ")')" "what differs in the tool's process"
expect_eq "exit 0 exit 1" \
	"$(jqr '.first_divergence.processes[] | select(.difference ==
		"status") | "\(.recorded) \(.other)"')" "its exit status"

# Served the closest recording, the agent goes on to its end: the final
# step, with its exit status, is as recorded.
replay_json "$TMP/bin.rb" --trust-policy --on-mismatch closest
expect_replay_status 1
expect_eq 2 "$(jqr .first_divergence.step)" "first divergent step, closest"
expect_eq 0 "$(jqr '[.differences[] | select(.final)] | length')" \
	"differences in the final step, closest"

# Two runs that differ in one variable, compared with diff. The agent's
# environment differs from step 1 on. That shows once, at the agent,
# and not at each process that inherits it. The step that prints the
# variable differs at its message. The replay itself gives the recorded
# value back, whatever this host has.
jq -n '{version: 1, env: {pass: ["LANG", "MYVAR"]}}' >"$TMP/env.json"
new_workspace "$TMP/env" 'echo start' 'echo "$MYVAR"' 'true'
MYVAR=first record_in "$TMP/env" "$TMP/env1.rb" --policy "$TMP/env.json"
MYVAR=second record_in "$TMP/env" "$TMP/env2.rb" --policy "$TMP/env.json"
set +e
"$RUNBUNDLE" diff --json "$TMP/env1.rb" "$TMP/env2.rb" >"$TMP/json"
status=$?
set -e
expect_eq 1 "$status" "exit status of diff"
expect_eq '1 [{"position":"0","difference":"env","recorded":"MYVAR=first","other":"MYVAR=second"}]' \
	"$(jq -c '"\(.first_divergence.step) \(
		[.first_divergence.processes[] | del(.command)])"' "$TMP/json" |
		jq -r .)" "the variable that differs, at the agent only"
expect_eq 0 "$(jqr '[.differences[] | .processes[]? |
	select(.difference == "env")] | length - 1')" \
	"no process below the agent repeats the difference"
expect_eq "messages[2].content" \
	"$(jqr '.differences[] | select(.step == 2) |
		.request.differences[0].path')" \
	"where the two requests part"
expect_eq '["first\n[exit 0]","second\n[exit 0]"]' \
	"$(jq -c '.differences[] | select(.step == 2) |
		.request.differences[0] | [.recorded, .live]' "$TMP/json")" \
	"both values"
expect_eq 'sh -c echo "$MYVAR"|exit 0|true' \
	"$(jqr '.differences[] | select(.step == 2) | .request.cause |
		"\(.command)|\(.other)|\(.guess)"')" \
	"the command behind the variable's message"
# The text of diff ends as replay's does.
set +e
"$RUNBUNDLE" diff "$TMP/env1.rb" "$TMP/env2.rb" >"$TMP/text" 2>"$TMP/err"
status=$?
set -e
expect_eq 1 "$status" "exit status of diff, text"
expect_grep "^first divergence: step 1: \`sh \./agent\.sh\` ran with \
MYVAR=second, recorded MYVAR=first\$" "$TMP/text"
expect_grep "^step 2: the request differs at messages\\[2\\]\\.content, \
which is probably the output of" "$TMP/text"
MYVAR=third replay_json "$TMP/env1.rb" --trust-policy
expect_replay_status 0
expect_eq identical "$(jqr .verdict)" "replay with another MYVAR here"

# A file differs from step 2 on, and the replay stops at its divergent
# request 3. The recording's step 4 then has no files to compare with,
# and the final step still reports the file as differing since step 2.
new_workspace "$TMP/short" 'echo start' \
	'head -c 64 /dev/urandom | tr -dc a-z >rand.txt' 'cat rand.txt' 'true'
record_in "$TMP/short" "$TMP/short.rb"
replay_json "$TMP/short.rb" --trust-policy
expect_replay_status 1
expect_eq "rand.txt content 2" \
	"$(jqr '.differences[] | select(.final) | .files[0] |
	"\(.path) \(.change) \(.since)"')" \
	"the file that differs in the final step"
jqr '.differences[] | select(.final) | .explanation' >"$TMP/why"
expect_grep 'rand.txt has differed from the recording since step 2' \
	"$TMP/why"
