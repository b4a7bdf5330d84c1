#!/bin/sh
# inspect and log of an unfinalized bundle without events, as a
# recording killed before its first event leaves. The verify line and
# the error report that it has no events. They show no empty range
# "1 to 0", and no last events that no digest covers.
. "$TESTS_DIR/lib.sh"
command -v sqlite3 >/dev/null || skip "sqlite3 is missing"

mkdir "$TMP/ws"
echo one >"$TMP/ws/a"
"$RUNBUNDLE" snapshot "$TMP/u.rb" "$TMP/ws" >/dev/null
# The bundle leaves WAL mode, so that no -wal is missing and no event
# can be in one.
sqlite3 "$TMP/u.rb" 'PRAGMA journal_mode=DELETE; DELETE FROM events;
	DELETE FROM objects; DELETE FROM stat_cache;
	DELETE FROM snapshot_index' >/dev/null || fail "cannot empty the bundle"

expect_status 1 "$RUNBUNDLE" verify "$TMP/u.rb"
expect_grep "^incomplete: '$TMP/u.rb' was not finalized and has no \
events$" "$TMP/out"
# The events are not in a -wal, so --allow-incomplete accepts the bundle.
for status_and_flag in '1' '0 --allow-incomplete'; do
	set -- $status_and_flag
	expect_status "$1" "$RUNBUNDLE" inspect ${2:-} "$TMP/u.rb"
	expect_grep '^verify  *incomplete: not finalized, and no events$' \
		"$TMP/out"
	grep -q 'events 1 to' "$TMP/out" &&
		fail "inspect ${2:-} gave a range of no events"
done
# log and inspect without --allow-incomplete report that there are no
# events, not that the last ones are unchecked.
for command in log inspect; do
	expect_status 1 "$RUNBUNDLE" "$command" "$TMP/u.rb"
	expect_grep "^runbundle: the bundle is incomplete: '$TMP/u.rb': it \
was not finalized, and has no events$" "$TMP/err"
	grep -q 'last events' "$TMP/err" &&
		fail "$command names last events of a bundle without any"
done
exit 0
