#!/bin/sh
# A reader that has the bundle open while the recording ends: the bundle
# is finalized all the same, runbundle exits with the agent's status and
# prints the root digest, and a warning names what stayed beside the file.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/record/record_lib.sh"

ws=$TMP/ws
mkdir "$ws"
cd "$ws"

# hold BUNDLE MODE: open BUNDLE with SQLite, create the file "holding" in
# the workspace, where the agent waits for it, and keep the bundle open
# until the file $TMP/release exists. MODE is "open" (a connection, no
# transaction) or "read" (a read transaction, which pins the WAL's last
# commits).
hold() {
	rm -f "$TMP/release"
	/usr/bin/python3 - "$1" "$2" "$ws" "$TMP" <<'PY' &
import os, sqlite3, sys, time
bundle, mode, ws, tmp = sys.argv[1:]
db = sqlite3.connect("file:%s?mode=ro" % bundle, uri=True,
                     isolation_level=None)
if mode == "read":
    db.execute("BEGIN")
db.execute("SELECT count(*) FROM events").fetchone()
open(os.path.join(ws, "holding"), "w").close()
while not os.path.exists(os.path.join(tmp, "release")):
    time.sleep(0.02)
db.close()
PY
	holder=$!
}

# record_held NAME MODE: record an agent that waits for the reader.
record_held() {
	bundle=$TMP/$1.rb
	rm -f "$ws/holding"
	set +e
	"$RB" record -o "$bundle" -- sh -c \
		'while [ ! -e holding ]; do sleep 0.02; done; exit 5' \
		>"$TMP/out" 2>"$TMP/err" </dev/null &
	pid=$!
	set -e
	i=0
	until [ -s "$bundle" ]; do
		i=$((i + 1))
		[ $i -le 500 ] || fail "$1: no bundle after 10 s"
		sleep 0.02
	done
	hold "$bundle" "$2"
	set +e
	wait "$pid"
	status=$?
	set -e
}

release() {
	touch "$TMP/release"
	wait "$holder"
}

# An open connection keeps the file in WAL mode, with every commit in it.
record_held open open
expect_recorded 5
expect_grep "^runbundle: warning: the bundle is finalized, but another \
process had it open, so it stays in WAL mode: '$TMP/open.rb'\$" "$TMP/err"
release

# A read transaction keeps the last commits in the -wal file.
record_held read read
expect_recorded 5
expect_grep "^runbundle: warning: the bundle is finalized, but another \
process had it open, so its last commits are in '$TMP/read.rb-wal'\$" \
	"$TMP/err"
[ -s "$TMP/read.rb-wal" ] || fail "the -wal file is gone or empty"

# A copy without the -wal file lacks the last commits. Depending on how
# far the checkpoint that the reader held up got, it is short of the
# pages its header counts, or it ends before the finalizing commit.
# Either way verify names the missing -wal file, not an interrupted
# download.
cp "$TMP/read.rb" "$TMP/copy.rb"
set +e
"$RB" verify "$TMP/copy.rb" >"$TMP/verify" 2>&1
copy_status=$?
set -e
[ "$copy_status" != 0 ] || fail "verify accepted the copy without its -wal"
expect_grep "'$TMP/copy.rb-wal'" "$TMP/verify"
grep -q "interrupted download" "$TMP/verify" &&
	fail "verify named the copy an interrupted download"
release
"$RB" verify "$TMP/read.rb" >"$TMP/verify" 2>&1 || {
	cat "$TMP/verify" >&2
	fail "verify after the reader closed"
}

# Without a reader there is no warning, and the file is the bundle.
record "$TMP/alone.rb" -- true
expect_recorded 0
grep -q "warning: the bundle is finalized" "$TMP/err" &&
	fail "a warning without a reader"
[ ! -e "$TMP/alone.rb-wal" ] || fail "a -wal file without a reader"
