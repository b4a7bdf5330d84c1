#!/bin/sh
# verify reports a tree whose file entry records another size than its
# content has, which checkout would fail on, for a blob and a chunk list.
. "$TESTS_DIR/lib.sh"
command -v sqlite3 >/dev/null || skip "sqlite3 is missing"

# resize BUNDLE: add one to the size of the only entry of the last
# snapshot's root tree, and print the old size. The tree is stored under
# its new id, which the last event then names, so every hash matches.
resize() {
	/usr/bin/python3 - "$1" <<'PY'
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
size, = struct.unpack_from("<Q", tree, at)
struct.pack_into("<Q", tree, at, size + 1)
new = hashlib.sha256(tree).digest()
db.execute("UPDATE objects SET id = ?, data = ? WHERE id = ?",
           (new, bytes(tree), old))
event["refs"] = [new.hex()]
event["data"]["root"] = new.hex()
text = json.dumps(event, separators=(",", ":"))
db.execute("UPDATE events SET event = ?, hash = ? WHERE seq = ?",
           (text, hashlib.sha256(text.encode()).digest(), seq))
db.execute("UPDATE snapshot_index SET root = ? WHERE seq = ?", (new, seq))
db.commit()
print(size)
PY
}

check() { # NAME: a bundle of src-NAME, damaged and verified
	expect_status 0 "$RUNBUNDLE" snapshot "$TMP/$1.rb" "$TMP/src-$1"
	size=$(resize "$TMP/$1.rb")
	expect_status 1 "$RUNBUNDLE" verify --allow-incomplete "$TMP/$1.rb"
	expect_grep "entry 'f' records $((size + 1)) bytes of content, but \
its content [0-9a-f]\{64\} has $size\$" "$TMP/out"
	expect_status 3 "$RUNBUNDLE" checkout "$TMP/$1.rb" latest "$TMP/co-$1"
}

mkdir "$TMP/src-blob" "$TMP/src-chunks"
printf 'small\n' >"$TMP/src-blob/f"
head -c 1500000 /dev/urandom >"$TMP/src-chunks/f"
check blob
check chunks
