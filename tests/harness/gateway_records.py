#!/usr/bin/python3
"""Inspect the JSON Lines records that "runbundle gateway" writes.

usage: gateway_records.py COMMAND FILE [ARG...]

  count FILE                     number of exchanges
  field FILE SEQ PATH            a field of exchange SEQ, such as
                                 "outcome" or "response.status"; JSON for
                                 objects
  chunks FILE SEQ                the chunk lengths, comma-separated
  body FILE SEQ                  the response body bytes, to stdout
  request-body FILE SEQ          the request body bytes, to stdout
  header FILE SEQ request|response NAME
                                 a header's value; nothing when absent
  same-chunks FILE1 FILE2        exit 1 unless both files have the same
                                 exchanges with the same status, headers
                                 (but Date) and chunk bytes and boundaries
  secrets FILE VALUE...          print each VALUE found anywhere in any
                                 exchange: in every string, every body
                                 and chunk, decoded from base64, and
                                 decompressed when it is gzip, deflate or
                                 brotli; exit 1 when one is found
  seqs FILE                      the seqs in file order, comma-separated
"""

import base64
import brotli
import gzip
import json
import sys
import zlib


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def by_seq(path, seq):
    for ex in load(path):
        if ex["seq"] == int(seq):
            return ex
    sys.exit("no exchange %s in %s" % (seq, path))


def body(ex):
    return b"".join(base64.b64decode(c["data"])
                    for c in ex["response"]["chunks"])


def header(headers, name):
    for key, value in headers:
        if key.lower() == name.lower():
            return value
    return None


def decodings(data):
    """Yield data and every decompressed form of it."""
    yield data
    for decode in (gzip.decompress, brotli.decompress, zlib.decompress,
                   lambda d: zlib.decompress(d, -15)):
        try:
            yield decode(data)
        except Exception:
            pass


def blobs(ex):
    """Yield every string and decoded body of an exchange, as bytes."""
    yield json.dumps(ex).encode()
    yield base64.b64decode(ex["request"]["body"])
    yield body(ex)
    for chunk in ex["response"]["chunks"]:
        yield base64.b64decode(chunk["data"])


def shape(ex):
    headers = [h for h in ex["response"]["headers"]
               if h[0].lower() != "date"]
    return (ex["request"]["method"], ex["request"]["path"],
            ex["response"]["status"], headers,
            [c["data"] for c in ex["response"]["chunks"]])


def main():
    cmd, path, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    if cmd == "count":
        print(len(load(path)))
    elif cmd == "seqs":
        print(",".join(str(ex["seq"]) for ex in load(path)))
    elif cmd == "field":
        value = by_seq(path, args[0])
        for key in args[1].split("."):
            value = value[key]
        print(value if isinstance(value, str) else json.dumps(value))
    elif cmd == "chunks":
        ex = by_seq(path, args[0])
        print(",".join(str(len(base64.b64decode(c["data"])))
                       for c in ex["response"]["chunks"]))
    elif cmd == "body":
        sys.stdout.buffer.write(body(by_seq(path, args[0])))
    elif cmd == "request-body":
        ex = by_seq(path, args[0])
        sys.stdout.buffer.write(base64.b64decode(ex["request"]["body"]))
    elif cmd == "header":
        ex = by_seq(path, args[0])
        value = header(ex[args[1]]["headers"], args[2])
        if value is not None:
            print(value)
    elif cmd == "same-chunks":
        a = sorted(load(path), key=lambda e: e["seq"])
        b = sorted(load(args[0]), key=lambda e: e["seq"])
        if [shape(e) for e in a] != [shape(e) for e in b]:
            for x, y in zip(a, b):
                if shape(x) != shape(y):
                    print("differs:", x["seq"], shape(x)[:4], "chunks",
                          [len(c) for c in shape(x)[4]], "vs",
                          shape(y)[:4], [len(c) for c in shape(y)[4]])
            sys.exit(1)
    elif cmd == "secrets":
        found = set()
        for ex in load(path):
            for blob in blobs(ex):
                for data in decodings(blob):
                    for value in args:
                        if value.encode() in data:
                            found.add(value)
        for value in sorted(found):
            print(value)
        sys.exit(1 if found else 0)
    else:
        sys.exit("unknown command: " + cmd)


if __name__ == "__main__":
    main()
