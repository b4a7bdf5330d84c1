#!/bin/sh
# A snapshot that ends while a reader has the bundle in a read
# transaction moves its commits into the file once the reader is done,
# as finalize does. Switching the journal mode alone fails at once
# while another process has the file open. The last event then stayed
# in the -wal file, and a copy of the bundle without it lacked that
# event.
. "$TESTS_DIR/lib.sh"

mkdir "$TMP/ws"
echo one >"$TMP/ws/a"
"$RUNBUNDLE" snapshot "$TMP/b.rb" "$TMP/ws" >/dev/null
echo two >"$TMP/ws/a"

# start_reader READY SECONDS: a reader that puts the bundle in WAL
# mode, which it would be in during a recording, creates READY, and
# keeps a read transaction open for SECONDS; sets $reader.
start_reader() {
	python3 - "$TMP/b.rb" "$1" "$2" <<'PY' &
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA journal_mode = WAL")
db.execute("BEGIN")
db.execute("SELECT count(*) FROM events").fetchall()
open(sys.argv[2], "w").close()
time.sleep(float(sys.argv[3]))
db.execute("COMMIT")
PY
	reader=$!
	wait_file "$1" "the reader did not start"
}

start_reader "$TMP/ready" 3

expect_status 0 "$RUNBUNDLE" snapshot "$TMP/b.rb" "$TMP/ws"
cp "$TMP/b.rb" "$TMP/copy.rb"
wait_status "$reader"
expect_eq 0 "$status" "status of the reader"
expect_status 0 "$RUNBUNDLE" verify --allow-incomplete "$TMP/copy.rb"
expect_grep 'events 1 to 2 of 2 are intact' "$TMP/out"

# A read transaction open past the checkpoint's wait of 5 s leaves the
# last commit in the -wal file, and the snapshot reports it.
start_reader "$TMP/ready2" 8
echo three >"$TMP/ws/a"
expect_status 0 "$RUNBUNDLE" snapshot "$TMP/b.rb" "$TMP/ws"
expect_grep "^runbundle: warning: the bundle is stored, but another \
process had it open, so its last commits are in '$TMP/b.rb-wal'\$" \
	"$TMP/err"
expect_grep "^hint: keep '$TMP/b.rb-wal' beside the bundle" "$TMP/err"
wait_status "$reader"
expect_eq 0 "$status" "status of the second reader"

# A reader that has the bundle open without a transaction keeps it in
# WAL mode. The warning calls the bundle stored, because it is not
# finalized.
python3 - "$TMP/b.rb" "$TMP/ready3" "$TMP/release" <<'PY' &
import os, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA journal_mode = WAL")
db.execute("SELECT count(*) FROM events").fetchall()
open(sys.argv[2], "w").close()
while not os.path.exists(sys.argv[3]):
    time.sleep(0.02)
PY
reader=$!
wait_file "$TMP/ready3" "the third reader did not start"
echo four >"$TMP/ws/a"
expect_status 0 "$RUNBUNDLE" snapshot "$TMP/b.rb" "$TMP/ws"
touch "$TMP/release"
wait_status "$reader"
expect_grep "^runbundle: warning: the bundle is stored, but another \
process had it open, so it stays in WAL mode: '$TMP/b.rb'\$" "$TMP/err"
exit 0
