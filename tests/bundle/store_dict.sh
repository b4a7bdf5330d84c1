#!/bin/sh
# store_dict.sh - the zstd dictionary: trained on a snapshot's small
# files, readable by hand with sqlite3 and zstd -D, shared by later
# snapshots without storing any content twice, and checked by verify.
# Also: a bundle of format version 1 still opens and verifies.
. "$TESTS_DIR/lib.sh"
PY=/usr/bin/python3

sql() {
	sqlite3 -readonly "$TMP/b.rb" "$1"
}

# About 6 MB of small text files with shared words, more than the
# samples the dictionary is trained on.
src=$TMP/src
$PY - "$src" <<'PY'
import os, random, sys
rng = random.Random(7)
words = ["static", "int", "return", "struct", "const", "char", "void",
         "unsigned", "size_t", "if", "else", "for", "while", "bundle",
         "object", "error", "length", "buffer", "#include", "#define"]
for d in range(12):
    path = os.path.join(sys.argv[1], "dir%02d" % d)
    os.makedirs(path)
    for f in range(80):
        lines = []
        for _ in range(rng.randrange(60, 160)):
            lines.append(" ".join(rng.choice(words) + str(rng.randrange(40))
                                  for _ in range(rng.randrange(3, 9))))
        with open(os.path.join(path, "f%03d.c" % f), "w") as out:
            out.write("\n".join(lines) + "\n")
PY

expect_status 0 "$RUNBUNDLE" snapshot "$TMP/b.rb" "$src"
expect_eq 2 "$(sql 'PRAGMA user_version')" "format version"
expect_eq 1 "$(sql "SELECT count(*) FROM objects WHERE kind = 'dict'")" \
	"dictionaries"
dict=$(sql "SELECT lower(hex(id)) FROM objects WHERE kind = 'dict'")
expect_eq "$dict" "$(sql "SELECT value FROM meta WHERE key = 'dict'")" \
	"meta.dict"
used=$(sql "SELECT count(*) FROM objects WHERE dict = x'$dict'")
[ "$used" -ge 100 ] || fail "only $used objects use the dictionary"
expect_eq 0 "$(sql "SELECT count(*) FROM objects
	WHERE dict IS NOT NULL AND dict != x'$dict'")" "other dictionaries"

# The auditor's pipeline of docs/bundle-format.md: the dictionary is an
# object of its own, and zstd -D decompresses an object with it.
sql "SELECT writefile('$TMP/dict.stored', data), encoding FROM objects
	WHERE id = x'$dict'" >"$TMP/enc"
if grep -q zstd "$TMP/enc"; then
	zstd -dcq "$TMP/dict.stored" >"$TMP/dict"
else
	cp "$TMP/dict.stored" "$TMP/dict"
fi
expect_eq "$dict" "$(sha256sum <"$TMP/dict" | cut -c1-64)" "dictionary id"
id=$(sql "SELECT lower(hex(id)) FROM objects WHERE dict = x'$dict' LIMIT 1")
sql "SELECT writefile('$TMP/obj', data) FROM objects WHERE id = x'$id'" \
	>/dev/null
expect_eq "$id" "$(zstd -D "$TMP/dict" -dcq "$TMP/obj" | sha256sum |
	cut -c1-64)" "object id through zstd -D"
if zstd -dcq "$TMP/obj" >/dev/null 2>&1; then
	fail "the object decompressed without its dictionary"
fi

# Checkout gives back every byte.
root=$(sql "SELECT lower(hex(root)) FROM snapshot_index WHERE seq = 1")
expect_status 0 "$RUNBUNDLE" checkout "$TMP/b.rb" "$root" "$TMP/out1"
diff -r "$src" "$TMP/out1" >/dev/null || fail "checkout differs"

# A second writer loads the dictionary: a copy of the tree stores no
# content again, and a new file is compressed with the same dictionary.
objects=$(sql 'SELECT count(*) FROM objects')
cp -a "$src" "$TMP/copy"
expect_status 0 "$RUNBUNDLE" snapshot "$TMP/b.rb" "$TMP/copy"
expect_eq "$objects" "$(sql 'SELECT count(*) FROM objects')" \
	"objects after snapshotting a copy"
sed 's/static/STATIC/g' "$src/dir03/f010.c" >"$TMP/copy/new.c"
expect_status 0 "$RUNBUNDLE" snapshot "$TMP/b.rb" "$TMP/copy"
new=$(sha256sum <"$TMP/copy/new.c" | cut -c1-64)
expect_eq "$dict" "$(sql "SELECT lower(hex(dict)) FROM objects
	WHERE id = x'$new'")" "dictionary of a later object"
expect_status 0 "$RUNBUNDLE" snapshot --finalize "$TMP/b.rb" "$TMP/copy"
expect_status 0 "$RUNBUNDLE" verify "$TMP/b.rb"

fresh() {
	cp "$TMP/b.rb" "$TMP/bad.rb"
}

# A flipped bit in the dictionary is reported on it, and on the objects
# compressed with it, with the snapshots they affect.
fresh
$PY - "$TMP/bad.rb" "$dict" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
oid = bytes.fromhex(sys.argv[2])
data = bytearray(db.execute("SELECT data FROM objects WHERE id = ?",
                            (oid,)).fetchone()[0])
data[len(data) // 2] ^= 4
db.execute("UPDATE objects SET data = ? WHERE id = ?", (bytes(data), oid))
db.commit()
PY
expect_status 1 "$RUNBUNDLE" verify "$TMP/bad.rb"
expect_grep "^problem: object $dict: " "$TMP/out"
expect_grep "^problem: object $id: cannot read zstd dictionary: '$dict'" \
	"$TMP/out"
expect_grep "affects event 1 (snapshot), snapshot $root" "$TMP/out"

# A dict column that names a missing object, or one of another kind.
fresh
sqlite3 "$TMP/bad.rb" "UPDATE objects SET dict = x'$(printf '%064d' 0)'
	WHERE id = x'$id'"
expect_status 1 "$RUNBUNDLE" verify "$TMP/bad.rb"
expect_grep "^problem: object $id: its dictionary 0* is missing" "$TMP/out"
fresh
sqlite3 "$TMP/bad.rb" "UPDATE objects SET dict = x'$root' WHERE id = x'$id'"
expect_status 1 "$RUNBUNDLE" verify "$TMP/bad.rb"
expect_grep "^problem: object $id: its dictionary $root is not of kind" \
	"$TMP/out"

# Format version 1, written by the runbundle before dictionaries: it
# opens, verifies and checks out, and is never written again.
zstd -dcq "$TESTS_DIR/bundle/data/v1.rb.zst" >"$TMP/v1.rb"
expect_status 0 "$RUNBUNDLE" verify "$TMP/v1.rb"
expect_grep '^OK: 4 objects, 1 events' "$TMP/out"
v1root=$(sqlite3 -readonly "$TMP/v1.rb" \
	"SELECT lower(hex(root)) FROM snapshot_index WHERE seq = 1")
expect_status 0 "$RUNBUNDLE" checkout "$TMP/v1.rb" "$v1root" "$TMP/v1out"
expect_eq 2000 "$(tail -n 1 "$TMP/v1out/sub/numbers.txt")" "v1 content"
cp "$TMP/v1.rb" "$TMP/v1w.rb"
sqlite3 "$TMP/v1w.rb" "UPDATE meta SET value = 'writing'
	WHERE key = 'state'"
before=$(sha256sum <"$TMP/v1w.rb")
expect_status 3 "$RUNBUNDLE" snapshot "$TMP/v1w.rb" "$src"
expect_grep "it is format version 1; this runbundle writes version 2" \
	"$TMP/err"
expect_eq "$before" "$(sha256sum <"$TMP/v1w.rb")" "v1 bundle after a write"
exit 0
