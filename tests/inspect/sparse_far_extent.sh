#!/bin/sh
# A valid sparse file entry whose one extent lies far out. apply seeks
# over the hole at once. apply, checkout and export fail at once when the
# file system cannot hold the size, and name the file, its size and the
# limit. verify names an entry whose extents overlap or pass its size.
. "$TESTS_DIR/lib.sh"
command -v sqlite3 >/dev/null || skip "sqlite3 is missing"

# add_sparse BUNDLE SIZE EXTENTS: add the file 'zsp', of SIZE bytes whose
# 6 bytes of content sit at EXTENTS (a JSON list of [offset, length]),
# to the last snapshot's root tree. The tree and the last event are
# stored under their new ids, so every hash and the root digest match.
add_sparse() {
	/usr/bin/python3 - "$1" "$2" "$3" <<'PY'
import hashlib, json, sqlite3, struct, sys
db = sqlite3.connect(sys.argv[1])
seq, text = db.execute(
    "SELECT seq, event FROM events ORDER BY seq DESC LIMIT 1").fetchone()
event = json.loads(text)
old = bytes.fromhex(event["data"]["root"])
tree = db.execute(
    "SELECT data FROM objects WHERE id = ? AND encoding = 'raw'",
    (old,)).fetchone()[0]
count, = struct.unpack_from("<I", tree, 8)
content = b"PWNED\n"
blob = hashlib.sha256(content).digest()
db.execute("INSERT OR IGNORE INTO objects (id, kind, size, encoding, data) "
           "VALUES (?, 'blob', ?, 'raw', ?)", (blob, len(content), content))
extents = json.loads(sys.argv[3])
# kind, name length, name, mode, uid, gid, mtime, nsec, size, then the
# content's kind and id, the sparse flag and the extents
entry = bytes([1, 3]) + b"zsp" + struct.pack(
    "<IIIqIQ", 0o100644, 0, 0, 1700000000, 0, int(sys.argv[2]))
entry += bytes([1]) + blob + bytes([1]) + struct.pack("<I", len(extents))
for offset, length in extents:
    entry += struct.pack("<QQ", offset, length)
tree = tree[:8] + struct.pack("<I", count + 1) + tree[12:] + entry
new = hashlib.sha256(tree).digest()
db.execute("INSERT INTO objects (id, kind, size, encoding, data) "
           "VALUES (?, 'tree', ?, 'raw', ?)", (new, len(tree), tree))
event["refs"] = [new.hex()]
event["data"]["root"] = new.hex()
text = json.dumps(event, separators=(",", ":"))
digest = hashlib.sha256(text.encode()).digest()
db.execute("UPDATE events SET event = ?, hash = ? WHERE seq = ?",
           (text, digest, seq))
db.execute("UPDATE snapshot_index SET root = ? WHERE seq = ?", (new, seq))
db.execute("UPDATE meta SET value = ? WHERE key = 'root'", (digest.hex(),))
db.commit()
PY
}

# sparse_bundle NAME OFFSET: a bundle of two snapshots of src, the last
# with 'zsp' added, its content at OFFSET.
sparse_bundle() {
	b=$TMP/$1.rb
	"$RUNBUNDLE" snapshot "$b" "$TMP/src" >/dev/null
	"$RUNBUNDLE" snapshot --finalize "$b" "$TMP/src" >/dev/null
	add_sparse "$b" "$(($2 + 6))" "[[$2, 6]]"
	expect_status 0 "$RUNBUNDLE" verify "$b"
}

mkdir "$TMP/src"
printf 'small\n' >"$TMP/src/f"

# A hole of 8 TiB: in steps of 64 KiB, apply took minutes, and in one
# seek it takes milliseconds.
far=8796093022208
sparse_bundle far "$far"
expect_status 0 "$RUNBUNDLE" checkout "$TMP/far.rb" 1 "$TMP/target"
expect_status 0 timeout 30 "$RUNBUNDLE" apply --to "$TMP/target" \
	"$TMP/far.rb"
expect_eq "$((far + 6))" "$(stat -c %s "$TMP/target/zsp")" "size of zsp"
expect_eq PWNED "$(tail -c 6 "$TMP/target/zsp")" "the data of zsp"

# A file of 4 EiB fails at once where the file system cannot hold it.
huge=4611686018427387904
/usr/bin/python3 -c 'import os, sys
fd = os.open(sys.argv[1], os.O_CREAT | os.O_WRONLY)
os.lseek(fd, 4611686018427387910, 0)' "$TMP/probe" 2>/dev/null &&
	skip "the file system of $TMP holds a file of 2^62 bytes"
sparse_bundle huge "$huge"
too_big="$((huge + 6)) bytes: more than the [0-9]* bytes that the file \
system of"
expect_status 0 "$RUNBUNDLE" checkout "$TMP/huge.rb" 1 "$TMP/t2"
expect_status 3 timeout 60 "$RUNBUNDLE" apply --to "$TMP/t2" "$TMP/huge.rb"
expect_grep "^runbundle: cannot apply: 'zsp': $too_big the target can \
hold\$" "$TMP/err"
[ ! -e "$TMP/t2/zsp" ] || fail "apply wrote 'zsp'"
expect_status 3 timeout 60 "$RUNBUNDLE" checkout "$TMP/huge.rb" latest \
	"$TMP/co"
expect_grep "^runbundle: cannot check out file: 'zsp': $too_big '$TMP/co' \
can hold\$" "$TMP/err"
expect_status 3 timeout 60 "$RUNBUNDLE" export --format tar \
	-o "$TMP/out.tar" "$TMP/huge.rb"
expect_grep "^runbundle: cannot export file: 'zsp': $too_big \
'$TMP/out.tar' can hold\$" "$TMP/err"
for f in "$TMP"/out.tar*; do
	[ -e "$f" ] && fail "export left '$f' behind"
done

# verify names the entry whose extents overlap or pass its size.
for bad in 'overlap [[0,6],[3,6]] 9 extents overlap or out of order' \
	"past [[10,6]] 6 extent past the file's size"; do
	# The words of bad are split on purpose.
	# shellcheck disable=SC2086
	set -- $bad
	b=$TMP/$1.rb
	"$RUNBUNDLE" snapshot --finalize "$b" "$TMP/src" >/dev/null
	add_sparse "$b" "$3" "$2"
	shift 3
	expect_status 1 "$RUNBUNDLE" verify "$b"
	expect_grep "malformed tree object: [0-9]* bytes: entry 'zsp': $*\$" \
		"$TMP/out"
done
