#!/bin/sh
# The snapshot index: one row per snapshot event, used to find the
# previous snapshot, the latest one and a root id prefix with B-tree
# look-ups, rebuilt for a bundle that lacks it, and checked by verify.
. "$TESTS_DIR/lib.sh"

b=$TMP/b.rb
mkdir -p "$TMP/a" "$TMP/c"
printf 'one\n' >"$TMP/a/f"
printf 'two\n' >"$TMP/c/g"
touch -d '2020-01-01 00:00:00' "$TMP/a/f" "$TMP/c/g"

expect_status 0 "$RUNBUNDLE" snapshot "$b" "$TMP/a"
expect_status 0 "$RUNBUNDLE" snapshot "$b" "$TMP/c"
expect_status 0 "$RUNBUNDLE" snapshot "$b" "$TMP/a"
expect_eq 3 "$(sqlite3 "$b" 'SELECT count(*) FROM snapshot_index')" "rows"

# The third snapshot found the first as its stat cache, past the second.
cached=$(sqlite3 "$b" "SELECT json_extract(event, '$.data.cached')
	FROM events WHERE seq = 3")
expect_eq 1 "$cached" "files from the cache"

# The look-ups search an index instead of scanning the table.
plan=$(sqlite3 "$b" "EXPLAIN QUERY PLAN SELECT max(seq) FROM
	snapshot_index WHERE path = 'x'")
case $plan in *"SEARCH snapshot_index USING COVERING INDEX"*) ;;
*) fail "path look-up does not use an index: $plan" ;; esac
plan=$(sqlite3 "$b" "EXPLAIN QUERY PLAN SELECT root, max(seq) FROM
	snapshot_index WHERE root BETWEEN x'00' AND x'ff'
	GROUP BY root LIMIT 2")
case $plan in *"USING COVERING INDEX snapshot_index_root"*) ;;
*) fail "prefix look-up does not use an index: $plan" ;; esac

# A prefix of the second root finds the second snapshot.
root2=$(sqlite3 "$b" "SELECT hex(root) FROM snapshot_index WHERE seq = 2")
prefix=$(printf '%s' "$root2" | cut -c1-7 | tr 'A-F' 'a-f')
expect_status 0 "$RUNBUNDLE" checkout "$b" "$prefix" "$TMP/out2"
expect_eq two "$(cat "$TMP/out2/g")" "checkout by prefix"
expect_status 0 "$RUNBUNDLE" checkout "$b" latest "$TMP/out3"
expect_eq one "$(cat "$TMP/out3/f")" "checkout of latest"
expect_status 0 "$RUNBUNDLE" verify --allow-incomplete "$b"

# A bundle without the index gets one, with the old snapshots in it.
sqlite3 "$b" 'DROP TABLE snapshot_index'
expect_status 0 "$RUNBUNDLE" snapshot "$b" "$TMP/c"
expect_eq 4 "$(sqlite3 "$b" 'SELECT count(*) FROM snapshot_index')" \
	"rows after rebuilding"
expect_status 0 "$RUNBUNDLE" verify --allow-incomplete "$b"

# verify reports a row that disagrees with its event, and a missing row.
cp "$b" "$TMP/wrong.rb"
sqlite3 "$TMP/wrong.rb" "UPDATE snapshot_index SET path = '/x' WHERE seq = 2"
expect_status 1 "$RUNBUNDLE" verify --allow-incomplete "$TMP/wrong.rb"
expect_grep "snapshot index disagrees" "$TMP/out"
cp "$b" "$TMP/missing.rb"
sqlite3 "$TMP/missing.rb" "DELETE FROM snapshot_index WHERE seq = 3"
expect_status 1 "$RUNBUNDLE" verify --allow-incomplete "$TMP/missing.rb"
expect_grep "missing from the snapshot index" "$TMP/out"
