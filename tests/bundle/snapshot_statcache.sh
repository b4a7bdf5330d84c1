#!/bin/sh
# The stat cache compares ctime, inode and device too, as git's index
# does: content replaced with the same size, mode and mtime is read again.
. "$TESTS_DIR/lib.sh"

src=$TMP/src
mkdir -p "$src"
printf 'aaaa\n' >"$src/f"
printf 'kept\n' >"$src/kept"
# Old mtimes, so that the rule for racy timestamps trusts them.
touch -d '2020-01-01 00:00:00' "$src/f" "$src/kept"

snapshot_and_expect() {
	expect_status 0 "$RUNBUNDLE" snapshot "$TMP/b.rb" "$src"
	rm -rf "$TMP/dst"
	expect_status 0 "$RUNBUNDLE" checkout "$TMP/b.rb" latest "$TMP/dst"
	expect_eq "$1" "$(cat "$TMP/dst/f")" "$2"
}

snapshot_and_expect aaaa "first snapshot"

# A new inode with the old file's size, mode and mtime, as cp -p or
# tar -x leave it.
printf 'bbbb\n' >"$src/g"
touch -r "$src/f" "$src/g"
mv "$src/g" "$src/f"
snapshot_and_expect bbbb "file replaced by rename"

# The same inode rewritten and its mtime set back: only ctime changed.
printf 'cccc\n' >"$src/f"
touch -d '2020-01-01 00:00:00' "$src/f"
snapshot_and_expect cccc "file rewritten in place"

# An untouched file still comes from the cache.
expect_status 0 "$RUNBUNDLE" snapshot "$TMP/b.rb" "$src"
cached=$(sqlite3 "$TMP/b.rb" "SELECT json_extract(event, '$.data.cached')
	FROM events ORDER BY seq DESC LIMIT 1")
[ "$cached" -ge 1 ] || fail "no file came from the cache: $cached"

# Directories with the same content share a tree id, and each keeps its
# own records: every file of both comes from the cache.
same=$TMP/same
mkdir -p "$same/one" "$same/two"
for d in one two; do
	printf 'x\n' >"$same/$d/a"
	printf 'y\n' >"$same/$d/b"
done
touch -d '2020-01-01 00:00:00' "$same"/*/*
expect_status 0 "$RUNBUNDLE" snapshot "$TMP/same.rb" "$same"
expect_status 0 "$RUNBUNDLE" snapshot "$TMP/same.rb" "$same"
cached=$(sqlite3 "$TMP/same.rb" "SELECT json_extract(event, '$.data.cached')
	FROM events WHERE seq = 2")
expect_eq 4 "$cached" "files of identical directories from the cache"
