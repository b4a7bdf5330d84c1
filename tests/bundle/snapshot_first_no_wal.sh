#!/bin/sh
# A snapshot into a new bundle keeps it in rollback-journal mode from its
# creation to its end, and makes and removes no -wal. So a snapshot
# killed at any moment never leaves a bundle in WAL mode without its
# -wal, which readers would take for a copy that lost its last events.
# A preloaded library stops the snapshot where it would remove or create
# a -wal, and the test kills it there.
. "$TESTS_DIR/lib.sh"
PRELOAD=$1
# The sanitizers must come first among the preloaded libraries.
skip_if_sanitized "$RUNBUNDLE" \
	"the sanitizers do not run beside another preloaded library"

mkdir "$TMP/ws"
random_files "$TMP/ws" f 20 20000

for when in unlink create; do
	b=$TMP/$when.rb
	WAL_STOP=$when LD_PRELOAD=$PRELOAD "$RUNBUNDLE" snapshot "$b" \
		"$TMP/ws" >/dev/null 2>"$TMP/snap.err" &
	pid=$!
	# Until it stops (state T) or ends.
	while state=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) &&
		[ "$state" != T ] && [ "$state" != Z ]; do
		sleep 0.01
	done
	if [ "$state" = T ]; then
		kill -KILL "$pid"
		wait_status "$pid"
	else
		wait_status "$pid"
		expect_eq 0 "$status" "$when: the snapshot's status"
	fi
	expect_status 0 "$RUNBUNDLE" verify --allow-incomplete "$b"
	! grep -q missing "$TMP/out" "$TMP/err" ||
		fail "$when: verify names a missing -wal: $(cat "$TMP/err")"
	[ ! -e "$b-wal" ] || fail "$when: a -wal is left"
done
exit 0
