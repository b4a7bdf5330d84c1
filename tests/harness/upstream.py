#!/usr/bin/python3
"""A model API stand-in for the gateway tests, on loopback only.

usage: upstream.py PORT_FILE

Listens on 127.0.0.1 on a free port, writes the port to PORT_FILE and
serves HTTP/1.1 with keep-alive until killed. It speaks the three wire
formats the gateway must relay byte for byte, and fails on request:

  POST .../chat/completions   OpenAI Chat Completions (SSE when
                              "stream": true, ending in "data: [DONE]")
  POST .../responses          OpenAI Responses (SSE with "event:" lines
                              and sequence_number, no [DONE])
  POST .../messages           Anthropic Messages (SSE from message_start
                              to message_stop, with ping events)
  any  .../echo               JSON describing the request it received,
                              with the SHA-256 of its Authorization
                              header (gzip-compressed with ?gzip=1,
                              brotli with ?br=1)
  GET  /gzip, /br             a JSON body compressed with that coding
  GET  /bad-coding            a body that claims gzip and is not
  GET  /binary?size=N         N bytes of every value 0..255, repeated
  GET  /empty                 200 with an empty body; /no-content: 204
  GET  /status?code=C&retry_after=S
                              an error status with an error body
  GET  /cut?mode=length|chunked
                              starts a body, then resets the connection
  GET  /hang                  reads the request and never responds
  GET  /slow?events=N&delay_ms=D[&head_delay_ms=H][&stamp=1]
                              N SSE events D ms apart, after H ms
                              without a response head; counts clients
                              that disconnect before the end; with
                              stamp, each event carries "t", the
                              CLOCK_MONOTONIC nanoseconds when sent
  GET  /stats                 counters: requests, aborted
  GET  /stream?size=N[&event=B]
                              an SSE stream of at most N bytes, at once,
                              in events of B bytes (1024 by default),
                              ending in "data: [DONE]"; with N of -1 it
                              never ends

A streamed body is sent with chunked transfer coding, one chunk per event
with a pause between them (x-test-delay-ms, 5 ms by default), so that TCP
keeps the event boundaries that the tests compare. A request whose JSON
body is invalid gets 400. A response that is not streamed carries
request_number, the count of requests so far, so that identical requests
get different answers. The request header x-test-echo makes the value
of the request's Authorization header appear in the response body and in
a Set-Cookie header, for the secret tests, with its SHA-256 in
auth_sha256. With x-test-split too, such a body is sent in two chunks
100 ms apart, split in the middle of that value.
"""

import brotli
import gzip
import hashlib
import http.server
import json
import os
import socket
import struct
import sys
import threading
import time
import urllib.parse

STATS = {"requests": 0, "aborted": 0}
LOCK = threading.Lock()


def sse(event, data):
    head = f"event: {event}\n" if event else ""
    return (head + "data: " + json.dumps(data, separators=(",", ":"))
            + "\n\n").encode()


def chat_events(model):
    base = {"id": "chatcmpl-test1", "object": "chat.completion.chunk",
            "created": 1700000000, "model": model}
    words = ["Hello", " from", " the", " test", " upstream."]
    yield b"data: " + json.dumps(dict(base, choices=[{
        "index": 0, "delta": {"role": "assistant", "content": ""},
        "finish_reason": None}])).encode() + b"\n\n"
    for word in words:
        yield b"data: " + json.dumps(dict(base, choices=[{
            "index": 0, "delta": {"content": word},
            "finish_reason": None}])).encode() + b"\n\n"
    yield b"data: " + json.dumps(dict(base, choices=[{
        "index": 0, "delta": {}, "finish_reason": "stop"}],
        usage={"prompt_tokens": 9, "completion_tokens": 5,
               "total_tokens": 14})).encode() + b"\n\n"
    yield b"data: [DONE]\n\n"


def responses_events(model):
    resp = {"id": "resp_test1", "object": "response", "model": model,
            "status": "in_progress", "output": []}
    item = {"id": "msg_test1", "type": "message", "role": "assistant",
            "content": []}
    events = [
        ("response.created", {"response": resp}),
        ("response.in_progress", {"response": resp}),
        ("response.output_item.added", {"output_index": 0, "item": item}),
        ("response.output_text.delta", {"item_id": "msg_test1",
                                        "output_index": 0,
                                        "content_index": 0,
                                        "delta": "Hello"}),
        ("response.output_text.delta", {"item_id": "msg_test1",
                                        "output_index": 0,
                                        "content_index": 0,
                                        "delta": " there."}),
        ("response.output_text.done", {"item_id": "msg_test1",
                                       "output_index": 0,
                                       "content_index": 0,
                                       "text": "Hello there."}),
        ("response.completed", {"response": dict(
            resp, status="completed",
            usage={"input_tokens": 9, "output_tokens": 3,
                   "total_tokens": 12})}),
    ]
    for seq, (name, data) in enumerate(events):
        yield sse(name, dict({"type": name, "sequence_number": seq}, **data))


def messages_events(model):
    msg = {"id": "msg_test1", "type": "message", "role": "assistant",
           "model": model, "content": [], "stop_reason": None,
           "usage": {"input_tokens": 9, "output_tokens": 1}}
    yield sse("message_start", {"type": "message_start", "message": msg})
    yield sse("content_block_start", {
        "type": "content_block_start", "index": 0,
        "content_block": {"type": "text", "text": ""}})
    yield sse("ping", {"type": "ping"})
    for text in ["Hello", " from", " Claude's", " stand-in."]:
        yield sse("content_block_delta", {
            "type": "content_block_delta", "index": 0,
            "delta": {"type": "text_delta", "text": text}})
    yield sse("ping", {"type": "ping"})
    yield sse("content_block_stop", {"type": "content_block_stop",
                                     "index": 0})
    yield sse("message_delta", {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
        "usage": {"output_tokens": 4}})
    yield sse("message_stop", {"type": "message_stop"})


STREAMS = {"chat/completions": chat_events, "responses": responses_events,
           "messages": messages_events}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # The head and the body go out in separate writes. With Nagle's
    # algorithm the body then waits for the client's delayed ACK, about
    # 40 ms a request on keep-alive connections.
    disable_nagle_algorithm = True
    server_version = "test-upstream/1"

    def log_message(self, fmt, *args):
        pass

    def setup(self):
        super().setup()
        # Headers and body go out in separate writes, so without this
        # Nagle's algorithm delays the body until the client's delayed
        # ACK.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY,
                                   1)

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return body
                body += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def send_body(self, status, body, ctype="application/json",
                  extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status, obj, extra=()):
        self.send_body(status, json.dumps(obj).encode(), extra=extra)

    def start_chunked(self, status=200, ctype="text/event-stream"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def end_chunked(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def reset(self):
        """Close with a TCP reset instead of an orderly shutdown."""
        self.wfile.flush()
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                   struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def do_GET(self):
        self.dispatch(b"")

    def do_HEAD(self):
        self.dispatch(b"")

    def do_POST(self):
        self.dispatch(self.read_body())

    do_PUT = do_POST
    do_DELETE = do_POST
    do_PATCH = do_POST

    def dispatch(self, body):
        with LOCK:
            STATS["requests"] += 1
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        path = url.path
        if path.endswith("/echo"):
            return self.echo(body, query)
        if path == "/stats":
            with LOCK:
                return self.send_json(200, dict(STATS))
        for suffix, events in STREAMS.items():
            if path.endswith("/" + suffix):
                return self.model(body, events)
        handler = getattr(self, "get_" + path.strip("/").replace("-", "_"),
                          None)
        if handler is None:
            return self.send_json(404, {"error": {"message": "not found: "
                                                  + path}})
        return handler(query)

    def echo(self, body, query):
        headers = [[k, v] for k, v in self.headers.items()]
        auth = self.headers.get("Authorization", "")
        reply = {"method": self.command, "path": self.path,
                 "headers": headers, "body_length": len(body),
                 "body_sha256": hashlib.sha256(body).hexdigest(),
                 "auth_sha256": hashlib.sha256(auth.encode()).hexdigest()}
        if query.get("br"):
            return self.send_body(200,
                                  brotli.compress(json.dumps(reply).encode()),
                                  extra=[("Content-Encoding", "br")])
        if not query.get("gzip"):
            return self.send_json(200, reply)
        self.send_body(200, gzip.compress(json.dumps(reply).encode()),
                       extra=[("Content-Encoding", "gzip")])

    def model(self, body, events):
        try:
            request = json.loads(body)
        except ValueError:
            return self.send_json(400, {"error": {
                "type": "invalid_request_error",
                "message": "request body is not valid JSON"}})
        model = request.get("model", "test-model")
        echo = []
        if self.headers.get("x-test-echo"):
            secret = self.headers.get("Authorization", "")
            secret = secret or self.headers.get("x-api-key", "")
            echo = [("Set-Cookie", "session=" + secret)]
            model = model + " " + secret
        if not request.get("stream"):
            with LOCK:
                number = STATS["requests"]
            reply = {"id": "test1", "model": model, "content": "Hello.",
                     "request_number": number}
            if echo:
                reply["auth_sha256"] = hashlib.sha256(
                    secret.encode()).hexdigest()
            if echo and self.headers.get("x-test-split"):
                return self.split(json.dumps(reply).encode(), secret)
            return self.send_json(200, reply, extra=echo)
        delay = int(self.headers.get("x-test-delay-ms", "5")) / 1000
        self.start_chunked()
        for event in events(model):
            self.chunk(event)
            time.sleep(delay)
        self.end_chunked()

    def split(self, body, secret):
        """Send body in two chunks cut in the middle of secret."""
        cut = body.index(secret.encode()) + len(secret) // 2
        self.start_chunked(ctype="application/json")
        self.chunk(body[:cut])
        time.sleep(0.1)
        self.chunk(body[cut:])
        self.end_chunked()

    def get_bad_coding(self, query):
        self.send_body(200, b"this is not gzip",
                       extra=[("Content-Encoding", "gzip")])

    def get_gzip(self, query):
        body = json.dumps({"coding": "gzip", "text": "a" * 200}).encode()
        self.send_body(200, gzip.compress(body, mtime=0),
                       extra=[("Content-Encoding", "gzip")])

    def get_br(self, query):
        body = json.dumps({"coding": "br", "text": "b" * 200}).encode()
        self.send_body(200, brotli.compress(body),
                       extra=[("Content-Encoding", "br")])

    def get_binary(self, query):
        size = int(query.get("size", "1024"))
        pattern = bytes(range(256))
        body = (pattern * (size // 256 + 1))[:size]
        self.send_body(200, body, ctype="application/octet-stream")

    def get_big_header(self, query):
        """A response whose head has about `bytes` bytes of headers,
        in lines of at most `line` bytes."""
        left, extra = int(query.get("bytes", "40000")), []
        line = int(query.get("line", "4000"))
        while left > 0:
            size = min(left, line)
            extra.append(("X-Big-%d" % len(extra), "a" * size))
            left -= size
        self.send_body(200, b"ok\n", ctype="text/plain", extra=extra)

    def get_empty(self, query):
        self.send_body(200, b"", ctype="text/plain")

    def get_empty_header(self, query):
        self.send_body(200, b"ok\n", ctype="text/plain",
                       extra=[("X-Empty", "")])

    def get_raw_header(self, query):
        # http.server writes header values as Latin-1, so these are the
        # bytes ff and fe, which are not UTF-8.
        self.send_body(200, b"ok\n", ctype="text/plain",
                       extra=[("X-Raw", "a\xff\xfeb")])

    def get_no_content(self, query):
        self.send_response(204)
        self.end_headers()

    def get_status(self, query):
        code = int(query.get("code", "500"))
        extra = []
        if "retry_after" in query:
            extra.append(("Retry-After", query["retry_after"]))
        self.send_json(code, {"error": {"type": "rate_limit_error"
                                        if code == 429 else "api_error",
                                        "message": "status %d" % code}},
                       extra=extra)

    def get_cut(self, query):
        part = b"data: {\"partial\": true}\n\n"
        if query.get("mode") == "chunked":
            self.start_chunked()
            self.chunk(part)
        else:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(part)
        time.sleep(0.05)
        self.reset()

    def get_hang(self, query):
        time.sleep(30)
        self.close_connection = True

    def get_stream(self, query):
        size = int(query.get("size", "1048576"))
        event = max(int(query.get("event", "1024")), 32)
        # "data: " + filler + "\n\n", so each event is B bytes long.
        line = b"data: " + b"x" * (event - 8) + b"\n\n"
        done = b"data: [DONE]\n\n"
        self.start_chunked()
        try:
            sent = 0
            while size < 0 or sent + len(line) + len(done) <= size:
                self.chunk(line)
                sent += len(line)
            self.chunk(done)
            self.end_chunked()
        except (BrokenPipeError, ConnectionResetError):
            with LOCK:
                STATS["aborted"] += 1
            self.close_connection = True

    def get_slow(self, query):
        events = int(query.get("events", "50"))
        delay = int(query.get("delay_ms", "100")) / 1000
        time.sleep(int(query.get("head_delay_ms", "0")) / 1000)
        self.start_chunked()
        try:
            for i in range(events):
                if query.get("stamp"):
                    self.chunk(b"data: {\"n\": %d, \"t\": %d}\n\n"
                               % (i, time.monotonic_ns()))
                    time.sleep(delay)
                    continue
                self.chunk(b"data: {\"n\": %d}\n\n" % i)
                time.sleep(delay)
            self.end_chunked()
        except (BrokenPipeError, ConnectionResetError):
            with LOCK:
                STATS["aborted"] += 1
            self.close_connection = True


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


def main():
    server = Server(("127.0.0.1", 0), Handler)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    server.serve_forever()


if __name__ == "__main__":
    main()
