#!/bin/sh
# export-bundle of a bundle that it cannot export whole: it writes no
# archive and names the bundle and the fix.
. "$TESTS_DIR/lib.sh"
command -v sqlite3 >/dev/null || skip "sqlite3 is missing"

ws=$TMP/ws
mkdir "$ws"
echo one >"$ws/a"
"$RUNBUNDLE" snapshot --finalize "$TMP/ok.rb" "$ws" >/dev/null

# A finalized bundle without its root digest: import would reject the
# archive, and nothing would check its last event.
cp "$TMP/ok.rb" "$TMP/noroot.rb"
sqlite3 "$TMP/noroot.rb" "DELETE FROM meta WHERE key = 'root'"
expect_status 3 "$RUNBUNDLE" export-bundle -o "$TMP/noroot.tar.zst" \
	"$TMP/noroot.rb"
expect_grep "^runbundle: cannot export: '$TMP/noroot.rb': the bundle is \
finalized but its root digest is missing or invalid\$" "$TMP/err"
expect_grep "^hint: runbundle verify $TMP/noroot.rb\$" "$TMP/err"
[ ! -e "$TMP/noroot.tar.zst" ] || fail "export-bundle wrote an archive"

# A truncated copy is named as runbundle verify names it, and a file
# that is no bundle gets no note about a missing -wal.
head -c 100 "$TMP/ok.rb" >"$TMP/short.rb"
: >"$TMP/empty.rb"
mkdir "$TMP/dir.rb"
for b in short empty dir; do
	expect_status 3 "$RUNBUNDLE" verify "$TMP/$b.rb"
	mv "$TMP/err" "$TMP/verify.err"
	expect_status 3 "$RUNBUNDLE" export-bundle -o "$TMP/$b.tar.zst" \
		"$TMP/$b.rb"
	cmp -s "$TMP/verify.err" "$TMP/err" ||
		fail "export-bundle and verify differ on $b.rb:" \
			"$(cat "$TMP/err")"
	[ ! -e "$TMP/$b.tar.zst" ] || fail "export-bundle wrote $b.tar.zst"
done
expect_status 3 "$RUNBUNDLE" export-bundle -o "$TMP/short.tar.zst" \
	"$TMP/short.rb"
expect_grep "^runbundle: cannot open bundle: '$TMP/short.rb': the file is \
truncated: 100 bytes, but its header says" "$TMP/err"

expect_status 0 "$RUNBUNDLE" export-bundle -o "$TMP/ok.tar.zst" "$TMP/ok.rb"
expect_eq '' "$(cat "$TMP/err")" "stderr of an intact export"
exit 0
