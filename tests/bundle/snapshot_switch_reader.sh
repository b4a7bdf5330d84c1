#!/bin/sh
# A reader of a bundle while runbundle snapshot switches it into WAL
# mode and back. The bundle is then briefly in WAL mode without its -wal
# file, which readers must not take for a copy that lost its -wal.
. "$TESTS_DIR/lib.sh"
PRELOAD=$1
# The sanitizers must come first among the preloaded libraries.
skip_if_sanitized "$RUNBUNDLE" \
	"the sanitizers do not run beside another preloaded library"

mkdir "$TMP/ws"
echo one >"$TMP/ws/a"
"$RUNBUNDLE" snapshot "$TMP/b.rb" "$TMP/ws" >/dev/null

# stop_snapshot WHEN: start a snapshot that stops at WHEN
# (wal_stop_preload.c), and wait until it has stopped; sets $writer.
stop_snapshot() {
	echo "$1" >"$TMP/ws/a"
	WAL_STOP=$1 LD_PRELOAD=$PRELOAD "$RUNBUNDLE" snapshot "$TMP/b.rb" \
		"$TMP/ws" >"$TMP/snap.out" 2>"$TMP/snap.err" &
	writer=$!
	wait_stopped "$writer" "$1: the snapshot did not stop"
}

# resume_snapshot WHEN: let the stopped snapshot finish.
resume_snapshot() {
	kill -CONT "$writer"
	wait_status "$writer"
	[ "$status" = 0 ] || cat "$TMP/snap.err" >&2
	expect_eq 0 "$status" "$1: the snapshot's status"
}

# expect_no_missing WHEN FILE...: no file names a missing -wal.
expect_no_missing() {
	_when=$1
	shift
	! grep -q "missing" "$@" ||
		fail "$_when: a reader named a missing -wal: $(cat "$@")"
}

# read_during WHEN: verify and log find every event and no missing -wal
# while the snapshot is stopped at WHEN.
read_during() {
	stop_snapshot "$1"
	expect_status 0 "$RUNBUNDLE" verify --allow-incomplete "$TMP/b.rb"
	expect_no_missing "$1" "$TMP/out" "$TMP/err"
	expect_status 1 "$RUNBUNDLE" log "$TMP/b.rb"
	expect_no_missing "$1" "$TMP/err"
	resume_snapshot "$1"
}

# Opening the bundle switches it into WAL mode: SQLite writes the
# header, and creates the -wal only at its next read, with no lock
# between the two.
read_during journal
read_during create
# Leaving WAL mode at the end removes the -wal before it rewrites the
# header, holding a lock. A reader that comes then waits for the header.
stop_snapshot unlink
"$RUNBUNDLE" verify --allow-incomplete "$TMP/b.rb" >"$TMP/out" \
	2>"$TMP/err" &
reader=$!
sleep 0.1
resume_snapshot unlink
wait_status "$reader"
expect_eq 0 "$status" "verify's status"
expect_no_missing unlink "$TMP/out" "$TMP/err"
expect_status 0 "$RUNBUNDLE" verify --allow-incomplete "$TMP/b.rb"
expect_grep 'events 1 to 4 of 4 are intact' "$TMP/out"
exit 0
