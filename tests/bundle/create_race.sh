#!/bin/sh
# A bundle that another process is creating, held between its empty
# -wal and its name by a preloaded library. import, which creates a
# bundle, names the other creation, not a -wal left by a killed writer
# that the user should remove. snapshot waits for the creation and
# appends to the bundle.
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
wait_file "$b-wal" "the first snapshot made no -wal" "$TMP/first.err"
# The library raises SIGSTOP before link(), and ps shows the state T
# once the process has stopped.
until [ "$(ps -o stat= -p "$first" | cut -c1)" = T ]; do
	sleep 0.05
done

expect_status 3 "$RUNBUNDLE" import -o "$b" "$TMP/src.tar.zst"
expect_grep "^runbundle: cannot create bundle: '$b': another process is \
creating it\$" "$TMP/err"
[ -e "$b-wal" ] || fail "import removed the -wal of the other creation"

echo two >"$TMP/ws/a"
"$RUNBUNDLE" snapshot "$b" "$TMP/ws" >/dev/null 2>"$TMP/second.err" &
second=$!
sleep 0.2
kill -CONT "$first"
wait_status "$first"
expect_eq 0 "$status" "status of the first snapshot"
wait_status "$second"
[ "$status" -eq 0 ] || {
	cat "$TMP/second.err" >&2
	fail "the second snapshot: exit status $status"
}
expect_status 0 "$RUNBUNDLE" verify --allow-incomplete "$b"
expect_grep 'events 1 to 2 of 2 are intact' "$TMP/out"
exit 0
