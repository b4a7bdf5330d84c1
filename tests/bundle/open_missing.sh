#!/bin/sh
# open_missing.sh - every command prints the fix with the error for a
# bundle that cannot be opened. Replay and diff check the file's size
# before they open it, so they are checked too.
. "$TESTS_DIR/lib.sh"

missing=$TMP/missing.rb
for cmd in verify inspect log replay; do
	expect_status 3 "$RUNBUNDLE" "$cmd" "$missing"
	expect_grep "cannot open bundle: '$missing': No such file" "$TMP/err"
	expect_grep "^hint: check the path" "$TMP/err"
done
expect_status 3 "$RUNBUNDLE" replay --repeat 2 "$missing"
expect_grep "^hint: check the path" "$TMP/err"
expect_status 3 "$RUNBUNDLE" diff "$missing" "$missing"
expect_grep "^hint: check the path" "$TMP/err"
exit 0
