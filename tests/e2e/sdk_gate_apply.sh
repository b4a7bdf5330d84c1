#!/bin/sh
# gate and apply on the Agents SDK example's bundle. The run passes the
# built-in rules, and its change applies to a fresh copy of the
# workspace and makes the tests pass there. A copy that was changed
# since the recording is rejected with nothing written.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/e2e/e2e_lib.sh"

sdk_record "$TMP/r"

expect_status 0 "$RUNBUNDLE" gate "$TMP/r/run.rb"
expect_grep '^gate: all [0-9]* rules passed' "$TMP/out"
expect_status 0 "$RUNBUNDLE" gate --json "$TMP/r/run.rb"
expect_eq 0 "$(jq '[.. | objects | select(.passed == false)] | length' \
	"$TMP/out")" "failed rules"

# A fresh copy of the example's workspace is the initial state.
cp -R "$EXAMPLE/workspace" "$TMP/target"
(cd "$TMP/target" && node test/run.mjs >/dev/null 2>&1) &&
	fail "the tests pass before apply"
expect_status 0 "$RUNBUNDLE" apply --to "$TMP/target" "$TMP/r/run.rb"
cmp "$TMP/r/workspace/src/stats.mjs" "$TMP/target/src/stats.mjs" ||
	fail "apply wrote another src/stats.mjs than the run's"
(cd "$TMP/target" && node test/run.mjs >"$TMP/tests.out" 2>&1) || {
	cat "$TMP/tests.out" >&2
	fail "the tests fail after apply"
}
expect_grep '^4 of 4 passed$' "$TMP/tests.out"

# A target edited since the recording: a conflict, nothing written.
cp -R "$EXAMPLE/workspace" "$TMP/edited"
echo '// local change' >>"$TMP/edited/src/stats.mjs"
cp "$TMP/edited/src/stats.mjs" "$TMP/edited.before"
expect_status 1 "$RUNBUNDLE" apply --to "$TMP/edited" "$TMP/r/run.rb"
cmp "$TMP/edited.before" "$TMP/edited/src/stats.mjs" ||
	fail "apply changed a target that conflicts"
exit 0
