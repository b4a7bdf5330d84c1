#!/bin/sh
# The progress line of long snapshots. Record and snapshot show it on a
# terminal (script(1) gives runbundle one), cut to the terminal's width
# and cleared at the end. It never shows when stderr is not a terminal,
# or when the snapshot is shorter than the delay.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/record/record_lib.sh"
command -v script >/dev/null || skip "script (util-linux) is missing"

ws=$TMP/ws
mkdir "$ws"
for d in 1 2 3 4 5; do
	mkdir "$ws/d$d"
	for f in 1 2 3 4; do
		echo "$d $f" >"$ws/d$d/f$f"
	done
done

# on_tty LOG COMMAND: run COMMAND (one string for sh -c) on a terminal,
# with its output in LOG.
on_tty() {
	log=$1
	shift
	script -qfec "$1" "$log" >/dev/null </dev/null ||
		fail "on a terminal: '$1' failed: $(cat "$log")"
}

# check_cleared LOG: every progress line is followed by a carriage return
# and an erase to the end of the line, which the next output starts from.
check_cleared() {
	/usr/bin/python3 - "$1" <<'PY' || fail \
		"the progress line in '$1' was not cleared"
import re, sys
text = open(sys.argv[1], "rb").read()
last = text.rfind(b"snapshot of ")
if last < 0:
    sys.exit(1)
rest = text[last:]
end = rest.find(b"\x1b[K")
sys.exit(0 if rest[end + 3:].startswith(b"\r\x1b[K") else 1)
PY
}

export RUNBUNDLE_PROGRESS_DELAY=0
on_tty "$TMP/snap.log" "'$RB' snapshot '$TMP/s1.rb' '$ws'"
expect_grep "snapshot of $ws: [0-9]* files, [0-9]* director" "$TMP/snap.log"
check_cleared "$TMP/snap.log"

on_tty "$TMP/narrow.log" "stty cols 30; '$RB' snapshot '$TMP/s2.rb' '$ws'"
tr '\r' '\n' <"$TMP/narrow.log" | sed 's/\x1b\[K//g' |
	awk '/^snapshot of/ && length($0) > 29 { bad = 1 } END { exit bad }' ||
	fail "a progress line is wider than a terminal of 30 columns"

cd "$ws"
on_tty "$TMP/record.log" "'$RB' record -o '$TMP/r1.rb' -- true"
expect_grep "snapshot of the workspace: " "$TMP/record.log"
check_cleared "$TMP/record.log"
expect_grep 'bundle: ' "$TMP/record.log"

# Not a terminal: no progress, whatever the delay.
expect_status 0 "$RB" snapshot "$TMP/s3.rb" "$ws"
if grep -q 'snapshot of' "$TMP/err"; then
	fail "snapshot showed progress on a file"
fi
record "$TMP/r2.rb" -- true
expect_recorded 0
if grep -q 'snapshot of' "$TMP/err"; then
	fail "record showed progress on a file"
fi

# A terminal, but snapshots shorter than the default delay of 1 s.
unset RUNBUNDLE_PROGRESS_DELAY
on_tty "$TMP/quick.log" "'$RB' snapshot '$TMP/s4.rb' '$ws'"
if grep -q 'snapshot of' "$TMP/quick.log"; then
	fail "a quick snapshot showed progress"
fi
exit 0
