#!/bin/sh
# A script outside the workspace that changed between record and
# replay runs the same interpreter, and prints the same. The process
# that ran it diverges all the same, as a binary that changed does.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"

mkdir "$TMP/tools"
printf '#!/bin/sh\necho hello\n' >"$TMP/tools/mytool"
chmod 755 "$TMP/tools/mytool"
jq -n --arg tools "$TMP/tools" '{version: 1, filesystem: {read_only:
	["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc",
	$tools]}}' >"$TMP/policy.json"
new_workspace "$TMP/ws" 'echo start' "$TMP/tools/mytool" 'true'
record_in "$TMP/ws" "$TMP/run.rb" --policy "$TMP/policy.json"

replay_json "$TMP/run.rb" --trust-policy
expect_replay_status 0
expect_eq identical "$(jqr .verdict)" "verdict with the same script"

printf '#!/bin/sh\n# another version\necho hello\n' >"$TMP/tools/mytool"
replay_json "$TMP/run.rb" --trust-policy
expect_replay_status 1
expect_eq 2 "$(jqr .first_divergence.step)" "the step of the script"
expect_eq "$TMP/tools/mytool binary" \
	"$(jqr '.first_divergence.processes[0] |
		"\(.command) \(.difference)"')" \
	"the process that ran the script"
expect_eq "$(sha256sum <"$TMP/tools/mytool" | cut -d' ' -f1)" \
	"$(jqr .first_divergence.processes[0].other)" \
	"the hash of the script that ran"
set +e
"$RUNBUNDLE" replay --trust-policy "$TMP/run.rb" >"$TMP/text" 2>/dev/null
set -e
expect_grep "^first divergence: step 2: \`$TMP/tools/mytool\` ran another \
script: $TMP/tools/mytool has sha256 " "$TMP/text"
