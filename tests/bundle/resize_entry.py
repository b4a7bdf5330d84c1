"""resize_entry.py BUNDLE [SIZE]: set the size of the only entry of the
last snapshot's root tree to SIZE, or to one more than it was, and
print the old size. The tree is stored under its new id, which the last
event then names, and a finalized bundle's root digest follows it, so
every hash matches."""
import hashlib
import json
import sqlite3
import struct
import sys

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
struct.pack_into("<Q", tree, at,
                 int(sys.argv[2]) if len(sys.argv) > 2 else size + 1)
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
print(size)
