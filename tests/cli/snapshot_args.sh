#!/bin/sh
# A snapshot of something that is not a directory fails before a bundle
# is created, so no empty bundle is left behind.
. "$TESTS_DIR/lib.sh"

expect_status 3 "$RUNBUNDLE" snapshot "$TMP/a.rb" "$TMP/missing"
expect_grep "^runbundle: cannot snapshot directory: '$TMP/missing': " "$TMP/err"
[ ! -e "$TMP/a.rb" ] || fail "a bundle was created for a missing DIR"

echo text >"$TMP/file"
expect_status 3 "$RUNBUNDLE" snapshot "$TMP/b.rb" "$TMP/file"
expect_grep "not a directory$" "$TMP/err"
[ ! -e "$TMP/b.rb" ] || fail "a bundle was created for a regular file"

mkdir "$TMP/dir"
expect_status 0 "$RUNBUNDLE" snapshot "$TMP/c.rb" "$TMP/dir"
[ -f "$TMP/c.rb" ] || fail "no bundle was created for a directory"
