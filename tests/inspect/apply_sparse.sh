#!/bin/sh
# apply writes the holes of a sparse file as holes, as checkout does, so
# that a run that made a large sparse file does not fill the target's
# disk with zeros. patch and apply list data moved inside a sparse file.
. "$TESTS_DIR/lib.sh"

ws=$TMP/ws
mkdir "$ws"
echo a >"$ws/a"
"$RUNBUNDLE" snapshot "$TMP/b.rb" "$ws" >/dev/null
expect_status 0 "$RUNBUNDLE" checkout "$TMP/b.rb" 1 "$TMP/target"

# 100 MiB with one byte of data in the middle, and a file of one hole.
truncate -s 100M "$ws/sparse"
printf x | dd of="$ws/sparse" bs=1 seek=50000000 conv=notrunc 2>/dev/null
truncate -s 1M "$ws/hole"
[ "$(stat -c %b "$ws/sparse")" -lt 1024 ] ||
	skip "the file system of $TMP does not keep holes"
"$RUNBUNDLE" snapshot --finalize "$TMP/b.rb" "$ws" >/dev/null

expect_status 0 "$RUNBUNDLE" apply --to "$TMP/target" "$TMP/b.rb"
for f in sparse hole; do
	cmp "$ws/$f" "$TMP/target/$f" || fail "content differs: $f"
	expect_eq "$(stat -c %s "$ws/$f")" "$(stat -c %s "$TMP/target/$f")" \
		"size of $f"
done
blocks=$(stat -c %b "$TMP/target/sparse")
[ "$blocks" -lt 1024 ] ||
	fail "the sparse file takes $blocks blocks: its holes were written"
expect_eq 0 "$(stat -c %b "$TMP/target/hole")" "blocks of the hole"

# Data moved to another offset of a sparse file of the same size keeps
# the content id, which names the bytes of the extents only: the change
# is in the extents.
mkdir "$TMP/moved"
head -c 4096 /dev/urandom >"$TMP/block"
truncate -s 1M "$TMP/moved/sp"
dd if="$TMP/block" of="$TMP/moved/sp" conv=notrunc 2>/dev/null
"$RUNBUNDLE" snapshot "$TMP/moved.rb" "$TMP/moved" >/dev/null
expect_status 0 "$RUNBUNDLE" checkout "$TMP/moved.rb" 1 "$TMP/moved.target"
rm "$TMP/moved/sp"
truncate -s 1M "$TMP/moved/sp"
dd if="$TMP/block" of="$TMP/moved/sp" bs=4096 seek=128 conv=notrunc \
	2>/dev/null
"$RUNBUNDLE" snapshot --finalize "$TMP/moved.rb" "$TMP/moved" >/dev/null
expect_status 0 "$RUNBUNDLE" patch "$TMP/moved.rb"
expect_grep '^Binary files a/sp and b/sp differ$' "$TMP/out"
expect_status 0 "$RUNBUNDLE" apply --to "$TMP/moved.target" "$TMP/moved.rb"
expect_grep '^M  sp$' "$TMP/out"
cmp "$TMP/moved/sp" "$TMP/moved.target/sp" || fail "moved data not applied"
