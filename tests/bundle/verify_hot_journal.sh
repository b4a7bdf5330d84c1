#!/bin/sh
# A writer killed while it switched a bundle to WAL leaves a hot -journal
# beside it, with an empty -wal. verify reads the main file alone then,
# and must not take the -journal, there from the start, for a writer
# that came meanwhile: it read again and failed with "another process
# wrote it while it was read, 5 times".
. "$TESTS_DIR/lib.sh"
WRITER=$1

mkdir "$TMP/ws"
random_files "$TMP/ws" f 20 3000
"$WRITER" put "$TMP/b.rb" "$TMP"/ws/* >/dev/null
# A transaction in rollback-journal mode that spills pages into the main
# file, ended by a crash: the -journal is hot, and the main file contains
# the transaction's pages until that journal is rolled back.
python3 - "$TMP/b.rb" <<'PY'
import os, sqlite3, sys

db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA journal_mode = DELETE")
db.execute("PRAGMA cache_size = 2")
db.execute("BEGIN")
db.execute("CREATE TABLE spill (x BLOB)")
for _ in range(50):
    db.execute("INSERT INTO spill VALUES (randomblob(3000))")
os._exit(0)
PY
[ -s "$TMP/b.rb-journal" ] || fail "the crash left no -journal"
: >"$TMP/b.rb-wal"

expect_status 0 "$RUNBUNDLE" verify --allow-incomplete --json "$TMP/b.rb"
expect_eq true "$(jq -r .ok "$TMP/out")" "verify's ok"
expect_eq 1 "$(jq .events "$TMP/out")" "events"
expect_eq 1 "$(jq .verified_events "$TMP/out")" "verified events"
exit 0
