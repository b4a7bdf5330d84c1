#!/bin/sh
# A file that grows while it is read is read again, and recorded as
# changed when it keeps growing: never stored with content that does not
# match its recorded size.
. "$TESTS_DIR/lib.sh"

src=$TMP/src
mkdir -p "$src"
head -c 20000000 /dev/urandom >"$src/growing"
printf 'still\n' >"$src/steady"

# Append a line about every millisecond for at most 30 seconds.
(
	i=0
	while [ $i -lt 30000 ]; do
		printf 'line %s\n' $i >>"$src/growing"
		i=$((i + 1))
	done
) &
writer=$!
stop_writer() {
	kill "$writer" 2>/dev/null || true
	wait "$writer" 2>/dev/null || true
}
trap 'stop_writer; cleanup' EXIT
sleep 0.2

set +e
"$RUNBUNDLE" snapshot "$TMP/b.rb" "$src" >"$TMP/out" 2>"$TMP/err"
status=$?
set -e
stop_writer

changed=$(sqlite3 "$TMP/b.rb" \
	"SELECT json_extract(event, '\$.data.changed') FROM events")
case $status in
1)
	expect_grep "file kept changing while it was read: 'growing'" \
		"$TMP/err"
	expect_eq 1 "$changed" "changed count"
	expect_status 1 "$RUNBUNDLE" checkout "$TMP/b.rb" latest "$TMP/dst"
	expect_grep "not checked out: 'growing': kept changing" "$TMP/err"
	;;
0)
	# One read saw no change: what was stored must be a prefix of the
	# file as it is now, and at least as long as it was at the start.
	expect_eq 0 "$changed" "changed count"
	expect_status 0 "$RUNBUNDLE" checkout "$TMP/b.rb" latest "$TMP/dst"
	size=$(stat -c %s "$TMP/dst/growing")
	[ "$size" -ge 20000000 ] || fail "stored only $size bytes"
	cmp -n "$size" "$src/growing" "$TMP/dst/growing" ||
		fail "stored content is not what the file held"
	;;
*)
	cat "$TMP/err" >&2
	fail "snapshot exited with status $status"
	;;
esac
expect_eq still "$(cat "$TMP/dst/steady")" "steady file"
