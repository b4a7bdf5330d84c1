#!/bin/sh
# open_special.sh - a FIFO or a directory given as the bundle is rejected
# at once, with the reason, by verify, inspect, log and snapshot.
. "$TESTS_DIR/lib.sh"

mkdir "$TMP/dir" "$TMP/d.rb"
echo hello >"$TMP/dir/a"
mkfifo "$TMP/f.rb"

# timeout turns a hang into status 124, so it fails the expected 3. No
# writer ever opens the FIFO, so a read of it would block for ever.
for cmd in verify inspect log; do
	expect_status 3 timeout 20 "$RUNBUNDLE" "$cmd" "$TMP/f.rb"
	expect_grep "cannot open bundle: '$TMP/f.rb': not a regular file" \
		"$TMP/err"
	expect_status 3 timeout 20 "$RUNBUNDLE" "$cmd" "$TMP/d.rb"
	expect_grep "cannot open bundle: '$TMP/d.rb': is a directory" \
		"$TMP/err"
done

expect_status 3 timeout 20 "$RUNBUNDLE" snapshot "$TMP/f.rb" "$TMP/dir"
expect_grep "'$TMP/f.rb': not a regular file" "$TMP/err"
expect_status 3 timeout 20 "$RUNBUNDLE" snapshot "$TMP/d.rb" "$TMP/dir"
expect_grep "'$TMP/d.rb': is a directory" "$TMP/err"
[ -p "$TMP/f.rb" ] || fail "the FIFO was replaced"
exit 0
