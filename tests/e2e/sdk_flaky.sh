#!/bin/sh
# The Agents SDK example with a flaky test added: each run of the tests
# fails it with probability 1/2, from a seed drawn anew, and the agent
# runs the tests twice. replay --repeat 10 finds it: a replay stays
# identical with probability 1/4, so all ten do with probability 4^-10.
# Every divergence is at a request that carries a test run's output.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/e2e/e2e_lib.sh"

FLAKY=1 sdk_record "$TMP/f"
"$RUNBUNDLE" cat "$TMP/f/run.rb" test/race.test.mjs >/dev/null ||
	fail "the flaky test is not in the recorded workspace"

replay_json "$TMP/f/run.rb" --trust-policy --repeat 10 -j 2
expect_eq 1 "$status" "replay status"
expect_eq "10 0" "$(jqr '"\(.replays) \(.failed)"')" "replays and failures"
expect_eq 10 "$(jqr '.identical + .volatile_only + .diverged')" \
	"replays counted"
diverged=$(jqr .diverged)
[ "$diverged" -ge 1 ] || fail "no replay diverged"

# Step 2 sends the model the output of the first test run, and step 5
# that of the second. No other step may diverge.
# On a failure, the steps and their explanations say where it went.
jqr '[.steps[] | {step, diverged, how: [.how[].explanation]}]' >"$TMP/steps"
at_tests=$(jqr '[.steps[] | select(.step == 2 or .step == 5) | .diverged] |
	add')
[ "$at_tests" = "$diverged" ] || cat "$TMP/steps" >&2
expect_eq "$diverged" "$at_tests" "divergences at the test runs"
expect_eq 0 "$(jqr '[.steps[] | select(.step != 2 and .step != 5)] |
	length')" "divergences elsewhere"
jqr '.steps[].how[].explanation' >"$TMP/how"
expect_grep 'the request differs at input\[[0-9]*\]\.output' "$TMP/how"
exit 0
