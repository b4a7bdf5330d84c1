#!/bin/sh
# Escape attempts that the sandbox sees become violation events in the
# bundle: writes outside the workspace (directly, through a symlink,
# through /proc/self/root and through a hardlink), a TCP connect to a
# server on the host's loopback, an abstract Unix socket on the host,
# and a DNS lookup. Every attempt also fails, and writes inside the
# workspace and the connections to the gateway are not reported.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/sandbox/escape_lib.sh"

PY=/usr/bin/python3
EVENTS="$PY $TESTS_DIR/record/events.py"
abstract=rbreport-$$

# One host-side server: TCP on an ephemeral loopback port and an
# abstract Unix socket. Nothing inside the sandbox can reach either.
$PY -c '
import socket, sys, threading
t = socket.socket(); t.bind(("127.0.0.1", 0)); t.listen(16)
u = socket.socket(socket.AF_UNIX); u.bind("\0" + sys.argv[1]); u.listen(16)
print(t.getsockname()[1], flush=True)
def serve(s):
    while True:
        c, _ = s.accept(); c.close()
threading.Thread(target=serve, args=(u,), daemon=True).start()
serve(t)
' "$abstract" >"$TMP/port" &
server=$!
trap 'kill $server 2>/dev/null; cleanup' EXIT
while [ ! -s "$TMP/port" ]; do sleep 0.05; done
port=$(cat "$TMP/port")

chmod 777 "$TMP"

# record_as WHO BUNDLE -- COMMAND...: runbundle record as WHO, in WHO's
# workspace.
record_as() {
	who=$1
	bundle=$2
	shift 3
	ws=$(workspace "$who")
	set +e
	if [ "$who" = user ]; then
		(cd "$ws" && as_user "$UNPRIV_RUNBUNDLE" record -o "$bundle" \
			-- "$@")
	else
		(cd "$ws" && "$RUNBUNDLE" record -o "$bundle" -- "$@")
	fi >"$TMP/out" 2>"$TMP/err" </dev/null
	got=$?
	set -e
	if [ "$got" != 0 ]; then
		cat "$TMP/err" >&2
		fail "$who: record exited with status $got"
	fi
}

# violations BUNDLE: the data of every violation event, one per line.
violations() {
	$EVENTS "$1" kinds | awk '$2 == "violation" { print $1 }' |
		while read -r seq; do
			$EVENTS "$1" data "$seq"
		done
}

# expect_violation FILE JQ-FILTER WHAT: at least one line of FILE
# matches the filter.
expect_violation() {
	if ! jq -s -e "any(.[]; $2)" "$1" >/dev/null; then
		cat "$1" >&2
		fail "no violation event for $3"
	fi
}

for who in $IDENTITIES; do
	ws=$(workspace "$who")
	ln -sf /etc "$ws/link-etc"
	bundle=$TMP/report-$who.rb
	rm -f "$bundle"
	record_as "$who" "$bundle" -- sh -c "
		echo x > /etc/x
		echo x > ./link-etc/via-link
		echo x > /proc/self/root/etc/via-proc
		ln /etc/passwd hard
		mkdir /usr/newdir
		echo ok > inside
		./attack tcp $port
		./attack abstract $abstract
		./attack dns example.com
		true" 2>/dev/null
	violations "$bundle" >"$TMP/v-$who"

	expect_violation "$TMP/v-$who" \
		'.source == "write" and .path == "/etc/x" and
		 .syscall == "openat" and (.pid | type) == "number"' \
		"$who: a direct write"
	expect_violation "$TMP/v-$who" \
		'.source == "write" and .path == "/etc/via-link"' \
		"$who: a write through a symlink"
	expect_violation "$TMP/v-$who" \
		'.source == "write" and
		 (.path | endswith("/etc/via-proc"))' \
		"$who: a write through /proc/self/root"
	expect_violation "$TMP/v-$who" \
		'.source == "write" and .path == "/etc/passwd" and
		 (.syscall | startswith("link"))' \
		"$who: a hardlink to a file outside"
	expect_violation "$TMP/v-$who" \
		'.source == "write" and .path == "/usr/newdir" and
		 .syscall == "mkdir"' "$who: a mkdir outside"
	expect_violation "$TMP/v-$who" \
		".source == \"network\" and .family == \"inet\" and
		 .address == \"127.0.0.1\" and .port == $port and
		 .syscall == \"connect\"" "$who: a TCP connect to the host"
	expect_violation "$TMP/v-$who" \
		".source == \"network\" and .family == \"unix\" and
		 .address == \"@$abstract\"" "$who: an abstract Unix socket"
	expect_violation "$TMP/v-$who" \
		'.source == "network" and .port == 53' "$who: a DNS lookup"

	# Nothing inside the workspace is reported, and no attempt worked.
	if jq -s -e 'any(.[]; .source == "write" and
		     (.path | startswith("'"$ws"'")))' "$TMP/v-$who" >/dev/null
	then
		fail "$who: a write inside the workspace was reported"
	fi
	expect_eq ok "$(cat "$ws/inside")" "$who: the write inside"
	[ ! -e /etc/x ] && [ ! -e /etc/via-link ] && [ ! -e /etc/via-proc ] ||
		fail "$who: a file appeared in the host's /etc"
	[ ! -e "$ws/hard" ] || fail "$who: a hardlink was created"
	expect_eq 3 "$(grep -c '^blocked: ' "$TMP/out")" \
		"$who: blocked network attacks"
	if grep -q '^ESCAPED' "$TMP/out"; then
		fail "$who: $(grep '^ESCAPED' "$TMP/out")"
	fi
done

# A sandbox process's own server on loopback is not an attempt: the
# connect to it is not reported, while the closed port next to it is.
for who in $IDENTITIES; do
	bundle=$TMP/served-$who.rb
	rm -f "$bundle"
	record_as "$who" "$bundle" -- $PY -c '
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
c = socket.create_connection(s.getsockname()); c.close()
d = socket.socket()
try:
    d.connect(("127.0.0.1", 9))
except OSError:
    pass
'
	violations "$bundle" >"$TMP/served-$who"
	expect_eq 1 "$(jq -s 'map(select(.source == "network")) | length' \
		"$TMP/served-$who")" "$who: network violations"
	expect_violation "$TMP/served-$who" '.port == 9' "$who: port 9"
done
exit 0
