#!/bin/sh
# export of a bundle whose event chain is broken. A changed event can
# name another sound tree as a step's snapshot. So export checks the
# chain and the root digest first, as ls and cat do. From a damaged
# bundle it writes nothing.
. "$TESTS_DIR/lib.sh"
command -v sqlite3 >/dev/null || skip "sqlite3 is missing"

two_snapshots "$TMP/ok.rb" --finalize

# The final snapshot names the initial tree, with its hash updated, so
# only the root digest no longer matches.
cp "$TMP/ok.rb" "$TMP/forged.rb"
/usr/bin/python3 - "$TMP/forged.rb" <<'PY'
import hashlib, json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
first = json.loads(db.execute("SELECT event FROM events WHERE seq = 1")
		   .fetchone()[0])["data"]["root"]
text = db.execute("SELECT event FROM events WHERE seq = 2").fetchone()[0]
last = json.loads(text)["data"]["root"]
text = text.replace(last, first)
db.execute("UPDATE events SET event = ?, hash = ? WHERE seq = 2",
	   (text, hashlib.sha256(text.encode()).digest()))
db.commit()
PY

# A finalized bundle without its root digest.
cp "$TMP/ok.rb" "$TMP/noroot.rb"
sqlite3 "$TMP/noroot.rb" "DELETE FROM meta WHERE key = 'root'"

for b in forged noroot; do
	case $b in
	forged) why='event 2: the root digest does not match' ;;
	noroot) why='the bundle is finalized but its root digest is missing' ;;
	esac
	for format in dir tar tar.zst; do
		out=$TMP/$b.$format
		expect_status 1 "$RUNBUNDLE" export --format "$format" \
			-o "$out" "$TMP/$b.rb"
		expect_grep "^runbundle: the bundle is damaged: \
'$TMP/$b.rb': $why" "$TMP/err"
		expect_grep "^hint: runbundle verify $TMP/$b.rb\$" "$TMP/err"
		expect_eq '' "$(cat "$TMP/out")" "stdout of a rejected export"
		[ ! -e "$out" ] && [ -z "$(ls "$TMP" | grep tmp-)" ] ||
			fail "export --format $format wrote from $b.rb"
	done
done

expect_status 0 "$RUNBUNDLE" export --format dir -o "$TMP/final" "$TMP/ok.rb"
expect_eq '' "$(cat "$TMP/err")" "stderr of export of an intact bundle"
expect_eq two "$(cat "$TMP/final/a")" "the file of the final step"
exit 0
