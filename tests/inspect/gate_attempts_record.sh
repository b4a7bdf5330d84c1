#!/bin/sh
# A recorded run that tries to write outside its workspace and to
# connect past the gateway fails the gate's write-outside and network
# rules, although neither attempt changed a file or reached a host, and
# inspect shows both. The connect goes to a port of the sandbox's own
# loopback, so nothing leaves the machine. Each denied program that the
# run tries counts once in denied-command, although the sandbox's
# refusal adds a violation event to the exec event, and a PATH lookup
# adds more of both.
. "$TESTS_DIR/lib.sh"
command -v jq >/dev/null || skip "jq is missing"
PY=/usr/bin/python3
[ -x "$PY" ] || skip "$PY is missing"

outside=/etc/rbgate$$
trap 'rm -f "$outside"; cleanup' EXIT
mkdir "$TMP/ws"
echo keep >"$TMP/ws/keep.txt"
cat >"$TMP/ws/agent.sh" <<SH
#!/bin/sh
echo x >$outside 2>/dev/null
$PY -c '
import socket
s = socket.socket()
s.settimeout(2)
s.connect_ex(("127.0.0.1", 9))
'
bash -c 'su -c true' 2>/dev/null
PATH=/usr/bin:/bin env mount 2>/dev/null
$PY -c '
import os
try:
    os.execv("/usr/sbin/chroot", ["chroot", "/", "true"])
except OSError:
    pass
os.execv("/bin/true", ["true"])'
mkdir -p fakebin
printf '#!/bin/sh\nexit 0\n' >fakebin/unshare
chmod 755 fakebin/unshare
PATH=/usr/bin:\$PWD/fakebin unshare

echo done >inside.txt
exit 0
SH
cd "$TMP/ws"
expect_status 0 "$RUNBUNDLE" record -o "$TMP/run.rb" -- sh ./agent.sh
[ -e "$outside" ] && fail "the write outside the workspace succeeded"

# The bundle contains the two attempts as the sandbox reported them.
"$RUNBUNDLE" inspect --json "$TMP/run.rb" >"$TMP/summary.json" ||
	fail "inspect failed"
expect_eq "$outside" "$(jq -r '[.violations[] | select(.source ==
	"write")][0].what | capture("'"'"'(?<p>.*)'"'"'").p' \
	"$TMP/summary.json")" "the path of the write violation"
expect_eq 1 "$(jq '[.violations[] | select(.source == "network")] |
	length' "$TMP/summary.json")" "network violations"

expect_status 1 "$RUNBUNDLE" gate --json "$TMP/run.rb"
expect_eq false "$(jq -r '.rules[] | select(.rule == "write-outside") |
	.passed' "$TMP/out")" "write-outside passed"
expect_eq true "$(jq --arg p "$outside" '.rules[] |
	select(.rule == "write-outside") | .items | index($p) != null' \
	"$TMP/out")" "the refused path among the items"
expect_eq false "$(jq -r '.rules[] | select(.rule == "network") |
	.passed' "$TMP/out")" "network passed"
expect_eq true "$(jq '.rules[] | select(.rule == "network") | .items |
	index("127.0.0.1:9") != null' "$TMP/out")" \
	"the refused destination among the items"

# su is one attempt, and so is mount, whose PATH lookup tried
# /usr/bin/mount before /bin/mount. A refused chroot stays one when the
# process runs another program after it, and so does a refused unshare
# whose search of PATH went on to run a script of that name.
expect_eq 5 "$(jq '[.violations[] | select(.source == "exec")] | length' \
	"$TMP/summary.json")" "exec violations in the bundle"
fake=$TMP/ws/fakebin/unshare
expect_eq '4 ["/usr/bin/su","/bin/mount","/usr/sbin/chroot","'"$fake"'"]' \
	"$(jq -c '.rules[] |
	select(.rule == "denied-command") | "\(.count) \(.items)"' -r \
	"$TMP/out")" "the denied commands"

# The human lines name them too, and inspect lists them.
expect_status 1 "$RUNBUNDLE" gate "$TMP/run.rb"
expect_grep "^write-outside .*'$outside'" "$TMP/out"
expect_grep "^network .*'127.0.0.1:9'" "$TMP/out"
expect_status 0 "$RUNBUNDLE" inspect "$TMP/run.rb"
expect_grep "^  write: write to '$outside' denied" "$TMP/out"
expect_grep "^  network: connect to 127.0.0.1:9 denied$" "$TMP/out"
exit 0
