#!/bin/sh
# An apply that stops on a failed write reports how much of the run it
# applied. Once the cause is fixed, apply runs again: the paths written
# before have the final state, which counts as applied, not as a
# conflict. The writes fail on directories without write permission,
# so the test runs apply as an unprivileged user.
. "$TESTS_DIR/lib.sh"
command -v jq >/dev/null || skip "jq is missing"
unpriv_setup

ws=$TMP/ws
mkdir -p "$ws/sub"
echo a >"$ws/a"
echo b >"$ws/sub/b"
echo z >"$ws/z"
"$RUNBUNDLE" snapshot "$TMP/b.rb" "$ws" >/dev/null
cp -a "$ws" "$TMP/target"
cp -a "$ws" "$TMP/pristine"
echo A >"$ws/a"
echo B >"$ws/sub/b"
echo c >"$ws/sub/c"
echo Z >"$ws/z"
"$RUNBUNDLE" snapshot --finalize "$TMP/b.rb" "$ws" >/dev/null
chmod 644 "$TMP/b.rb"
[ "$(id -u)" -ne 0 ] || chown -R "$TEST_USER" "$TMP/target"

# a is written, then sub/b fails.
chmod 555 "$TMP/target/sub"
expect_status 3 as_user "$UNPRIV_RUNBUNDLE" apply --to "$TMP/target" \
	"$TMP/b.rb"
expect_grep "^runbundle: cannot apply: 'sub/b': " "$TMP/err"
expect_grep "^hint: 1 of the 4 changes is applied: fix the cause, then \
run 'runbundle apply' again" "$TMP/err"
expect_eq A "$(cat "$TMP/target/a")" "the file written before the failure"

chmod 755 "$TMP/target/sub"
expect_status 0 as_user "$UNPRIV_RUNBUNDLE" apply --json --to "$TMP/target" \
	"$TMP/b.rb"
expect_eq '[]' "$(jq -c '.conflicts' "$TMP/out")" "conflicts of the rerun"
expect_eq '["a"]' "$(jq -c '.already_final' "$TMP/out")" \
	"paths applied before"
expect_eq '["sub/b","sub/c","z"]' \
	"$(jq -c '[.changes[].path] | sort' "$TMP/out")" "changes of the rerun"
expect_eq 'true' "$(jq -r '.applied' "$TMP/out")" "applied"
diff -r "$ws" "$TMP/target" || fail "the rerun did not finish the apply"

# A failure on the first change: nothing is applied, as the hint reports.
rm -r "$TMP/target"
cp -a "$TMP/pristine" "$TMP/target"
[ "$(id -u)" -ne 0 ] || chown -R "$TEST_USER" "$TMP/target"
chmod 555 "$TMP/target"
expect_status 3 as_user "$UNPRIV_RUNBUNDLE" apply --to "$TMP/target" \
	"$TMP/b.rb"
expect_grep "^runbundle: cannot apply: 'a': " "$TMP/err"
expect_grep "^hint: nothing is applied: fix the cause" "$TMP/err"
chmod 755 "$TMP/target"
exit 0
