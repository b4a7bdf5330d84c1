#!/bin/sh
# runbundle trace ends a run whose leftover process cannot stop when the
# tracer interrupts it. A lookup in a FUSE mount whose server never
# replies sleeps until a fatal signal, and the tracer sends that only
# after the stops it waits for. Needs root for the mount.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/harness/trace_lib.sh"

[ "$(id -u)" -eq 0 ] || skip "mounting FUSE needs root"
[ -c /dev/fuse ] || skip "no /dev/fuse"
unshare -m --propagation private true 2>/dev/null ||
	skip "cannot make a mount namespace"

mkdir "$TMP/mnt"
# The server is this shell's descriptor 3, which never reads it, so the
# kernel's first request, FUSE_INIT, gets no reply and every lookup
# waits for it. The daemon beside the lookup still gets its exec
# recorded, and both are killed.
cat >"$TMP/inner.sh" <<'INNER'
exec 3<>/dev/fuse
mount -t fuse -o fd=3,rootmode=40000,user_id=0,group_id=0 fuse "$1/mnt" ||
	exit 77
timeout -k 5 30 "$RB" trace --json -o "$1/tree.json" -- sh -c '
	stat "$1/mnt/x" >/dev/null 2>&1 &
	until grep -q "^State:.D" /proc/$!/status; do
		[ -e /proc/$! ] || exit 1
		sleep 0.05
	done
	echo $! >"$1/pid"
	sleep 100 &
	exit 0' sh "$1" 3>&-
INNER
set +e
RB=$RB unshare -m --propagation private sh "$TMP/inner.sh" "$TMP" \
	>"$TMP/cmd.out" 2>"$TMP/cmd.err"
status=$?
set -e
[ "$status" != 77 ] || skip "cannot mount FUSE here"
if [ "$status" != 0 ]; then
	cat "$TMP/cmd.err" >&2
	fail "trace with a process stuck in FUSE: exit status $status" \
		"(124 or 137: it hung)"
fi
pid=$(cat "$TMP/pid")
expect_grep "did not stop within 2 s at the end of the run: '$pid': " \
	"$TMP/cmd.err"
jq_eq "$TMP/tree.json" \
	"[.children[] | select(.pid == $pid) | .end] | join(\" \")" killed
jq_eq "$TMP/tree.json" \
	'[.children[] | select(.execs[0].argv[1] == "100") | .end] | join(" ")' \
	killed

# A lookup that the server has read and never replies to sleeps even
# through SIGKILL, until the server goes. The run ends all the same, and
# the process is recorded as lost.
cp "$TESTS_DIR/harness/fuse_mute.py" "$TMP/server.py"
cat >"$TMP/inner2.sh" <<'INNER'
exec 3<>/dev/fuse
mount -t fuse -o fd=3,rootmode=40000,user_id=0,group_id=0 fuse "$1/mnt" ||
	exit 77
python3 "$1/server.py" "$1/read" &
server=$!
exec 3>&-
timeout -k 5 30 "$RB" trace --json -o "$1/tree2.json" -- sh -c '
	stat "$1/mnt/x" >/dev/null 2>&1 &
	until [ -e "$1/read" ]; do
		[ -e /proc/$! ] || exit 1
		sleep 0.05
	done
	echo $! >"$1/pid2"
	exit 0' sh "$1"
status=$?
kill "$server"
exit $status
INNER
command -v python3 >/dev/null || skip "no python3"
set +e
RB=$RB unshare -m --propagation private sh "$TMP/inner2.sh" "$TMP" \
	>"$TMP/cmd.out" 2>"$TMP/cmd.err"
status=$?
set -e
if [ "$status" != 0 ]; then
	cat "$TMP/cmd.err" >&2
	fail "trace with an unkillable process: exit status $status" \
		"(124 or 137: it hung)"
fi
pid=$(cat "$TMP/pid2")
expect_grep "did not exit within 5 s of SIGKILL: '$pid': " "$TMP/cmd.err"
jq_eq "$TMP/tree2.json" \
	"[.children[] | select(.pid == $pid) | .end] | join(\" \")" lost
