#!/bin/sh
# open_appended.sh - bytes after the last page of a bundle, which SQLite
# would ignore, are reported as damage, like a truncated file.
. "$TESTS_DIR/lib.sh"
WRITER=$1

seq 1 20000 >"$TMP/text"
"$WRITER" tree "$TMP/b.rb" "$TMP/text" >/dev/null
"$WRITER" finalize "$TMP/b.rb" >/dev/null
size=$(stat -c %s "$TMP/b.rb")

cp "$TMP/b.rb" "$TMP/app.rb"
head -c 5000 /dev/urandom >>"$TMP/app.rb"
expect_status 3 "$RUNBUNDLE" verify "$TMP/app.rb"
expect_grep "cannot open bundle: '$TMP/app.rb': .*$((size + 5000)) bytes, \
but its header says $size" "$TMP/err"
expect_grep "^hint: .*truncate -s $size" "$TMP/err"
expect_status 3 "$RUNBUNDLE" log "$TMP/app.rb"

# One byte is enough.
cp "$TMP/b.rb" "$TMP/one.rb"
printf x >>"$TMP/one.rb"
expect_status 3 "$RUNBUNDLE" verify "$TMP/one.rb"

# The fix that the hint gives restores the bundle.
truncate -s "$size" "$TMP/app.rb"
expect_status 0 "$RUNBUNDLE" verify "$TMP/app.rb"
exit 0
