#!/bin/sh
# apply writes each file through the temporary name .NAME.runbundle-apply
# and removes what has that name first. When a snapshot has an entry of
# that name, apply takes another, so that it deletes neither a file of
# the checkout nor one of the run that it has just written.
. "$TESTS_DIR/lib.sh"

ws=$TMP/ws
mkdir -p "$ws/sub"
echo a >"$ws/a"
echo b >"$ws/b"
echo c >"$ws/sub/c"
echo 'kept by the checkout' >"$ws/.b.runbundle-apply"
"$RUNBUNDLE" snapshot "$TMP/run.rb" "$ws" >/dev/null
cp -a "$ws" "$TMP/target"

# A file of the run beside a file and a symlink that the run changes.
echo a2 >"$ws/a"
echo 'added by the run' >"$ws/.a.runbundle-apply"
echo b2 >"$ws/b"
rm "$ws/sub/c"
ln -s ../a "$ws/sub/c"
echo 'added by the run' >"$ws/sub/.c.runbundle-apply"
"$RUNBUNDLE" snapshot --finalize "$TMP/run.rb" "$ws" >/dev/null

# A file that a killed apply left behind is still removed.
echo partial >"$TMP/target/.a.runbundle-apply.1"

expect_status 0 "$RUNBUNDLE" apply --to "$TMP/target" "$TMP/run.rb"
expect_grep '^A  \.a\.runbundle-apply$' "$TMP/out"
expect_grep '^A  sub/\.c\.runbundle-apply$' "$TMP/out"
expect_eq 'added by the run' "$(cat "$TMP/target/.a.runbundle-apply")" \
	"the run's .a.runbundle-apply"
expect_eq 'added by the run' \
	"$(cat "$TMP/target/sub/.c.runbundle-apply")" \
	"the run's sub/.c.runbundle-apply"
expect_eq 'kept by the checkout' \
	"$(cat "$TMP/target/.b.runbundle-apply")" \
	"the checkout's .b.runbundle-apply"
expect_eq a2 "$(cat "$TMP/target/a")" "the applied a"
expect_eq b2 "$(cat "$TMP/target/b")" "the applied b"
expect_eq ../a "$(readlink "$TMP/target/sub/c")" "the applied symlink"
[ ! -e "$TMP/target/.a.runbundle-apply.1" ] ||
	fail "apply left the temporary file of a killed apply"
diff -r "$ws" "$TMP/target" >"$TMP/diff" ||
	fail "the target differs from the final state: $(cat "$TMP/diff")"

expect_status 0 "$RUNBUNDLE" apply --to "$TMP/target" "$TMP/run.rb"
expect_grep '^already applied: ' "$TMP/out"
exit 0
