#!/bin/sh
# export of an unfinalized bundle, a killed recording: its last snapshot
# is not the run's final state, so without --allow-incomplete export
# writes nothing and exits 1, as the other readers reject it. With the
# flag it exports, and still notes a missing -wal. A finalized bundle
# exports with nothing on stderr.
. "$TESTS_DIR/lib.sh"
command -v sqlite3 >/dev/null || skip "sqlite3 is missing"

two_snapshots "$TMP/u.rb"
cp "$TMP/u.rb" "$TMP/f.rb"
"$RUNBUNDLE" snapshot --finalize "$TMP/f.rb" "$TMP/ws" >/dev/null

for format in dir tar tar.zst; do
	out=$TMP/x.$format
	expect_status 1 "$RUNBUNDLE" export --format "$format" -o "$out" \
		"$TMP/u.rb"
	expect_grep "^runbundle: the bundle is incomplete: '$TMP/u.rb': it \
was not finalized" "$TMP/err"
	expect_grep '^hint: pass --allow-incomplete to export' "$TMP/err"
	expect_eq '' "$(cat "$TMP/out")" "stdout of a rejected export"
	[ ! -e "$out" ] && [ -z "$(ls "$TMP" | grep tmp-)" ] ||
		fail "export --format $format wrote from an unfinalized bundle"
	expect_status 1 "$RUNBUNDLE" export --format "$format" --step 0 \
		-o "$out" "$TMP/u.rb"
	[ ! -e "$out" ] || fail "export --step 0 of an unfinalized bundle"

	expect_status 0 "$RUNBUNDLE" export --allow-incomplete \
		--format "$format" -o "$out" "$TMP/u.rb"
	expect_grep "^exported  *$out ($format): step 1," "$TMP/out"
	expect_eq '' "$(cat "$TMP/err")" "stderr of export --allow-incomplete"
	[ -e "$out" ] || fail "export --allow-incomplete wrote nothing"
done
expect_eq two "$(cat "$TMP/x.dir/a")" "the exported file"

expect_status 0 "$RUNBUNDLE" export --format dir -o "$TMP/final" "$TMP/f.rb"
expect_eq '' "$(cat "$TMP/err")" "stderr of export of a finalized bundle"
expect_eq two "$(cat "$TMP/final/a")" "the file of the final step"

# A copy in WAL mode without its -wal: the note on a missing -wal, with
# the flag as without it.
sqlite3 "$TMP/u.rb" 'PRAGMA journal_mode = WAL' >/dev/null ||
	fail "cannot switch the copy to WAL mode"
[ ! -e "$TMP/u.rb-wal" ] || fail "sqlite3 left a -wal"
expect_status 1 "$RUNBUNDLE" export --format dir -o "$TMP/w1" "$TMP/u.rb"
expect_grep "'$TMP/u.rb-wal': missing" "$TMP/err"
expect_status 0 "$RUNBUNDLE" export --allow-incomplete --format dir \
	-o "$TMP/w2" "$TMP/u.rb"
expect_grep "'$TMP/u.rb-wal': missing" "$TMP/err"
exit 0
