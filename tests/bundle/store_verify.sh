#!/bin/sh
# store_verify.sh - runbundle verify on intact bundles: the OK line, the
# JSON report, incomplete bundles, and the files it must reject.
. "$TESTS_DIR/lib.sh"
WRITER=$1

head -c 3000000 /dev/urandom >"$TMP/big"
echo hello >"$TMP/small"
seq 1 20000 >"$TMP/text"
"$WRITER" tree "$TMP/b.rb" "$TMP/big" "$TMP/small" "$TMP/text" \
	>"$TMP/refs"

# Not finalized: intact, but incomplete.
expect_status 1 "$RUNBUNDLE" verify "$TMP/b.rb"
expect_grep '^incomplete: .*events 1 to 1 of 1 are intact' "$TMP/out"
expect_grep 'allow-incomplete' "$TMP/err"
expect_status 0 "$RUNBUNDLE" verify --allow-incomplete "$TMP/b.rb"
expect_grep '^OK: ' "$TMP/out"

root=$("$WRITER" finalize "$TMP/b.rb")
[ ! -e "$TMP/b.rb-wal" ] || fail "finalize left a WAL file"
expect_status 0 "$RUNBUNDLE" verify "$TMP/b.rb"
expect_grep "^OK: .* objects, 1 events, root digest $root\$" "$TMP/out"

expect_status 0 "$RUNBUNDLE" verify --json "$TMP/b.rb"
expect_eq true "$(jq -r .ok "$TMP/out")" "json ok"
expect_eq true "$(jq -r .finalized "$TMP/out")" "json finalized"
expect_eq "$root" "$(jq -r .root "$TMP/out")" "json root"
expect_eq 0 "$(jq '.problems | length' "$TMP/out")" "json problems"
expect_eq 1 "$(jq .verified_events "$TMP/out")" "json verified_events"

# The format is readable with the sqlite3 shell and zstd alone, as
# docs/bundle-format.md shows: extract one object and check its id.
id=$(awk '$2 ~ /small$/ { print $1 }' "$TMP/refs")
sqlite3 -readonly "$TMP/b.rb" \
	"SELECT writefile('$TMP/obj', data) FROM objects WHERE id = x'$id'" \
	>/dev/null
expect_eq "$id" "$(sha256sum <"$TMP/obj" | cut -d' ' -f1)" "raw object id"
big=$(sqlite3 -readonly "$TMP/b.rb" "SELECT hex(id) FROM objects
	WHERE encoding = 'zstd' AND kind = 'blob' LIMIT 1" |
	tr 'A-F' 'a-f')
sqlite3 -readonly "$TMP/b.rb" \
	"SELECT writefile('$TMP/obj.zst', data) FROM objects
	 WHERE id = x'$big'" >/dev/null
expect_eq "$big" "$(zstd -dc "$TMP/obj.zst" | sha256sum | cut -d' ' -f1)" \
	"zstd object id"
expect_eq 2 "$(sqlite3 -readonly "$TMP/b.rb" 'PRAGMA user_version')" \
	"user_version"
expect_eq 1380077124 \
	"$(sqlite3 -readonly "$TMP/b.rb" 'PRAGMA application_id')" \
	"application_id"

# Files that are not bundles.
expect_status 3 "$RUNBUNDLE" verify "$TMP/missing.rb"
expect_grep "cannot open bundle: '.*missing.rb': No such file" "$TMP/err"
echo "just text" >"$TMP/text"
expect_status 3 "$RUNBUNDLE" verify "$TMP/text"
expect_grep "not a runbundle bundle" "$TMP/err"
sqlite3 "$TMP/other.db" "CREATE TABLE t (x); INSERT INTO t VALUES (1)"
expect_status 3 "$RUNBUNDLE" verify "$TMP/other.db"
expect_grep "not a runbundle bundle" "$TMP/err"
: >"$TMP/empty"
expect_status 3 "$RUNBUNDLE" verify "$TMP/empty"
expect_grep "not a runbundle bundle" "$TMP/err"

# The right application_id on a schema of someone else's.
sqlite3 "$TMP/fake.rb" "PRAGMA application_id = 1380077124;
	PRAGMA user_version = 1; CREATE TABLE meta (key, value);
	CREATE VIEW objects AS SELECT 1; CREATE TABLE events (x)"
expect_status 3 "$RUNBUNDLE" verify "$TMP/fake.rb"
expect_grep "table 'meta' is not the one of format version 1" "$TMP/err"

# A newer format version.
cp "$TMP/b.rb" "$TMP/new.rb"
sqlite3 "$TMP/new.rb" "PRAGMA user_version = 7"
expect_status 3 "$RUNBUNDLE" verify "$TMP/new.rb"
expect_grep "unsupported format version 7" "$TMP/err"
expect_grep "hint: upgrade runbundle" "$TMP/err"

# The command line.
expect_status 2 "$RUNBUNDLE" verify
expect_status 2 "$RUNBUNDLE" verify --bogus "$TMP/b.rb"
expect_status 2 "$RUNBUNDLE" verify "$TMP/b.rb" extra
exit 0
