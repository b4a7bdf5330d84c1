#!/bin/sh
# Snapshots started at once into a bundle that does not exist yet all
# succeed: one creates the bundle and the others append to it. Each
# lost the race before, either to the creation ("File exists", with
# the hint that a bundle is never overwritten), to the first snapshot's
# lock ("database is locked") or to the creation of the snapshot index.
. "$TESTS_DIR/lib.sh"

mkdir "$TMP/ws"
random_files "$TMP/ws" f 30 20000

for try in 1 2 3 4 5 6 7 8 9 10; do
	b=$TMP/b$try.rb
	pids=
	for n in 1 2 3; do
		"$RUNBUNDLE" snapshot "$b" "$TMP/ws" >/dev/null \
			2>"$TMP/err$n" &
		pids="$pids $!"
	done
	n=0
	for pid in $pids; do
		n=$((n + 1))
		wait_status "$pid"
		[ "$status" -eq 0 ] || {
			cat "$TMP/err$n" >&2
			fail "snapshot $n of try $try: exit status $status"
		}
	done
	expect_status 0 "$RUNBUNDLE" verify --allow-incomplete "$b"
	expect_grep 'events 1 to 3 of 3 are intact' "$TMP/out"
done
exit 0
