#!/bin/sh
# runbundle snapshot into a bundle that runbundle record is writing is
# rejected, and the recording gets no snapshot of another
# directory among its events.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/record/record_lib.sh"

ws=$TMP/ws
mkdir "$ws" "$TMP/other"
echo other >"$TMP/other/file"
cd "$ws"

bundle=$TMP/live.rb
record_live "$bundle" "$TMP/out" "$TMP/err" \
	'while [ ! -e go ]; do sleep 0.02; done'

expect_status 3 "$RB" snapshot "$bundle" "$TMP/other"
expect_grep "^runbundle: cannot snapshot into bundle: '$bundle': its \
first event is 'record', not 'snapshot'" "$TMP/err"
expect_grep "^hint: .*give the name of a new bundle" "$TMP/err"

touch go
wait_status "$recorder"
expect_recorded 0
$EVENTS "$bundle" kinds >"$TMP/kinds"
while read -r seq kind; do
	[ "$kind" = snapshot ] || continue
	path=$($EVENTS "$bundle" data "$seq" | jq -r .path)
	[ "$path" = "$ws" ] || fail "event $seq is a snapshot of '$path'"
done <"$TMP/kinds"
exit 0
