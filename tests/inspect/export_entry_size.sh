#!/bin/sh
# export --format tar and cat on a tree whose file entry records another
# size than its content has: each fails with the entry's name, and the
# tar is neither padded with zeros up to the recorded size nor kept.
. "$TESTS_DIR/lib.sh"
command -v sqlite3 >/dev/null || skip "sqlite3 is missing"

# resize BUNDLE SIZE: set the size of the only entry of the last
# snapshot's root tree to SIZE. The tree is stored under its new id,
# which the last event then names, so every hash and the root digest
# match.
resize() {
	/usr/bin/python3 - "$1" "$2" <<'PY'
import hashlib, json, sqlite3, struct, sys
db = sqlite3.connect(sys.argv[1])
seq, text = db.execute(
    "SELECT seq, event FROM events ORDER BY seq DESC LIMIT 1").fetchone()
event = json.loads(text)
old = bytes.fromhex(event["data"]["root"])
tree = bytearray(db.execute(
    "SELECT data FROM objects WHERE id = ? AND encoding = 'raw'",
    (old,)).fetchone()[0])
# magic, count, kind, name length, name, mode, uid, gid, mtime, nsec
at = 8 + 4 + 2 + tree[13] + 4 * 3 + 8 + 4
struct.pack_into("<Q", tree, at, int(sys.argv[2]))
new = hashlib.sha256(tree).digest()
db.execute("UPDATE objects SET id = ?, data = ? WHERE id = ?",
           (new, bytes(tree), old))
event["refs"] = [new.hex()]
event["data"]["root"] = new.hex()
text = json.dumps(event, separators=(",", ":"))
db.execute("UPDATE events SET event = ?, hash = ? WHERE seq = ?",
           (text, hashlib.sha256(text.encode()).digest(), seq))
db.execute("UPDATE snapshot_index SET root = ? WHERE seq = ?", (new, seq))
db.execute("UPDATE meta SET value = ? WHERE key = 'root'",
           (hashlib.sha256(text.encode()).hexdigest(),))
db.commit()
PY
}

mkdir "$TMP/src"
printf 'small\n' >"$TMP/src/f"

# check SIZE LONGER_OR_SHORTER: the entry records SIZE bytes for the
# 6 bytes of content.
check() {
	b="$TMP/b-$1.rb"
	expect_status 0 "$RUNBUNDLE" snapshot --finalize "$b" "$TMP/src"
	resize "$b" "$1"
	# A tebibyte of zeros would take minutes; the check takes less.
	expect_status 3 timeout 60 "$RUNBUNDLE" export --format tar \
		-o "$TMP/out-$1.tar" "$b"
	expect_grep "^runbundle: cannot read file: 'f': content $2 than its \
entry\$" "$TMP/err"
	for f in "$TMP"/out-"$1".tar*; do
		[ -e "$f" ] && fail "export left '$f' behind"
	done
	expect_status 3 "$RUNBUNDLE" cat "$b" f
	expect_grep "^runbundle: cannot read file: 'f': content $2 than its \
entry\$" "$TMP/err"
}

check 7 shorter
check 1099511627776 shorter
check 5 longer
check 0 longer
