#!/bin/sh
# A damaged bundle whose last event row has seq 2^63 - 1. The readers
# name the first missing event instead of running out of memory. checkout
# finds a snapshot by reading the stored rows, and does not count down
# from that seq.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/inspect/gate_lib.sh"
command -v jq >/dev/null || skip "jq is missing"
command -v sqlite3 >/dev/null || skip "sqlite3 is missing"

# The events of exchange_run (gate_lib.sh): 1 record, 2 and 3 the
# initial snapshot, 4 exec, 5 exchange, 6 and 7 the final snapshot,
# 8 end.
exchange_run "$TMP/run" "$TMP/ok.rb"
cp "$TMP/ok.rb" "$TMP/bad.rb"
sqlite3 "$TMP/bad.rb" "UPDATE events SET seq = 9223372036854775807
	WHERE seq = 8"

for cmd in inspect log gate ls; do
	expect_status 3 "$RUNBUNDLE" $cmd "$TMP/bad.rb"
	expect_grep "^runbundle: cannot read event: '8': not found$" \
		"$TMP/err"
	expect_grep "^hint: run 'runbundle verify $TMP/bad.rb' to see the \
damage$" "$TMP/err"
done

# Without the snapshot index, a read-only reader scans the events.
sqlite3 "$TMP/bad.rb" "DROP TABLE snapshot_index"
for snapshot in latest 6; do
	expect_status 0 timeout 60 "$RUNBUNDLE" checkout "$TMP/bad.rb" \
		"$snapshot" "$TMP/co-$snapshot"
	expect_eq final "$(cat "$TMP/co-$snapshot/a")" "a, checked out"
done
root=$(sqlite3 "$TMP/bad.rb" "SELECT json_extract(event, '\$.data.root')
	FROM events WHERE seq = 6")
expect_status 0 timeout 60 "$RUNBUNDLE" checkout "$TMP/bad.rb" \
	"$(echo "$root" | cut -c1-8)" "$TMP/co-prefix"
expect_eq final "$(cat "$TMP/co-prefix/a")" "a, checked out by prefix"
