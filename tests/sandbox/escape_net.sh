#!/bin/sh
# Escape attempts through the network: a TCP connect to a server on the
# host's loopback, an abstract Unix socket on the host, AF_VSOCK, DNS,
# and CONNECT requests through the egress proxy to destinations that
# are not allowed.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/sandbox/escape_lib.sh"

PY=/usr/bin/python3
abstract=rbtest-$$

host_servers "$abstract"

# The servers work from the host, so a failure inside is the sandbox.
$PY -c 'import socket,sys; s=socket.create_connection(("127.0.0.1",
	int(sys.argv[1]))); assert s.recv(6) == b"hello\n"' "$port"

for who in $IDENTITIES; do
	blocked "$who" tcp "$port"
	blocked "$who" abstract "$abstract"
	blocked "$who" dns example.com
	blocked "$who" dns localhost.localdomain
done

# The proxy: one allowed destination (the host server), and three that
# must be rejected without any connection.
p=$(policy proxy "{\"version\": 1,
	\"network\": {\"allow\": [\"localhost:$port\"]}}")
cat >"$TMP/connect.py" <<'PYEOF'
import os, socket, sys
proxy = os.environ["HTTPS_PROXY"].rsplit(":", 1)
for target in sys.argv[1:]:
    s = socket.create_connection((proxy[0][len("http://"):], int(proxy[1])))
    s.sendall(b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" %
              (target.encode(), target.encode()))
    reply = s.recv(4096).split(b"\r\n")[0].decode()
    print(target, reply, flush=True)
PYEOF
chmod 644 "$TMP/connect.py"
for who in $IDENTITIES; do
	ws=$(workspace "$who")
	cp "$TMP/connect.py" "$ws/connect.py"
	expect_status 0 sandbox "$who" --policy "$p" -- $PY connect.py \
		"localhost:$port" "example.com:443" "10.1.2.3:80" \
		"169.254.169.254:80"
	expect_grep "^localhost:$port HTTP/1.1 200" "$TMP/out"
	expect_grep "^example.com:443 HTTP/1.1 403" "$TMP/out"
	expect_grep "^10.1.2.3:80 HTTP/1.1 403" "$TMP/out"
	expect_grep "^169.254.169.254:80 HTTP/1.1 403" "$TMP/out"
	violation "egress proxy: 'example.com:443'"
	violation "egress proxy: '10.1.2.3:80'"
	violation "egress proxy: '169.254.169.254:80'"
done
