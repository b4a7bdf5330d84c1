#!/bin/sh
# snapshot fails before it creates a bundle when DIR is not a directory
# or an earlier bundle's log is still there, so nothing is left behind.
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

# A -wal file left by a killed writer whose bundle was removed must not be
# replayed into a new bundle of the same name.
: >"$TMP/d.rb-wal"
expect_status 3 "$RUNBUNDLE" snapshot "$TMP/d.rb" "$TMP/dir"
expect_grep "'$TMP/d.rb-wal' of an earlier bundle is still there$" "$TMP/err"
expect_grep "^hint: remove '$TMP/d.rb-wal'" "$TMP/err"
[ ! -e "$TMP/d.rb" ] || fail "a bundle was created beside a leftover -wal"
