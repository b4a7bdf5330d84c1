#!/bin/sh
# The Agents SDK example, recorded through the Responses API (the SDK's
# default) and through Chat Completions: the agent fixes the failing
# test, nothing tries to leave the sandbox, and the Responses run
# replays identical five times. With tracing on, the export is caught.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/e2e/e2e_lib.sh"

AGENT_API=responses sdk_record "$TMP/r"
expect_grep '^median() now averages' "$TMP/record.out"
expect_grep ' 5 model calls, .* 1 file changed, 0 policy violations$' \
	"$TMP/record.err"

# The fix is in the final workspace, and the last test run passed.
"$RUNBUNDLE" cat "$TMP/r/run.rb" src/stats.mjs >"$TMP/stats.mjs" ||
	fail "cannot read the final src/stats.mjs"
expect_grep 'return (sorted\[mid - 1\] + sorted\[mid\]) / 2;' \
	"$TMP/stats.mjs"
"$RUNBUNDLE" inspect --json "$TMP/r/run.rb" >"$TMP/inspect.json" ||
	fail "inspect failed"
expect_eq 0 "$(jq '.violations | length' "$TMP/inspect.json")" \
	"violations"
# Node's fetch ignores the proxy variables, so egress-guard.mjs reports
# what no violation would: nothing tried to leave.
if grep '^egress: ' "$TMP/record.err"; then
	fail "the agent tried to reach a host other than loopback"
fi
"$RUNBUNDLE" log "$TMP/r/run.rb" >"$TMP/log" || fail "log failed"
expect_eq 5 "$(grep -c ' exchange .* POST /v1/responses 200' "$TMP/log")" \
	"Responses API exchanges"
# The tests ran twice: failing before the edit, passing after it.
expect_eq "exited 1 exited 0" "$(awk '
	/ exec .* node test\/run\.mjs$/ { test[$4] = 1 }
	/ process-end / && ($4 in test) {
		printf "%s%s %s", sep, $7, $8
		sep = " "
	}
	' "$TMP/log")" "statuses of the test runs"

replay_json "$TMP/r/run.rb" --trust-policy --repeat 5 -j 2
expect_eq 0 "$status" "replay status"
expect_eq "5 0 5 0" "$(jqr '[.replays, .failed, .identical, .diverged] |
	map(tostring) | join(" ")')" "replays, failures, identical, diverged"

# Chat Completions: the same run, and one identical replay.
AGENT_API=chat_completions sdk_record "$TMP/c"
"$RUNBUNDLE" log "$TMP/c/run.rb" >"$TMP/log" || fail "log failed"
expect_eq 5 "$(grep -c ' exchange .* POST /v1/chat/completions 200' \
	"$TMP/log")" "Chat Completions exchanges"
replay_json "$TMP/c/run.rb" --trust-policy
expect_eq "0 identical" "$status $(jqr .verdict)" "the chat replay"

# With the SDK's tracing left on, the guard reports its export, which
# the sandbox stops, and the run still fixes the test.
TRACING=1 sdk_record "$TMP/t"
expect_grep '^egress: api\.openai\.com:443$' "$TMP/record.err"
expect_grep '^median() now averages' "$TMP/record.out"
exit 0
