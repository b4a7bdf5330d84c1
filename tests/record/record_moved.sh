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
"$RB" record -o "$bundle" -- sh -c \
	'while [ ! -e go ]; do sleep 0.02; done; echo done >result' \
	>"$TMP/out" 2>"$TMP/err" </dev/null &
recorder=$!
i=0
until [ -s "$bundle" ] && "$RB" log "$bundle" 2>/dev/null |
	grep -q ' exec '; do
	i=$((i + 1))
	[ $i -le 500 ] || fail "the agent did not start in 10 s"
	sleep 0.02
done

mv "$bundle" "$TMP/moved/run.rb"
touch go
wait_status "$recorder"
[ "$status" = 0 ] || cat "$TMP/err" >&2
expect_eq 0 "$status" "record's status"
expect_grep "^runbundle: warning: the bundle is finalized, but it was \
moved or removed while it was written: '$bundle'\$" "$TMP/err"
expect_grep "^hint: a moved file holds every commit where it is now" \
	"$TMP/err"
grep -q "readonly database" "$TMP/err" &&
	fail "the warning names SQLite's read-only error"

root=$(sed -n 's/^root: //p' "$TMP/err")
expect_status 0 "$RB" verify "$TMP/moved/run.rb"
expect_grep "root digest $root" "$TMP/out"
expect_eq done "$("$RB" cat "$TMP/moved/run.rb" result)" \
	"the final snapshot's result"
exit 0
