#!/bin/sh
# Deduplication: snapshotting the same tree twice adds no object, and a
# one-byte change adds one blob plus the trees on the path to it.
. "$TESTS_DIR/lib.sh"

objects() {
	sqlite3 "$TMP/b.rb" 'SELECT count(*) FROM objects'
}

src=$TMP/src
mkdir -p "$src/a/b/c" "$src/other/deep"
for i in 1 2 3 4 5 6 7 8; do
	printf 'file %s\n' "$i" >"$src/a/b/c/f$i"
	printf 'other %s\n' "$i" >"$src/other/deep/g$i"
done
head -c 200000 /dev/urandom >"$src/other/big"

expect_status 0 "$RUNBUNDLE" snapshot "$TMP/b.rb" "$src"
first=$(objects)

for cache in "" --no-cache; do
	expect_status 0 "$RUNBUNDLE" snapshot $cache "$TMP/b.rb" "$src"
	expect_eq "$first" "$(objects)" \
		"objects after an unchanged snapshot $cache"
done

# Same size, one byte different: the content changes, nothing else.
printf 'file X\n' >"$src/a/b/c/f1"
expect_status 0 "$RUNBUNDLE" snapshot "$TMP/b.rb" "$src"
# One blob, and the trees of c, b, a and the root.
expect_eq $((first + 5)) "$(objects)" "objects after a one-byte change"

# The change went in: the checkout has the new byte.
expect_status 0 "$RUNBUNDLE" checkout "$TMP/b.rb" latest "$TMP/dst"
expect_eq "file X" "$(cat "$TMP/dst/a/b/c/f1")" "changed file"
cmp "$src/other/big" "$TMP/dst/other/big" || fail "big file differs"

# Unchanged snapshots share their root tree; the change made a new one.
tree_of() {
	sqlite3 "$TMP/b.rb" "SELECT json_extract(event, '$.data.root')
		FROM events WHERE seq = $1"
}
expect_eq 4 "$(sqlite3 "$TMP/b.rb" 'SELECT count(*) FROM events')" "events"
[ "$(tree_of 1)" = "$(tree_of 3)" ] || fail "unchanged roots differ"
[ "$(tree_of 3)" != "$(tree_of 4)" ] || fail "changed root is the same"
