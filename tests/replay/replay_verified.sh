#!/bin/sh
# runbundle replay verifies the recording first, as diff does: a bundle
# whose hashes do not match is rejected with exit 3 before anything
# runs, and never reported as identical, whatever the options.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"
command -v sqlite3 >/dev/null || skip "sqlite3 is missing"

new_workspace "$TMP/ws" 'echo one >one.txt' 'cat one.txt'
record_in "$TMP/ws" "$TMP/a.rb"
size=$(stat -c %s "$TMP/a.rb")

# Two bytes flipped in the middle of the file, at the first offset
# where runbundle verify notices (free space in a page goes unnoticed).
found=
for offset in $((size / 2)) $((size / 3)) $((size * 2 / 3)) \
	$((size / 4)) $((size * 3 / 4)); do
	cp "$TMP/a.rb" "$TMP/flipped.rb"
	printf '\132\245' | dd of="$TMP/flipped.rb" bs=1 seek="$offset" \
		conv=notrunc 2>/dev/null
	if ! "$RUNBUNDLE" verify "$TMP/flipped.rb" >/dev/null 2>&1; then
		found=$offset
		break
	fi
done
[ -n "$found" ] || fail "no flipped offset made runbundle verify fail"
replay_json "$TMP/flipped.rb"
expect_replay_status 3
expect_grep "^runbundle: the bundle is damaged: '$TMP/flipped.rb': " \
	"$TMP/replay.err"
expect_grep "^hint: .*runbundle verify" "$TMP/replay.err"
[ ! -s "$TMP/json" ] || fail "a damaged bundle got a report: $(cat "$TMP/json")"

# Every blob altered, so that the damage is in the objects that a
# replay checks out, not in the file's structure.
cp "$TMP/a.rb" "$TMP/blobs.rb"
sqlite3 "$TMP/blobs.rb" "UPDATE objects SET data = x'00' || data
	WHERE kind = 'blob'" || fail "cannot alter the bundle"
for option in "" --allow-incomplete "--repeat 2" "--step 1"; do
	# shellcheck disable=SC2086
	replay_json "$TMP/blobs.rb" $option
	expect_replay_status 3
	expect_grep "^runbundle: the bundle is damaged: '$TMP/blobs.rb': " \
		"$TMP/replay.err"
done

# The intact recording still replays.
replay_json "$TMP/a.rb"
expect_replay_status 0
expect_eq identical "$(jqr .verdict)" "verdict of the intact recording"
