#!/bin/sh
# A bundle moved to another directory while record writes it: the
# recording goes on into the moved file, which ends finalized and
# complete, and the warning names the move, not a reader or a directory
# without write access.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/record/record_lib.sh"

ws=$TMP/ws
mkdir "$ws" "$TMP/moved"
cd "$ws"

bundle=$TMP/live.rb
record_live "$bundle" "$TMP/rec.out" "$TMP/rec.err" \
	'while [ ! -e go ]; do sleep 0.02; done; echo done >result'

mv "$bundle" "$TMP/moved/run.rb"
# Its last commits stay in the -wal by the old name until the end, and
# readers of the moved file report that its -wal is missing.
"$RB" verify --allow-incomplete "$TMP/moved/run.rb" >"$TMP/out" \
	2>"$TMP/err" || true
expect_grep "the bundle may lack committed events: \
'$TMP/moved/run.rb-wal': missing" "$TMP/err"
[ -e "$TMP/moved/run.rb-wal" ] && fail "the reader created a -wal"
touch go
wait_status "$recorder"
[ "$status" = 0 ] || cat "$TMP/rec.err" >&2
expect_eq 0 "$status" "record's status"
expect_grep "^runbundle: warning: the bundle is finalized, but it was \
moved or removed while it was written: '$bundle'\$" "$TMP/rec.err"
expect_grep "^hint: a moved file holds every commit where it is now" \
	"$TMP/rec.err"
grep -q "readonly database" "$TMP/rec.err" &&
	fail "the warning names SQLite's read-only error"

root=$(sed -n 's/^root: //p' "$TMP/rec.err")
expect_status 0 "$RB" verify "$TMP/moved/run.rb"
expect_grep "root digest $root" "$TMP/out"
expect_eq done "$("$RB" cat "$TMP/moved/run.rb" result)" \
	"the final snapshot's result"
exit 0
