"""Serve an upstream on 127.0.0.1 that writes each response in timed
pieces, chosen by the request's path, to test how the gateway relays,
records and replays the pieces of a stream.

usage: paced_upstream.py PORT_FILE RESPONSES_JSON

RESPONSES_JSON maps a path to a list of steps, "*" to the steps for any
other path. A string step is sent as it is, each character one byte
(code points up to U+00FF), with one send() and TCP_NODELAY, so that it
leaves as one segment. A number step waits that many milliseconds.
"close" closes the connection, "reset" resets it. Without one of those,
the upstream reads the next request of the connection and responds.
"""
import json
import os
import socket
import struct
import sys
import time

# No __pycache__ in the source tree, which the tests may not write to.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from raw_upstream import serve_forever  # noqa: E402


def read_request(conn, data):
    """Return (path, rest) for the next request, or (None, b"")."""
    while b"\r\n\r\n" not in data:
        more = conn.recv(65536)
        if not more:
            return None, b""
        data += more
    head, data = data.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(data) < length:
        more = conn.recv(65536)
        if not more:
            return None, b""
        data += more
    return head.split(b" ")[1], data[length:]


def serve(conn, responses):
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    data = b""
    try:
        while True:
            path, data = read_request(conn, data)
            if path is None:
                break
            for step in responses.get(path, responses[b"*"]):
                if step == "close":
                    conn.close()
                    return
                if step == "reset":
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                    struct.pack("ii", 1, 0))
                    conn.close()
                    return
                if isinstance(step, (int, float)):
                    time.sleep(step / 1000)
                else:
                    conn.sendall(step.encode("latin-1"))
    except OSError:
        pass
    conn.close()


def main():
    with open(sys.argv[2]) as f:
        table = json.load(f)
    responses = {path.encode("latin-1"): steps
                 for path, steps in table.items()}
    serve_forever(sys.argv[1], serve, responses)


main()
