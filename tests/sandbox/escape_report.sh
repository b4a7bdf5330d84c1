#!/bin/sh
# Escape attempts that the sandbox sees become violation events in the
# bundle: writes outside the workspace (directly, through a symlink,
# through /proc/self/root and through a hardlink), a TCP connect to a
# server on the host's loopback, an abstract Unix socket on the host,
# a DNS lookup, /proc/1/mem, the system calls that seccomp denies (a
# setuid bit among them) and a denied command. Every attempt also
# fails, and writes inside the workspace and the connections to the
# gateway are not reported.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/sandbox/escape_lib.sh"

PY=/usr/bin/python3
EVENTS="$PY $TESTS_DIR/record/events.py"
abstract=rbreport-$$

host_servers "$abstract"

chmod 777 "$TMP"

# record_as WHO BUNDLE [OPTION...] -- COMMAND...: runbundle record as
# WHO, in WHO's workspace.
record_as() {
	who=$1
	bundle=$2
	shift 2
	ws=$(workspace "$who")
	set +e
	if [ "$who" = user ]; then
		(cd "$ws" && as_user "$UNPRIV_RUNBUNDLE" record -o "$bundle" \
			"$@")
	else
		(cd "$ws" && "$RUNBUNDLE" record -o "$bundle" "$@")
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
		echo benign > /dev/null
		echo benign > /dev/stdout
		echo benign > /proc/self/fd/1
		echo benign > /tmp/benign
		mkdir -p /tmp/a/b
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

	# Nothing writable is reported: the workspace, /tmp, a device, or
	# an fd reopened through /proc. mkdir -p tries mkdir on /tmp too,
	# which fails with EEXIST. No attempt worked.
	if jq -s -e 'any(.[]; .source == "write" and
		     ((.path | startswith("'"$ws"'", "/tmp", "/dev/")) or
		      (.path | test("^/proc/[^/]+/fd/"))))' "$TMP/v-$who" \
		>/dev/null
	then
		cat "$TMP/v-$who" >&2
		fail "$who: a write to a writable path was reported"
	fi
	expect_eq 2 "$(grep -c '^benign$' "$TMP/out")" \
		"$who: benign writes to stdout"
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

# The attacks that seccomp denies, /proc/1/mem and a denied command are
# in the bundle too, each with its own source.
p=$(policy deny '{"version": 1, "exec": {"deny": ["su"]}}')
for who in $IDENTITIES; do
	bundle=$TMP/kernel-$who.rb
	rm -f "$bundle"
	# By absolute path: for a name, dash finds the masked file not
	# executable and fails without calling exec at all.
	record_as "$who" "$bundle" --policy "$p" -- sh -c '
		/usr/bin/su
		./attack vsock
		./attack ptrace-parent
		./attack proc1-mem
		./attack set-id-bits fchmodat
		true' 2>/dev/null
	violations "$bundle" >"$TMP/k-$who"
	expect_eq 5 "$(grep -c '^blocked: ' "$TMP/out")" \
		"$who: blocked kernel attacks"
	expect_violation "$TMP/k-$who" \
		'.source == "exec" and .command == "/usr/bin/su"' \
		"$who: a denied command"
	expect_violation "$TMP/k-$who" \
		'.source == "seccomp" and .syscall == "socket"' "$who: AF_VSOCK"
	expect_violation "$TMP/k-$who" \
		'.source == "seccomp" and .syscall == "ptrace"' "$who: ptrace"
	expect_violation "$TMP/k-$who" \
		'.source == "seccomp" and .syscall == "fchmodat"' \
		"$who: a setuid bit"
	expect_violation "$TMP/k-$who" \
		'.source == "write" and .path == "/proc/1/mem"' \
		"$who: /proc/1/mem opened for writing"
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
