#!/usr/bin/python3
"""stream_agent.py OUT - an agent for the replay tests that sends one
request to $OPENAI_BASE_URL/chat/completions. It writes into OUT, one a
line, the milliseconds from sending the request to the arrival on the
socket of each event of the streamed reply ("chunk-0" to "chunk-3")."""
import os
import socket
import sys
import time
import urllib.parse

url = urllib.parse.urlsplit(os.environ["OPENAI_BASE_URL"])
body = (
    b'{"model":"m","stream":true,'
    b'"messages":[{"role":"user","content":"go"}]}'
)
request = (
    "POST %s/chat/completions HTTP/1.1\r\nHost: %s\r\n"
    "Content-Type: application/json\r\nContent-Length: %d\r\n"
    "Connection: close\r\n\r\n" % (url.path, url.netloc, len(body))
).encode() + body

sock = socket.create_connection((url.hostname, url.port))
start = time.monotonic()
sock.sendall(request)
seen = {}
data = b""
while True:
    piece = sock.recv(65536)
    if not piece:
        break
    data += piece
    now = time.monotonic()
    for i in range(4):
        if i not in seen and b"chunk-%d" % i in data:
            seen[i] = now
if len(seen) != 4:
    sys.exit("stream_agent.py: the reply has %d of 4 events" % len(seen))
with open(sys.argv[1], "w") as out:
    for i in range(4):
        out.write("%d\n" % round((seen[i] - start) * 1000))
