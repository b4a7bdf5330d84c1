#!/bin/sh
# A snapshot that fails in a bundle it created removes the bundle,
# which has no events, unless another process has the bundle open in a
# transaction, whose commits would go to a removed file. Here a reader
# keeps a transaction open while the snapshot, stopped by a preloaded
# library in its walk, waits for it and fails at its commit.
. "$TESTS_DIR/lib.sh"
PRELOAD=$1
# The sanitizers must come first among the preloaded libraries.
skip_if_sanitized "$RUNBUNDLE" \
	"the sanitizers do not run beside another preloaded library"

mkdir "$TMP/ws"
# First in the walk, before the snapshot has written much.
echo stop >"$TMP/ws/00.stop-here"
echo one >"$TMP/ws/a"
b=$TMP/b.rb

WAL_STOP=read LD_PRELOAD=$PRELOAD "$RUNBUNDLE" snapshot "$b" "$TMP/ws" \
	>/dev/null 2>"$TMP/snap.err" &
writer=$!
wait_stopped "$writer" "the snapshot did not stop"

# A reader in a transaction until $TMP/release appears.
/usr/bin/python3 - "$b" "$TMP" <<'PY' &
import os, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN")
db.execute("SELECT count(*) FROM meta").fetchone()
open(os.path.join(sys.argv[2], "holding"), "w").close()
while not os.path.exists(os.path.join(sys.argv[2], "release")):
    time.sleep(0.05)
db.execute("COMMIT")
PY
reader=$!
wait_file "$TMP/holding" "the reader took no lock"

kill -CONT "$writer"
wait_status "$writer"
expect_eq 3 "$status" "the snapshot's status"
expect_grep "database is locked" "$TMP/snap.err"
expect_grep "cannot remove the bundle: '$b': another process has it \
open, so it is kept" "$TMP/snap.err"
[ -e "$b" ] || fail "the bundle was removed under its reader"

touch "$TMP/release"
wait_status "$reader"
expect_eq 0 "$status" "the reader's status"
exit 0
