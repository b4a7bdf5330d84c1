"""tree_bomb.py BUNDLE LEVELS: add a directory 'zbomb' to the root tree
of the last snapshot. It is a tree of 30 one-byte files below LEVELS
trees that each name the one below 30 times, so a few kilobytes expand
to 30 + 30 * (...) entries. The new root is stored under its id, the
last event names it, and a finalized bundle's root digest follows. So
every hash matches and only the size is hostile."""
import hashlib
import json
import sqlite3
import struct
import sys


def put(db, kind, data):
    oid = hashlib.sha256(data).digest()
    db.execute("INSERT OR IGNORE INTO objects (id, kind, size, encoding, "
               "data) VALUES (?, ?, ?, 'raw', ?)", (oid, kind, len(data),
                                                    data))
    return oid


def entry(kind, name, mode, size, ref):
    out = bytes([kind, len(name)]) + name
    out += struct.pack("<IIIqIQ", mode, 0, 0, 1700000000, 0, size)
    # a file's content is a blob (1) and not sparse (0)
    return out + (bytes([1]) + ref + bytes([0]) if kind == 1 else ref)


def tree(entries):
    return b"rbtree\0\1" + struct.pack("<I", len(entries)) + \
        b"".join(e for _, e in sorted(entries))


db = sqlite3.connect(sys.argv[1])
blob = put(db, "blob", b"x")
t = put(db, "tree", tree([(b"f%02d" % i, entry(1, b"f%02d" % i, 0o100644,
                                               1, blob))
                          for i in range(30)]))
for _ in range(int(sys.argv[2])):
    t = put(db, "tree", tree([(b"d%02d" % i, entry(2, b"d%02d" % i,
                                                   0o40755, 0, t))
                              for i in range(30)]))

seq, text = db.execute(
    "SELECT seq, event FROM events ORDER BY seq DESC LIMIT 1").fetchone()
event = json.loads(text)
old = db.execute("SELECT data FROM objects WHERE id = ? AND "
                 "encoding = 'raw'",
                 (bytes.fromhex(event["data"]["root"]),)).fetchone()[0]
count, = struct.unpack_from("<I", old, 8)
root = put(db, "tree", old[:8] + struct.pack("<I", count + 1) + old[12:] +
           entry(2, b"zbomb", 0o40755, 0, t))
event["refs"][0] = root.hex()
event["data"]["root"] = root.hex()
text = json.dumps(event, separators=(",", ":"))
digest = hashlib.sha256(text.encode()).digest()
db.execute("UPDATE events SET event = ?, hash = ? WHERE seq = ?",
           (text, digest, seq))
db.execute("UPDATE snapshot_index SET root = ? WHERE seq = ?", (root, seq))
db.execute("UPDATE meta SET value = ? WHERE key = 'root'", (digest.hex(),))
db.commit()
print(root.hex())
