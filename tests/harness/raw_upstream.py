"""Serve an upstream on 127.0.0.1 that sends fixed bytes for each
request, chosen by the request's path, for response heads that
upstream.py's http.server cannot send.

usage: raw_upstream.py PORT_FILE RESPONSES_JSON [--close]

RESPONSES_JSON maps a path to the whole response, each character one
byte (code points up to U+00FF); "*" is the response to any other
path. The port goes to PORT_FILE once the socket listens. With --close
the connection closes after one response; otherwise the requests of a
connection are answered in turn.
"""
import json
import os
import socket
import sys
import threading


def serve(conn, responses, close):
    data = b""
    while True:
        while b"\r\n\r\n" not in data:
            more = conn.recv(65536)
            if not more:
                conn.close()
                return
            data += more
        head, data = data.split(b"\r\n\r\n", 1)
        path = head.split(b" ")[1]
        conn.sendall(responses.get(path, responses[b"*"]))
        if close:
            conn.close()
            return


def serve_forever(port_file, serve_one, *args):
    """Listen on a port of 127.0.0.1, write it to port_file once the
    socket listens, and run serve_one(conn, *args) in a thread for each
    connection. paced_upstream.py serves the same way."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    with open(port_file + ".tmp", "w") as f:
        f.write("%d\n" % s.getsockname()[1])
    os.rename(port_file + ".tmp", port_file)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve_one, args=(conn,) + args,
                         daemon=True).start()


def main():
    with open(sys.argv[2]) as f:
        table = json.load(f)
    responses = {path.encode("latin-1"): text.encode("latin-1")
                 for path, text in table.items()}
    close = "--close" in sys.argv[3:]
    serve_forever(sys.argv[1], serve, responses, close)


if __name__ == "__main__":
    main()
