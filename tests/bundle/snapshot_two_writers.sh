#!/bin/sh
# Two snapshots into one new bundle, the second while the first, which
# created the bundle, is stopped in the middle of its walk. The first
# snapshot of a new bundle is written in rollback-journal mode, and the
# second must not write beside it in WAL mode: the bundle must hold both
# snapshots whole.
. "$TESTS_DIR/lib.sh"
PRELOAD=$1
# The sanitizers must come first among the preloaded libraries.
skip_if_sanitized "$RUNBUNDLE" \
	"the sanitizers do not run beside another preloaded library"

mkdir "$TMP/ws" "$TMP/ws2"
random_files "$TMP/ws" f 40 20000
random_files "$TMP/ws2" g 40 20000
# Last in the walk, after the files before it are stored.
echo stop >"$TMP/ws/zz.stop-here"

WAL_STOP=read LD_PRELOAD=$PRELOAD "$RUNBUNDLE" snapshot "$TMP/b.rb" \
	"$TMP/ws" >"$TMP/first.out" 2>"$TMP/first.err" &
first=$!
wait_stopped "$first" "the first snapshot did not stop"

"$RUNBUNDLE" snapshot "$TMP/b.rb" "$TMP/ws2" >"$TMP/second.out" \
	2>"$TMP/second.err" &
second=$!
# Long enough for the second to finish, were it not held up.
sleep 1
kill -CONT "$first"
wait_status "$first"
[ "$status" = 0 ] || cat "$TMP/first.err" >&2
expect_eq 0 "$status" "the first snapshot's status"
wait_status "$second"
[ "$status" = 0 ] || cat "$TMP/second.err" >&2
expect_eq 0 "$status" "the second snapshot's status"

expect_status 0 "$RUNBUNDLE" verify --allow-incomplete "$TMP/b.rb"
expect_grep 'intact' "$TMP/out"
# log exits 1 for a bundle that is not finalized.
expect_status 1 "$RUNBUNDLE" log "$TMP/b.rb"
expect_eq 2 "$(grep -c "^step .*: snapshot" "$TMP/out")" \
	"snapshots in the log"
exit 0
