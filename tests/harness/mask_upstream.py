#!/usr/bin/python3
"""mask_upstream.py PORTFILE: an upstream that hides the key it was sent.

It writes its port to PORTFILE and responds, for the last path segment,
with the request's key (after "Bearer " in Authorization) hidden in a
place the gateway must still find it:

  two-ce         Content-Encoding: identity, then Content-Encoding: gzip
                 (?first= sends an empty first header)
  multi-member   gzip of two members, the key in the second
  multi-frame    zstd of two frames, the key in the second
  trailing       a gzip member without the key, then the key in plain
  header-name    the key in a header's name
  folded         the key in a header value folded across two lines
  head-gzip      Content-Encoding: gzip, for HEAD
  not-modified   304 with Content-Encoding: gzip
  no-content     204 with Content-Encoding: gzip
  empty-gzip     200, Content-Encoding: gzip, Content-Length: 0
  cut            the key less its last byte, then the connection closes
  bomb           gzip of 80 MiB of zeros, about 80 KB on the wire
  huge           65 MiB of random bytes that claim to be gzip
  ce-key         the key as the Content-Encoding
  ce-identity    a plain echo of the key labelled "identity, identity"
  gz-comment     the key in a gzip header's comment, which decodes to
                 nothing
  zstd-skip      the key in a zstd skippable frame
  gz-cut         a chunked gzip body whose last chunk never comes
  gz-hcrc        the key in a gzip comment covered by the header's CRC,
                 and compressed in the body
  gz-stored      the key in a stored deflate block and compressed in a
                 later one, under one CRC
  bad-shown      the key in plain bytes that claim to be gzip
  base64         the key in base64, after "user:" as in a Basic
                 credential
  json-escaped   the key in a JSON string, spelt as ?form= gives (see
                 escape_key), sent in one piece, or one byte a piece with
                 ?split=bytes

zstd bodies are made with the zstd command.
"""
import base64
import gzip
import json
import os
import socket
import socketserver
import struct
import subprocess
import sys
import time
import urllib.parse
import zlib


def zstd(data):
    return subprocess.run(["zstd", "-q", "-c"], input=data,
                          stdout=subprocess.PIPE, check=True).stdout


def gzip_with_comment(data, comment):
    """A gzip member (RFC 1952) with FCOMMENT set to comment."""
    head = b"\x1f\x8b\x08\x10" + b"\0\0\0\0" + b"\0\xff" + comment + b"\0"
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = deflate.compress(data) + deflate.flush()
    return head + body + struct.pack("<II", zlib.crc32(data), len(data))


def deflate_raw(data):
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    return deflate.compress(data) + deflate.flush()


def gzip_tail(data):
    return struct.pack("<II", zlib.crc32(data), len(data))


def gzip_hcrc(comment, data):
    """A gzip member with FCOMMENT and FHCRC: masking the comment breaks
    the header's CRC."""
    head = b"\x1f\x8b\x08\x12\0\0\0\0\0\xff" + comment + b"\0"
    head += struct.pack("<H", zlib.crc32(head) & 0xffff)
    return head + deflate_raw(data) + gzip_tail(data)


def gzip_stored(plain, hidden):
    """A gzip member whose first deflate block stores plain as it is and
    whose second compresses hidden."""
    stored = b"\x00" + struct.pack("<HH", len(plain), 0xffff ^ len(plain))
    return (b"\x1f\x8b\x08\x00\0\0\0\0\0\xff" + stored + plain +
            deflate_raw(hidden) + gzip_tail(plain + hidden))


def escape_char(ch, case):
    """Return ch as "\\u" escapes with hex digits in case ("x" or "X"),
    as a surrogate pair above U+FFFF."""
    code = ord(ch)
    units = [code] if code < 0x10000 else \
        [0xd800 + ((code - 0x10000) >> 10),
         0xdc00 + ((code - 0x10000) & 0x3ff)]
    return "".join(("\\u%04" + case) % unit for unit in units)


def escape_key(key, form):
    """Return key escaped for a JSON string in the given form.

    "short" escapes only the characters that have a short escape, "\\/"
    included. "lower" and "upper" write every character as "\\u". "mixed"
    takes turns: the character itself, a short escape, "\\u" in either
    case. "ascii" is what Python's json.dumps writes. "quote" is the
    percent-encoding of Python's quote(), which leaves '/', and "pct-lower"
    percent-encodes every byte with lower-case hex."""
    short = {'"': '\\"', "\\": "\\\\", "/": "\\/"}
    if form == "ascii":
        return json.dumps(key)[1:-1]
    if form == "quote":
        return urllib.parse.quote(key)
    if form == "pct-lower":
        return "".join("%%%02x" % byte for byte in key.encode())
    out = ""
    for at, ch in enumerate(key):
        if form == "short":
            out += short.get(ch, ch)
        elif form in ("lower", "upper"):
            out += escape_char(ch, "x" if form == "lower" else "X")
        elif at % 4 == 0 and ch not in short:
            out += ch
        elif at % 4 == 1 and ch in short:
            out += short[ch]
        else:
            out += escape_char(ch, "x" if at % 2 else "X")
    return out


class Handler(socketserver.BaseRequestHandler):
    def read_request(self):
        buf = b""
        while b"\r\n\r\n" not in buf:
            more = self.request.recv(65536)
            if not more:
                return None
            buf += more
        head, rest = buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(rest) < length:
            rest += self.request.recv(65536)
        return method, target, headers

    def handle(self):
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while True:
            req = self.read_request()
            if req is None:
                return
            self.method, target, headers = req
            url = urllib.parse.urlsplit(target)
            self.query = dict(urllib.parse.parse_qsl(url.query))
            auth = headers.get("authorization", "")
            self.key = auth[7:].encode() if auth.startswith("Bearer ") \
                else auth.encode()
            name = url.path.rstrip("/").rsplit("/", 1)[-1]
            scenario = getattr(self, "s_" + name.replace("-", "_"), None)
            if scenario is None:
                self.request.sendall(b"HTTP/1.1 404 Not Found\r\n"
                                     b"Content-Length: 0\r\n\r\n")
            elif scenario() == "close":
                return

    def reply(self, body, extra="", status="200 OK"):
        head = ("HTTP/1.1 %s\r\n%sContent-Length: %d\r\n\r\n"
                % (status, extra, len(body))).encode()
        self.request.sendall(head if self.method == "HEAD" else head + body)

    def echo(self):
        return b'{"echo": "Bearer ' + self.key + b'"}\n'

    def s_two_ce(self):
        first = self.query.get("first", "identity")
        self.reply(gzip.compress(self.echo(), mtime=0),
                   "Content-Encoding: %s\r\nContent-Encoding: gzip\r\n"
                   % first)

    def s_multi_member(self):
        self.reply(gzip.compress(b'{"a": "harmless', mtime=0) +
                   gzip.compress(b'", "echo": "' + self.key + b'"}\n',
                                 mtime=0),
                   "Content-Encoding: gzip\r\n")

    def s_multi_frame(self):
        self.reply(zstd(b'{"a": "harmless') +
                   zstd(b'", "echo": "' + self.key + b'"}\n'),
                   "Content-Encoding: zstd\r\n")

    def s_trailing(self):
        self.reply(gzip.compress(b'{"a": 1}', mtime=0) + b"Bearer " +
                   self.key + b"\n", "Content-Encoding: gzip\r\n")

    def s_header_name(self):
        self.reply(b"ok\n", "X-%s: 1\r\n" % self.key.decode())

    def s_folded(self):
        half = len(self.key) // 2
        self.reply(b"ok\n", "X-Echo: Bearer %s\r\n\t%s\r\n"
                   % (self.key[:half].decode(), self.key[half:].decode()))

    def s_head_gzip(self):
        self.reply(gzip.compress(b"{}", mtime=0),
                   "Content-Encoding: gzip\r\n")

    def s_not_modified(self):
        self.request.sendall(b"HTTP/1.1 304 Not Modified\r\n"
                             b"Content-Encoding: gzip\r\n\r\n")

    def s_no_content(self):
        self.request.sendall(b"HTTP/1.1 204 No Content\r\n"
                             b"Content-Encoding: gzip\r\n\r\n")

    def s_empty_gzip(self):
        self.reply(b"", "Content-Encoding: gzip\r\n")

    def s_bomb(self):
        self.reply(gzip.compress(bytes(80 << 20), mtime=0),
                   "Content-Encoding: gzip\r\n")

    def s_huge(self):
        self.reply(os.urandom(65 << 20), "Content-Encoding: gzip\r\n")

    def s_ce_identity(self):
        self.reply(self.echo(), "Content-Encoding: identity, identity\r\n")

    def s_base64(self):
        basic = base64.b64encode(b"user:" + self.key)
        self.reply(b'{"basic": "' + basic + b'"}\n')

    def s_json_escaped(self):
        # The header was read as Latin-1, and the key may be UTF-8.
        key = self.key.decode("utf-8").encode("latin-1").decode("utf-8")
        body = ('{"echo": "%s"}\n' % escape_key(
            key, self.query.get("form", "short"))).encode()
        if self.query.get("split") != "bytes":
            self.reply(body)
            return
        self.request.sendall(b"HTTP/1.1 200 OK\r\n"
                             b"Transfer-Encoding: chunked\r\n\r\n")
        for byte in body:
            self.request.sendall(b"1\r\n%c\r\n" % byte)
            time.sleep(0.002)
        self.request.sendall(b"0\r\n\r\n")

    def s_ce_key(self):
        self.reply(b"x", "Content-Encoding: %s\r\n" % self.key.decode())

    def s_gz_comment(self):
        self.reply(gzip_with_comment(b'{"ok": true}\n', self.key),
                   "Content-Encoding: gzip\r\n")

    def s_zstd_skip(self):
        skip = struct.pack("<II", 0x184D2A50, len(self.key)) + self.key
        self.reply(zstd(b'{"ok": true}\n') + skip,
                   "Content-Encoding: zstd\r\n")

    def s_gz_cut(self):
        body = gzip.compress(self.echo(), mtime=0)
        self.request.sendall(b"HTTP/1.1 200 OK\r\n"
                             b"Transfer-Encoding: chunked\r\n"
                             b"Content-Encoding: gzip\r\n\r\n" +
                             b"%x\r\n" % len(body) + body + b"\r\n")
        time.sleep(0.1)
        return "close"

    def s_gz_hcrc(self):
        self.reply(gzip_hcrc(self.key, self.echo()),
                   "Content-Encoding: gzip\r\n")

    def s_gz_stored(self):
        self.reply(gzip_stored(b"shown: " + self.key + b"\n", self.echo()),
                   "Content-Encoding: gzip\r\n")

    def s_bad_shown(self):
        self.reply(b"not gzip: " + self.key, "Content-Encoding: gzip\r\n")

    def s_cut(self):
        body = self.echo()
        cut = body.index(self.key) + len(self.key) - 1
        self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n"
                             % len(body) + body[:cut])
        time.sleep(0.05)
        return "close"


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


server = Server(("127.0.0.1", 0), Handler)
with open(sys.argv[1], "w") as port_file:
    port_file.write(str(server.server_address[1]))
server.serve_forever()
