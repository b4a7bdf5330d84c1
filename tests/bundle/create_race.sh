#!/bin/sh
# A bundle that another process is creating, held before its name by a
# preloaded library. A second snapshot creates the bundle meanwhile, and
# the first, once it goes on, appends to that bundle instead of failing.
# import, which only creates, names the bundle that exists.
. "$TESTS_DIR/lib.sh"
PRELOAD=$1

# The sanitizers must come first among the preloaded libraries.
skip_if_sanitized "$RUNBUNDLE" \
	"the sanitizers do not run beside another preloaded library"

mkdir "$TMP/ws"
echo one >"$TMP/ws/a"
"$RUNBUNDLE" snapshot --finalize "$TMP/src.rb" "$TMP/ws" >/dev/null
"$RUNBUNDLE" export-bundle -o "$TMP/src.tar.zst" "$TMP/src.rb" >/dev/null

b=$TMP/b.rb
LD_PRELOAD=$PRELOAD "$RUNBUNDLE" snapshot "$b" "$TMP/ws" \
	>/dev/null 2>"$TMP/first.err" &
first=$!
trap 'kill -CONT $first 2>/dev/null || :; cleanup' EXIT
# The library raises SIGSTOP before link().
wait_stopped "$first" "the first snapshot did not stop"
[ ! -e "$b" ] || fail "the bundle has its name before link()"
[ ! -e "$b-wal" ] || fail "the creation made a -wal beside its name"

echo two >"$TMP/ws/a"
expect_status 0 "$RUNBUNDLE" snapshot "$b" "$TMP/ws"
kill -CONT "$first"
wait_status "$first"
[ "$status" -eq 0 ] || cat "$TMP/first.err" >&2
expect_eq 0 "$status" "status of the first snapshot"
expect_status 0 "$RUNBUNDLE" verify --allow-incomplete "$b"
expect_grep 'events 1 to 2 of 2 are intact' "$TMP/out"
[ ! -e "$TMP/b.rb.new-$first" ] ||
	fail "the first snapshot left its temporary file"

expect_status 3 "$RUNBUNDLE" import -o "$b" "$TMP/src.tar.zst"
expect_grep "^runbundle: cannot create bundle: '$b': File exists" \
	"$TMP/err"
exit 0
