#!/bin/sh
# store_corrupt.sh - runbundle verify on damaged and hostile bundles:
# every kind of damage is reported with the right object or event, and
# no file makes it crash.
. "$TESTS_DIR/lib.sh"
WRITER=$1
PY=/usr/bin/python3

head -c 1500000 /dev/urandom >"$TMP/big"
head -c 20000 /dev/zero >"$TMP/zeros"
echo small >"$TMP/small"
"$WRITER" tree "$TMP/good.rb" "$TMP/big" "$TMP/zeros" "$TMP/small" \
	>"$TMP/refs"
"$WRITER" put "$TMP/good.rb" "$TMP/small" >/dev/null
"$WRITER" put "$TMP/good.rb" "$TMP/zeros" >/dev/null
"$WRITER" finalize "$TMP/good.rb" >/dev/null
expect_status 0 "$RUNBUNDLE" verify "$TMP/good.rb"
tree=$(awk '$2 == "tree" { print $1 }' "$TMP/refs")
list=$(awk '$2 ~ /big$/ { print $1 }' "$TMP/refs")
small=$(awk '$2 ~ /small$/ { print $1 }' "$TMP/refs")

sql() {
	sqlite3 "$TMP/bad.rb" "$1" >/dev/null
}

fresh() {
	cp "$TMP/good.rb" "$TMP/bad.rb"
}

# verify_reports PATTERN: verify finds problems, and one line matches.
verify_reports() {
	expect_status 1 "$RUNBUNDLE" verify "$TMP/bad.rb"
	expect_grep "$1" "$TMP/out"
}

# A flipped bit in each stored object, in turn, is reported with its id.
sqlite3 -readonly "$TMP/good.rb" "SELECT hex(id) FROM objects" |
	tr 'A-F' 'a-f' >"$TMP/ids"
n=0
while read -r id; do
	fresh
	$PY - "$TMP/bad.rb" "$id" "$n" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
oid = bytes.fromhex(sys.argv[2])
data = bytearray(db.execute("SELECT data FROM objects WHERE id = ?",
                            (oid,)).fetchone()[0])
bit = (int(sys.argv[3]) * 7919) % (len(data) * 8)
data[bit // 8] ^= 1 << (bit % 8)
db.execute("UPDATE objects SET data = ? WHERE id = ?", (bytes(data), oid))
db.commit()
PY
	verify_reports "^problem: object $id: "
	n=$((n + 1))
done <"$TMP/ids"
[ "$n" -ge 8 ] || fail "only $n objects to damage"

# The same through the file: a bit flipped inside a compressed chunk's
# bytes on disk.
fresh
chunk=$($PY - "$TMP/bad.rb" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
oid, data = db.execute("SELECT id, data FROM objects WHERE kind = 'blob' "
                       "AND length(data) > 100000 LIMIT 1").fetchone()
db.close()
raw = bytearray(open(sys.argv[1], 'rb').read())
at = raw.find(data[:64])
assert at > 0
raw[at + 40] ^= 0x10
open(sys.argv[1], 'wb').write(raw)
print(oid.hex())
PY
)
verify_reports "^problem: object $chunk: "
expect_grep "affects event 1 (snapshot), snapshot $tree" "$TMP/out"

# A missing chunk names the chunk and the list that references it.
fresh
sql "DELETE FROM objects WHERE id = x'$chunk'"
verify_reports "^problem: object $chunk: missing, but chunk list $list"
expect_grep "affects event 1 (snapshot), snapshot $tree" "$TMP/out"

# A missing file in a tree, referenced by a later event too.
fresh
sql "DELETE FROM objects WHERE id = x'$small'"
verify_reports "^problem: object $small: missing, but tree $tree"
verify_reports "^problem: event 2: object $small: missing"

# A size column that lies.
fresh
sql "UPDATE objects SET size = size + 1 WHERE id = x'$small'"
verify_reports "^problem: object $small: .*size column"

# Rows of the wrong shape, written past the CHECK constraints.
fresh
sql "PRAGMA ignore_check_constraints = ON;
	INSERT INTO objects VALUES (x'0102', 'blob', 0, 'raw', x'', NULL);
	INSERT INTO objects VALUES (randomblob(32), 'bogus', 1, 'raw', x'00',
		NULL);
	INSERT INTO objects VALUES (randomblob(32), 'blob', 1, 'lz4', x'00',
		NULL);
	UPDATE events SET hash = x'00' WHERE seq = 3"
verify_reports "^problem: object row [0-9]*: its id is 2 bytes, not 32"
verify_reports "unknown kind"
verify_reports "unknown encoding"
verify_reports "^problem: event 3: its hash does not match its text"

# An edited event whose hash no longer matches.
fresh
sql "UPDATE events SET event = replace(event, '\"put\"', '\"PUT\"')
	WHERE seq = 2"
verify_reports "^problem: event 2: its hash does not match its text"

# The events that a problem affects are named with their kind, or
# without one when the text has none.
fresh
sql "UPDATE events SET event = replace(event, '\"time\":\"2', '\"time\":\"1')
	WHERE seq = 2"
verify_reports "^problem: event 2: its hash does not match its text"
expect_grep "^  affects event 2 (put)\$" "$TMP/out"
fresh
sql "UPDATE events SET event = 'not json' WHERE seq = 2"
verify_reports "^problem: event 2: its text is not a JSON object"
expect_grep "^  affects event 2\$" "$TMP/out"

# A forged event with a recomputed hash breaks the chain after it.
fresh
$PY - "$TMP/bad.rb" 2 <<'PY'
import hashlib, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
seq = int(sys.argv[2])
text = db.execute("SELECT event FROM events WHERE seq = ?",
                  (seq,)).fetchone()[0].replace('"put"', '"forged"')
db.execute("UPDATE events SET event = ?, hash = ? WHERE seq = ?",
           (text, hashlib.sha256(text.encode()).digest(), seq))
db.commit()
PY
verify_reports "^problem: event 3: its prev does not match .*chain is broken"

# A forged last event is caught by the root digest.
fresh
sql "DELETE FROM events WHERE seq = 3"
verify_reports "root digest does not match the hash of the last event"

# A finalized bundle marked unfinalized again, which readers would take
# for one still being written: reported with --allow-incomplete too.
fresh
sql "UPDATE meta SET value = 'writing' WHERE key = 'state'"
verify_reports "not marked finalized, but it has the root digest"
expect_status 1 "$RUNBUNDLE" verify --allow-incomplete "$TMP/bad.rb"
fresh
sql "UPDATE meta SET value = 'writing' WHERE key = 'state';
	DELETE FROM meta WHERE key = 'root'"
verify_reports "not marked finalized, but it has the finalization time"

# A missing event in the middle.
fresh
sql "DELETE FROM events WHERE seq = 2"
verify_reports "^problem: event 3: events before it are missing"

# A writer killed in the middle of a transaction on a finalized bundle
# leaves a hot rollback journal and half-written pages. A read-only open
# rolls the journal back, and the bundle is intact again.
fresh
$PY - "$TMP/bad.rb" <<'PY' || true
import os, signal, sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA cache_size = 1")
db.execute("BEGIN")
db.execute("UPDATE objects SET data = zeroblob(length(data))")
os.kill(os.getpid(), signal.SIGKILL)
PY
[ -s "$TMP/bad.rb-journal" ] || fail "no hot journal to roll back"
expect_status 0 "$RUNBUNDLE" verify "$TMP/bad.rb"
[ ! -e "$TMP/bad.rb-journal" ] || fail "the hot journal is still there"

# Truncated at many lengths: always reported, never a crash.
size=$(stat -c %s "$TMP/good.rb")
for len in 0 10 50 99 100 4096 16384 16385 32768 65536 100000 \
	$((size / 3)) $((size / 2)) $((size - 16384)) $((size - 1)); do
	[ "$len" -lt "$size" ] || continue
	fresh
	truncate -s "$len" "$TMP/bad.rb"
	set +e
	"$RUNBUNDLE" verify "$TMP/bad.rb" >"$TMP/out" 2>"$TMP/err"
	status=$?
	set -e
	case $status in
	1 | 3) ;;
	*) cat "$TMP/out" "$TMP/err" >&2
	   fail "truncated to $len bytes: exit status $status" ;;
	esac
	if [ "$len" -ge 100 ]; then
		grep -q "truncated" "$TMP/out" "$TMP/err" ||
			fail "truncated to $len bytes: not reported"
	fi
done

# Bits flipped at many offsets of the file: any status but a crash, and
# 0 only where the bit changed nothing that is read.
for i in $(seq 0 59); do
	fresh
	offset=$(( (i * 104729 + i * i * 31) % size ))
	$PY - "$TMP/bad.rb" "$offset" <<'PY'
import sys
with open(sys.argv[1], 'r+b') as f:
    f.seek(int(sys.argv[2]))
    b = f.read(1)
    f.seek(int(sys.argv[2]))
    f.write(bytes([b[0] ^ 0x04]))
PY
	set +e
	"$RUNBUNDLE" verify "$TMP/bad.rb" >"$TMP/out" 2>"$TMP/err"
	status=$?
	set -e
	case $status in
	0 | 1 | 3) ;;
	*) cat "$TMP/out" "$TMP/err" >&2
	   fail "bit flipped at offset $offset: exit status $status" ;;
	esac
done

# Garbage, and garbage behind a valid header.
head -c 200000 /dev/urandom >"$TMP/bad.rb"
expect_status 3 "$RUNBUNDLE" verify "$TMP/bad.rb"
{ head -c 16384 "$TMP/good.rb"; head -c 200000 /dev/urandom; } \
	>"$TMP/bad.rb"
set +e
"$RUNBUNDLE" verify "$TMP/bad.rb" >"$TMP/out" 2>"$TMP/err"
status=$?
set -e
[ "$status" = 1 ] || [ "$status" = 3 ] ||
	fail "garbage after the header: exit status $status"

# The JSON report names the object and the affected snapshot.
fresh
sql "DELETE FROM objects WHERE id = x'$chunk'"
expect_status 1 "$RUNBUNDLE" verify --json "$TMP/bad.rb"
expect_eq false "$(jq -r .ok "$TMP/out")" "json ok"
expect_eq "$chunk" "$(jq -r '.problems[0].object' "$TMP/out")" \
	"json object"
expect_eq "$tree" \
	"$(jq -r '.problems[0].affected_events[0].snapshot' "$TMP/out")" \
	"json snapshot"
exit 0
