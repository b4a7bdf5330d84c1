#!/bin/sh
# runbundle sandbox and record end a run with a process that outlives
# SIGKILL: a lookup in a FUSE mount whose server has read the request
# and never replies. Init reaps for 5 s at most. The caller gets the
# command's status and a warning that names the process. record still
# finalizes the bundle, also when that process keeps the agent's output
# pipes open, and after a second signal has killed the sandbox. Needs
# root for the mount.
. "$TESTS_DIR/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "mounting FUSE needs root"
[ -c /dev/fuse ] || skip "no /dev/fuse"
command -v python3 >/dev/null || skip "no python3"
unshare -m --propagation private true 2>/dev/null ||
	skip "cannot make a mount namespace"

# The sandbox shows a path of filesystem.read_only with the mounts
# below it.
mkdir -p "$TMP/ro/mnt" "$TMP/ws"
cat >"$TMP/policy.json" <<EOF2
{"version": 1, "filesystem": {"read_only": ["/usr", "/bin", "/lib",
  "/lib64", "/etc", "$TMP/ro"]}}
EOF2
cp "$TESTS_DIR/harness/fuse_mute.py" "$TMP/server.py"
# The lookup's SIGKILL comes from init at the end of the run, and the
# server (this shell's python) stays until runbundle has exited.
cat >"$TMP/inner.sh" <<'INNER'
tmp=$1
shift
exec 3<>/dev/fuse
mount -t fuse -o fd=3,rootmode=40000,user_id=0,group_id=0,allow_other \
	fuse "$tmp/ro/mnt" || exit 77
python3 "$tmp/server.py" "$tmp/ro/read" &
server=$!
exec 3>&-
cd "$tmp/ws"
timeout -k 5 40 "$RB" "$@" -- sh -c '
	stat "$1/ro/mnt/x" &
	until [ -e "$1/ro/read" ]; do
		[ -e /proc/$! ] || exit 1
		sleep 0.05
	done
	echo $! >pid
	exit 3' sh "$tmp" &
run=$!
# Two signals to runbundle while the run ends. Not through timeout,
# which would send SIGKILL 5 s after passing a signal on.
if [ -n "${SIGNALS-}" ]; then
	until [ -s pid ]; do sleep 0.05; done
	sleep 0.5
	rb=$(pgrep -P "$run")
	kill -TERM "$rb"
	sleep 0.3
	kill -TERM "$rb"
fi
wait "$run"
status=$?
kill "$server"
exit $status
INNER

# run WHAT ARG...: runbundle ARG... in the mount namespace, which must
# end with the command's status 3.
run() {
	what=$1
	shift
	rm -f "$TMP/ws/pid" "$TMP/ro/read"
	set +e
	RB=$RUNBUNDLE SIGNALS=${SIGNALS-} unshare -m --propagation private \
		sh "$TMP/inner.sh" "$TMP" "$@" >"$TMP/out" 2>"$TMP/err"
	status=$?
	set -e
	[ "$status" != 77 ] || skip "cannot mount FUSE here"
	if [ "$status" != 3 ]; then
		cat "$TMP/err" >&2
		fail "$what with an unkillable process: exit status $status" \
			"(124 or 137: it hung)"
	fi
	expect_grep "^runbundle: warning: processes of the run did not \
exit within 5 s of SIGKILL: '[0-9][0-9]*': they are left behind \
(1 in all)$" "$TMP/err"
}

for mode in namespaces none; do
	run "sandbox --sandbox $mode" sandbox --sandbox "$mode" \
		--policy "$TMP/policy.json"
done
expect_grep "'$(cat "$TMP/ws/pid")': they are left" "$TMP/err"

run record record --policy "$TMP/policy.json" -o "$TMP/run.rb"
"$RUNBUNDLE" verify "$TMP/run.rb" >/dev/null ||
	fail "the bundle of the run does not verify"

# A second signal kills the sandbox's init, and the kernel then waits for
# the process as init did.
rm "$TMP/run.rb"
SIGNALS=1 run "record and two signals" record --policy "$TMP/policy.json" \
	-o "$TMP/run.rb"
"$RUNBUNDLE" verify "$TMP/run.rb" >/dev/null ||
	fail "the bundle of the run stopped by signals does not verify"
exit 0
