#!/bin/sh
# A verify of a bundle at rest, which reads it without locks, while a
# snapshot appends to it. A preloaded library stops verify once it has
# read the first page, and the snapshot then writes the bundle whole.
# verify must not report the pages that changed under it as damage.
. "$TESTS_DIR/lib.sh"
PRELOAD=$1
# The sanitizers must come first among the preloaded libraries.
skip_if_sanitized "$RUNBUNDLE" \
	"the sanitizers do not run beside another preloaded library"

mkdir "$TMP/ws" "$TMP/ws2"
random_files "$TMP/ws" f 300 20000
random_files "$TMP/ws2" g 300 20000
expect_status 0 "$RUNBUNDLE" snapshot "$TMP/b.rb" "$TMP/ws"

WAL_STOP=page LD_PRELOAD=$PRELOAD "$RUNBUNDLE" verify --allow-incomplete \
	"$TMP/b.rb" >"$TMP/verify.out" 2>"$TMP/verify.err" &
verify=$!
wait_stopped "$verify" "verify did not stop"
expect_status 0 "$RUNBUNDLE" snapshot "$TMP/b.rb" "$TMP/ws2"
kill -CONT "$verify"
wait_status "$verify"
[ "$status" = 0 ] || cat "$TMP/verify.out" "$TMP/verify.err" >&2
expect_eq 0 "$status" "verify's status"
expect_grep 'OK: .* 2 events' "$TMP/verify.out"
exit 0
