#!/bin/sh
# open_symlink.sh - a bundle read through a symlink while its writer has
# it open: SQLite keeps the -wal beside the file that the symlink names,
# and readers find the events committed there.
. "$TESTS_DIR/lib.sh"
WRITER=$1

mkdir "$TMP/runs" "$TMP/links"
"$WRITER" loop "$TMP/runs/b.rb" 11 >"$TMP/seqs" &
writer=$!
trap 'kill -CONT $writer 2>/dev/null; kill $writer 2>/dev/null || true
	cleanup' EXIT
i=0
until [ "$(wc -l <"$TMP/seqs")" -ge 3 ]; do
	i=$((i + 1))
	[ $i -le 1000 ] || fail "the writer committed no 3 events"
	sleep 0.01
done
# Stopped, the writer keeps the bundle open with its commits in the -wal.
kill -STOP "$writer"
[ -s "$TMP/runs/b.rb-wal" ] || fail "the writer's -wal is empty"

expect_status 0 "$RUNBUNDLE" verify --allow-incomplete "$TMP/runs/b.rb"
count=$(sed -n 's/^OK: .*, \([0-9]*\) events, .*/\1/p' "$TMP/out")
[ "$count" -ge 3 ] || fail "verify found $count events, not 3 or more"

ln -s ../runs/b.rb "$TMP/links/rel.rb"
ln -s "$TMP/runs/b.rb" "$TMP/links/abs.rb"
for link in rel abs; do
	expect_status 0 "$RUNBUNDLE" verify --allow-incomplete \
		"$TMP/links/$link.rb"
	expect_grep "^OK: .*, $count events, not finalized\$" "$TMP/out"
	grep -q missing "$TMP/out" "$TMP/err" &&
		fail "$link: verify named a missing -wal: $(cat "$TMP/err")"
	[ ! -e "$TMP/links/$link.rb-wal" ] ||
		fail "$link: a -wal beside the symlink"
done
exit 0
