#!/bin/sh
# A re-snapshot reuses the previous tree ids only where nothing changed.
# A racy file is read again, and a new mode, a new entry or excluded
# names deep in a wide tree all show in the new snapshot. A tree deeper
# than the walk goes ends in one error entry.
. "$TESTS_DIR/lib.sh"

src=$TMP/src
mkdir -p "$src"
# More directories than the walk lists ahead, two levels deep, so both
# threads list some of them.
for d in $(seq 1 40); do
	mkdir -p "$src/d$d/sub"
	printf 'a%s\n' "$d" >"$src/d$d/a"
	printf 'b%s\n' "$d" >"$src/d$d/sub/b"
	printf 'o%s\n' "$d" >"$src/d$d/sub/x.o"
done
find "$src" -exec touch -h -d '2020-01-01 00:00:00' {} +

# Print the root tree id of a new snapshot of $src.
snap() {
	expect_status 0 "$RUNBUNDLE" snapshot --exclude '*.o' "$TMP/b.rb" \
		"$src"
	sed -n 's/^snapshot [0-9]* //p' "$TMP/out"
}

last_stat() {
	sqlite3 "$TMP/b.rb" "SELECT json_extract(event, '\$.data.$1')
		FROM events WHERE json_extract(event, '\$.kind') = 'snapshot'
		ORDER BY seq DESC LIMIT 1"
}

trees() {
	sqlite3 "$TMP/b.rb" "SELECT count(*) FROM objects WHERE kind = 'tree'"
}

check_out() {
	rm -rf "$TMP/dst"
	expect_status 0 "$RUNBUNDLE" checkout "$TMP/b.rb" latest "$TMP/dst"
}

first=$(snap)
[ -n "$first" ] || fail "no root id printed: $(cat "$TMP/out")"
check_out
[ -z "$(find "$TMP/dst" -name '*.o')" ] || fail "an excluded file was stored"
expect_eq b40 "$(cat "$TMP/dst/d40/sub/b")" "file two levels down"

# Nothing changed: the same root, no new tree, every file from the cache.
before=$(trees)
expect_eq "$first" "$(snap)" "root of an unchanged tree"
expect_eq "$before" "$(trees)" "tree objects after an unchanged snapshot"
expect_eq 80 "$(last_stat cached)" "files from the cache"
expect_eq 0 "$(last_stat bytes_read)" "bytes read with nothing changed"

# A file whose mtime is within the racy window of the snapshot before is
# read again, even though its stat data matches. An mtime in the future
# is always in that window.
touch -d "@$(($(date +%s) + 3600))" "$TMP/future"
printf 'racy\n' >"$src/d7/a"
touch -r "$TMP/future" "$src/d7/a"
snap >/dev/null
snap >/dev/null
expect_eq 79 "$(last_stat cached)" "files from the cache with one racy"
expect_eq 5 "$(last_stat bytes_read)" "bytes read of the racy file"

# New content in the racy window, with the size and mtime it had.
printf 'RACY\n' >"$src/d7/a"
touch -r "$TMP/future" "$src/d7/a"
snap >/dev/null
check_out
expect_eq RACY "$(cat "$TMP/dst/d7/a")" "racy file rewritten in place"
touch -d '2020-01-01 00:00:00' "$src/d7/a"
base=$(snap)

# A new mode deep down changes every tree above it.
chmod 700 "$src/d31/sub/b"
moded=$(snap)
[ "$moded" != "$base" ] || fail "a new mode kept the root id"
check_out
expect_eq 700 "$(stat -c %a "$TMP/dst/d31/sub/b")" "mode after checkout"

# So does a new entry, and a new empty directory.
printf 'new\n' >"$src/d12/sub/new"
mkdir "$src/d3/empty"
added=$(snap)
[ "$added" != "$moded" ] || fail "new entries kept the root id"
check_out
expect_eq new "$(cat "$TMP/dst/d12/sub/new")" "new file after checkout"
[ -d "$TMP/dst/d3/empty" ] || fail "new empty directory missing"

# And a removed one.
rm -r "$src/d40"
removed=$(snap)
[ "$removed" != "$added" ] || fail "a removed directory kept the root id"
check_out
[ ! -e "$TMP/dst/d40" ] || fail "removed directory came back"

# Directories nested deeper than the walk goes become one error entry,
# whichever thread listed the levels above it, and the snapshot exits 1
# as incomplete.
deep=$TMP/deep
path=$deep
for _ in $(seq 1 514); do
	path=$path/a
done
mkdir -p "$path"
expect_status 1 "$RUNBUNDLE" snapshot --json "$TMP/deep.rb" "$deep"
expect_eq 1 "$(jq .errors "$TMP/out")" "error entries of a deep tree"
