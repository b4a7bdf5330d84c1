#!/bin/sh
# runbundle sandbox exits when init reports the status, and leaves init
# to finish the teardown. The parts it created in the workspace and the
# run's cgroup are removed before it exits, and what the agent wrote
# stays. As root and as the test user.
. "$TESTS_DIR/lib.sh"
ATTACK=/bin/true
. "$TESTS_DIR/sandbox/escape_lib.sh"

# orphans COMMAND...: run the command as a child of a subreaper, and
# print "status N", the number of orphans named sandbox-init that the
# subreaper reaped after the command exited, and "cgroup left" when
# the command's cgroup v1 pids group is still there.
orphans() {
	/usr/bin/python3 -c '
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(36, 1, 0, 0, 0) != 0:
    sys.exit("prctl(PR_SET_CHILD_SUBREAPER) failed")
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
_, status = os.waitpid(pid, 0)
print("status", os.waitstatus_to_exitcode(status))
n = 0
while True:
    try:
        info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOWAIT)
    except ChildProcessError:
        break
    with open("/proc/%d/comm" % info.si_pid) as f:
        n += f.read().strip() == "sandbox-init"
    os.waitpid(info.si_pid, 0)
print("orphans", n)
if os.path.exists("/sys/fs/cgroup/pids/runbundle-%d" % pid):
    print("cgroup left")
' "$@" >"$TMP/out" || fail "the subreaper failed: $(cat "$TMP/out")"
}

# The built-in parts without .git/config, which would make the whole
# of a created .git read-only.
printf '{"version": 1, "workspace": {"read_only": [".git/hooks"]}}\n' \
	>"$TMP/hooks.json"
chmod 644 "$TMP/hooks.json"

for who in $IDENTITIES; do
	ws=$(workspace "$who")
	mkdir -p "$ws/.git/hooks" "$TMP/empty-$who"
	rb=$RUNBUNDLE
	if [ "$who" = user ]; then
		if [ "$(id -u)" -eq 0 ]; then
			chown -R "$TEST_USER" "$ws/.git" "$TMP/empty-$who"
		fi
		rb=$UNPRIV_RUNBUNDLE
	fi
	if [ "$who" = user ] && [ "$(id -u)" -eq 0 ]; then
		set -- setpriv --reuid="$TEST_USER" --regid="$TEST_USER" \
			--init-groups -- "$rb"
	else
		set -- "$rb"
	fi

	# Nothing to remove on the host: init is left to the subreaper.
	(cd "$ws" && orphans "$@" sandbox --workspace "$ws" -- sh -c 'exit 3')
	expect_grep '^status 3$' "$TMP/out"
	expect_grep '^orphans 1$' "$TMP/out"
	if grep -q '^cgroup left$' "$TMP/out"; then
		fail "$who: the run's cgroup is left behind"
	fi

	# .git/hooks is created for the run, and removed before the
	# teardown, while it is still a mount point inside.
	(cd "$TMP/empty-$who" && orphans "$@" sandbox \
		--workspace "$TMP/empty-$who" -- true)
	expect_grep '^status 0$' "$TMP/out"
	expect_grep '^orphans 1$' "$TMP/out"
	if grep -q '^cgroup left$' "$TMP/out"; then
		fail "$who: the run's cgroup is left behind"
	fi
	[ ! -e "$TMP/empty-$who/.git" ] ||
		fail "$who: the created .git/hooks is left behind"

	# What the agent wrote beside the part stays, with its directory.
	(cd "$TMP/empty-$who" && orphans "$@" sandbox \
		--workspace "$TMP/empty-$who" --policy "$TMP/hooks.json" \
		-- sh -c 'echo x >.git/config')
	expect_grep '^status 0$' "$TMP/out"
	expect_eq x "$(cat "$TMP/empty-$who/.git/config")" "$who: .git/config"
	[ ! -e "$TMP/empty-$who/.git/hooks" ] ||
		fail "$who: the created .git/hooks is left behind"
done
