#!/usr/bin/python3
"""upstream.py PORTFILE LOG [GAP_MS] - a model API upstream on loopback
for the replay tests. It writes the port it listens on into PORTFILE,
appends each request's path, body and Authorization header (null when
missing) as one JSON line to LOG, and
replies to every POST with a Chat Completions response whose text counts
the requests ("reply 1", "reply 2", ...). With GAP_MS it streams the reply
instead, as four server-sent events GAP_MS milliseconds apart, marked
"chunk-0" to "chunk-3"."""
import http.server
import json
import os
import sys
import threading
import time

port_file, log_file = sys.argv[1], sys.argv[2]
gap = int(sys.argv[3]) / 1000 if len(sys.argv) > 3 else None
lock = threading.Lock()
count = 0


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # The head and the body go out in separate writes. With Nagle's
    # algorithm the body then waits for the client's delayed ACK, about
    # 40 ms a request on keep-alive connections.
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def do_POST(self):
        global count
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with lock:
            count += 1
            n = count
            with open(log_file, "a") as log:
                log.write(json.dumps({
                    "path": self.path, "body": body.decode(),
                    "auth": self.headers.get("Authorization")}) + "\n")
        if gap is None:
            self.plain(n)
        else:
            self.stream()

    def plain(self, n):
        reply = json.dumps({
            "id": "chatcmpl-%d" % n, "object": "chat.completion",
            "created": 1700000000, "model": "m",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant",
                                     "content": "reply %d" % n}}],
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def stream(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for i in range(4):
            if i:
                time.sleep(gap)
            event = ("data: {\"chunk\": \"chunk-%d\"}\n\n" % i).encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
# Renamed into place, so the test never reads half a number.
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
