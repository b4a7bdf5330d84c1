#!/usr/bin/python3
"""Timing client for bench/gateway.sh.

usage: gateway_client.py sse|sse-keep-alive URL N
       gateway_client.py replay-file RECORD N OUT

sse: N streams of URL (upstream.py's /slow with stamp=1), each on a new
  connection; prints the p50 and p99 time from sending the request to
  reading the first event, and the p50 and p99 delay of each event
  between the upstream writing it and the client reading it, all in
  microseconds. sse-keep-alive sends all N on one connection.
replay-file: write N copies of the exchange in RECORD (one JSON line),
  numbered 1..N, to OUT, for a replay that can serve N requests.
"""

import json
import socket
import sys
import time
import urllib.parse


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def read_stream(s, request, first, delays):
    """Send request on s and time the events of one chunked response."""
    start = time.monotonic_ns()
    s.sendall(request)
    data, head_done = b"", False
    while True:
        more = s.recv(65536)
        now = time.monotonic_ns()
        if not more:
            return False
        data += more
        if not head_done and b"\r\n\r\n" in data:
            head_done = True
            data = data.split(b"\r\n\r\n", 1)[1]
        while head_done and b"\n\n" in data:
            event, data = data.split(b"\n\n", 1)
            if b'"t": ' not in event:
                continue
            sent = int(event.split(b'"t": ')[1].split(b"}")[0])
            if b'"n": 0,' in event:
                first.append((now - start) / 1000)
            delays.append((now - sent) / 1000)
        # The last chunk of the chunked body.
        if head_done and data.endswith(b"0\r\n\r\n"):
            return True


def sse(url, n, keep_alive):
    u = urllib.parse.urlsplit(url)
    request = ("GET %s?%s HTTP/1.1\r\nHost: x\r\n%s\r\n"
               % (u.path, u.query,
                  "" if keep_alive else "Connection: close\r\n")).encode()
    first, delays = [], []
    s = None
    for i in range(n + 1):
        if s is None or not keep_alive:
            s = socket.create_connection((u.hostname, u.port))
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if i == 0:
            read_stream(s, request, [], [])   # warm up
        else:
            read_stream(s, request, first, delays)
        if not keep_alive:
            s.close()
    print("%.0f %.0f %.0f %.0f" % (percentile(first, 50),
                                   percentile(first, 99),
                                   percentile(delays, 50),
                                   percentile(delays, 99)))


def replay_file(record, n, out):
    with open(record) as f:
        exchange = json.loads(f.readline())
    with open(out, "w") as f:
        for seq in range(1, n + 1):
            exchange["seq"] = seq
            f.write(json.dumps(exchange, separators=(",", ":")) + "\n")


def main():
    cmd = sys.argv[1]
    if cmd in ("sse", "sse-keep-alive"):
        sse(sys.argv[2], int(sys.argv[3]), cmd == "sse-keep-alive")
    elif cmd == "replay-file":
        replay_file(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        sys.exit("unknown command: " + cmd)


if __name__ == "__main__":
    main()
