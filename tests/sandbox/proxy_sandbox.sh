#!/bin/sh
# proxy_sandbox.sh - the egress proxy behind a real sandbox. curl inside
# reaches an allowlisted server on the host's loopback through
# HTTPS_PROXY. A CONNECT to a host not on the list, to a raw IP or to
# 169.254.169.254 is rejected and reported. Runs as root and as the
# unprivileged test user.
. "$TESTS_DIR/lib.sh"

command -v curl >/dev/null || skip "curl is not installed"
unpriv_setup

# A file server on the host's loopback, on a port the kernel picks.
mkdir -p "$TMP/www"
echo "through the tunnel" >"$TMP/www/index.html"
/usr/bin/python3 - "$TMP/www" "$TMP/port" <<'EOF' &
import functools, http.server, os, sys

class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

handler = functools.partial(Quiet, directory=sys.argv[1])
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write(str(server.server_port))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
server.serve_forever()
EOF
server=$!
trap 'kill $server 2>/dev/null; cleanup' EXIT
for i in $(seq 100); do
	[ -s "$TMP/port" ] && break
	sleep 0.1
done
[ -s "$TMP/port" ] || fail "the test server did not start"
port=$(cat "$TMP/port")

cat >"$TMP/policy.json" <<EOF
{
	"version": 1,
	"network": { "allow": ["127.0.0.1:$port"] }
}
EOF
chmod 644 "$TMP/policy.json"
# A policy's own NO_PROXY stays, so that plain clients use the proxy for
# an allowed loopback service too.
cat >"$TMP/own-no-proxy.json" <<EOF
{
	"version": 1,
	"network": { "allow": ["127.0.0.1:$port"] },
	"env": { "set": { "NO_PROXY": "", "no_proxy": "" } }
}
EOF
chmod 644 "$TMP/own-no-proxy.json"

# curl's own NO_PROXY handling would skip the proxy for 127.0.0.1, so
# --noproxy '' makes it tunnel, as it would for a registry's name.
fetch='curl -sS --noproxy "" --proxytunnel -x "$HTTPS_PROXY"'

check_run() {
	label=$1
	shift
	mkdir -p "$TMP/ws-$label"
	chmod 777 "$TMP/ws-$label"

	expect_status 0 "$@" sandbox --policy "$TMP/policy.json" \
		--workspace "$TMP/ws-$label" -- \
		sh -c "$fetch http://127.0.0.1:$port/index.html"
	expect_grep '^through the tunnel$' "$TMP/out"
	expect_status 0 "$@" sandbox --policy "$TMP/own-no-proxy.json" \
		--workspace "$TMP/ws-$label" -- \
		sh -c 'echo "[$NO_PROXY]"; curl -sS --proxytunnel \
			http://127.0.0.1:'"$port"'/index.html'
	expect_grep '^\[\]$' "$TMP/out"
	expect_grep '^through the tunnel$' "$TMP/out"

	for target in "127.0.0.1:1" "registry.invalid:443" \
		"169.254.169.254:80" "[fe80::1]:80"; do
		host=${target%:*}
		tport=${target##*:}
		expect_status 0 "$@" sandbox --policy "$TMP/policy.json" \
			--workspace "$TMP/ws-$label" -- \
			sh -c "$fetch -o /dev/null -w '%{http_connect}\n' \
				http://$host:$tport/ || true"
		expect_grep '^403$' "$TMP/out"
		pattern=$(printf '%s' "$target" | sed 's/[][]/\\&/g')
		expect_grep "policy violation: egress proxy: '$pattern'" \
			"$TMP/err"
	done

	# A plain HTTP request is named by its URL, without a port of 0.
	expect_status 0 "$@" sandbox --policy "$TMP/policy.json" \
		--workspace "$TMP/ws-$label" -- \
		sh -c "curl -sS --noproxy '' -x \"\$HTTP_PROXY\" -o /dev/null \
			-w '%{http_code}\n' http://127.0.0.1:$port/x || true"
	expect_grep '^403$' "$TMP/out"
	expect_grep "policy violation: egress proxy: \
'http://127.0.0.1:$port/x': only CONNECT is served" "$TMP/err"
}

check_run root "$RUNBUNDLE"
check_run user as_user "$UNPRIV_RUNBUNDLE"
