#!/usr/bin/python3
"""events.py - read a bundle's event log for the record tests.

usage: events.py BUNDLE kinds          one line per event: SEQ KIND
       events.py BUNDLE data SEQ       the event's data as JSON
       events.py BUNDLE last KIND      the data of the last KIND event
       events.py BUNDLE object SEQ [N] the Nth object the event
                                       references (default 0), as stored
       events.py BUNDLE output STREAM  the agent's stdout or stderr bytes
       events.py BUNDLE all            every event and every object,
                                       decompressed, for searching
       events.py BUNDLE steps          the order of model steps: one line
                                       per exec of curl, request snapshot
                                       and exchange

Only the sqlite3 module and the zstd program are used, the way
docs/bundle-format.md reads a bundle.
"""
import json
import sqlite3
import subprocess
import sys


def events(db):
    for (text,) in db.execute("SELECT event FROM events ORDER BY seq"):
        yield json.loads(text)


def event(db, seq):
    row = db.execute("SELECT event FROM events WHERE seq = ?",
                     (seq,)).fetchone()
    if not row:
        sys.exit("events.py: no event %d" % seq)
    return json.loads(row[0])


def load_object(db, hex_id):
    row = db.execute("SELECT encoding, data FROM objects WHERE id = ?",
                     (bytes.fromhex(hex_id),)).fetchone()
    if not row:
        sys.exit("events.py: no object %s" % hex_id)
    encoding, data = row
    if encoding == "zstd":
        data = subprocess.run(["zstd", "-dqc"], input=data,
                              stdout=subprocess.PIPE, check=True).stdout
    return data


def steps(db):
    for e in events(db):
        kind, data = e["kind"], e.get("data") or {}
        if kind == "exec" and data.get("path", "").endswith("/curl"):
            print("curl")
        elif kind == "workspace" and data.get("at") == "request":
            print("snapshot %d" % data["exchange"])
        elif kind == "exchange":
            print("exchange %d %s" % (data["seq"], data["outcome"]))


def main():
    db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
    what = sys.argv[2]
    if what == "kinds":
        for e in events(db):
            print(e["seq"], e["kind"])
    elif what == "data":
        print(json.dumps(event(db, int(sys.argv[3])).get("data")))
    elif what == "last":
        found = [e for e in events(db) if e["kind"] == sys.argv[3]]
        if not found:
            sys.exit("events.py: no %s event" % sys.argv[3])
        print(json.dumps(found[-1].get("data")))
    elif what == "object":
        n = int(sys.argv[4]) if len(sys.argv) > 4 else 0
        refs = event(db, int(sys.argv[3]))["refs"]
        sys.stdout.buffer.write(load_object(db, refs[n]))
    elif what == "output":
        for e in events(db):
            if e["kind"] == "output" and e["data"]["stream"] == sys.argv[3]:
                sys.stdout.buffer.write(load_object(db, e["refs"][0]))
    elif what == "all":
        for (text,) in db.execute("SELECT event FROM events"):
            sys.stdout.buffer.write(text.encode() + b"\n")
        for (hex_id,) in db.execute("SELECT hex(id) FROM objects"):
            sys.stdout.buffer.write(load_object(db, hex_id.lower()))
    elif what == "steps":
        steps(db)
    else:
        sys.exit(__doc__)


main()
