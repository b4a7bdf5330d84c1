#!/bin/sh
# Policy violations become events: an exec that the policy denies, a
# system call that seccomp denies, requests that the egress proxy
# rejects, and forks that the run's cgroup rejects. The agent's own run
# goes on, and runbundle exits with its status.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/record/record_lib.sh"
command -v curl >/dev/null || skip "curl is missing"

mkdir "$TMP/ws"
cd "$TMP/ws"
# The allowlist names a loopback port where nothing listens, so that the
# proxy runs; nothing is sent anywhere else.
cat >"$TMP/policy.json" <<'JSON'
{"version": 1, "exec": {"deny": ["wget"]},
 "network": {"allow": ["127.0.0.1:9"]}}
JSON
record "$TMP/v.rb" --policy "$TMP/policy.json" -- sh -c '
	/usr/bin/wget -q http://127.0.0.1:9/
	/usr/bin/python3 -c "import ctypes
print(ctypes.CDLL(None).unshare(0x10000000))"
	curl -sS -m 5 https://169.254.169.254/
	/usr/bin/python3 -c "import os, socket, urllib.parse
proxy = urllib.parse.urlsplit(os.environ[\"HTTPS_PROXY\"])
s = socket.create_connection((proxy.hostname, proxy.port))
s.sendall(b\"CONNECT 127.0.0.1:9x HTTP/1.1\\r\\n\\r\\n\")
print(s.recv(100).split()[1].decode())"
	echo done'
expect_recorded 0
expect_grep '^400$' "$TMP/out"
expect_grep '^done$' "$TMP/out"
expect_grep ' 4 policy violations$' "$TMP/err"

$EVENTS "$TMP/v.rb" kinds | awk '$2 == "violation" { print $1 }' |
	while read -r seq; do
		$EVENTS "$TMP/v.rb" data "$seq"
	done >"$TMP/violations"
expect_eq 4 "$(wc -l <"$TMP/violations")" "violation events"
expect_eq /usr/bin/wget \
	"$(jq -r 'select(.source == "exec") | .command' "$TMP/violations")" \
	"the denied exec"
expect_eq "unshare EPERM" \
	"$(jq -r 'select(.source == "seccomp") | "\(.syscall) \(.error)"' \
		"$TMP/violations")" "the denied system call"
expect_eq "169.254.169.254 443
127.0.0.1:9x 0" \
	"$(jq -r 'select(.source == "proxy") | "\(.host) \(.port)"' \
		"$TMP/violations")" "the rejected CONNECT and malformed target"
expect_eq 4 "$(last_data "$TMP/v.rb" end .counts.violations)" \
	"end.counts.violations"
"$RB" inspect "$TMP/v.rb" >"$TMP/inspect"
expect_grep "^  proxy: connection to 127.0.0.1:9x refused: invalid port" \
	"$TMP/inspect"

# dash looks a name up in PATH with stat() and passes over anything but
# a regular file without an exec. A denied command is covered with one,
# so that dash runs the exec, which the kernel refuses and the record
# shows.
record "$TMP/dash.rb" --policy "$TMP/policy.json" -- dash -c 'wget -q
	echo "status $?"'
expect_recorded 0
expect_grep '^status 126$' "$TMP/out"
expect_eq wget "$($EVENTS "$TMP/dash.rb" last violation |
	jq -r '.command | split("/") | last')" "the denied exec by name"

# A write to the cover names the command's path, as the kernel names an
# open file: the cover's own file is never removed, or the name would
# end in " (deleted)".
set +e
"$RB" sandbox --policy "$TMP/policy.json" -- sh -c \
	'echo x >>/usr/bin/wget' >"$TMP/out" 2>"$TMP/err"
set -e
expect_grep "^runbundle: policy violation: write attempt: '/usr/bin/wget': \
outside the writable paths" "$TMP/err"

# The process limit: with a cgroup (for root here), the forks it rejected
# are one violation, which inspect names. An rlimit counts none.
printf '{"version": 1, "limits": {"processes": 64}}\n' >"$TMP/procs.json"
"$RB" sandbox --policy "$TMP/procs.json" --description "$TMP/limits.json" \
	-- true
record "$TMP/procs.rb" --policy "$TMP/procs.json" -- sh -c '
	(for i in $(seq 100); do sleep 1 & done; wait) 2>/dev/null; exit 0'
expect_recorded 0
case $(jq -r .limits.processes.via "$TMP/limits.json") in
cgroup*)
	expect_grep ' 1 policy violation$' "$TMP/err"
	"$RB" inspect "$TMP/procs.rb" >"$TMP/inspect"
	expect_grep '^  limit: limits.processes (64) reached: [0-9]* forks* ' \
		"$TMP/inspect"
	;;
*)
	expect_grep ' 0 policy violations$' "$TMP/err"
	;;
esac
exit 0
