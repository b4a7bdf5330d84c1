#!/bin/sh
# An object's kind is not part of its id, so a snapshot root stored
# under another kind passes every hash but cannot be read. verify
# reports it, and apply rejects the bundle.
. "$TESTS_DIR/lib.sh"

src=$TMP/src
mkdir -p "$src"
printf 'a\n' >"$src/a"
expect_status 0 "$RUNBUNDLE" snapshot "$TMP/good.rb" "$src"
printf 'b\n' >"$src/a"
expect_status 0 "$RUNBUNDLE" snapshot --finalize "$TMP/good.rb" "$src"
expect_status 0 "$RUNBUNDLE" verify "$TMP/good.rb"

cp "$TMP/good.rb" "$TMP/bad.rb"
sqlite3 "$TMP/bad.rb" "UPDATE objects SET kind = 'blob' WHERE kind = 'tree'"
expect_status 1 "$RUNBUNDLE" verify "$TMP/bad.rb"
expect_grep "^problem: event 1: object [0-9a-f]*: the snapshot's root is \
not an object of kind tree" "$TMP/out"
expect_grep "^2 problems in '$TMP/bad.rb'" "$TMP/out"
mkdir "$TMP/target"
expect_status 3 "$RUNBUNDLE" apply --to "$TMP/target" "$TMP/bad.rb"
expect_grep "^runbundle: cannot apply: '$TMP/bad.rb': the bundle is damaged: \
the snapshot's root is not an object of kind tree" "$TMP/err"

