#!/bin/sh
# Limits: a fork bomb stopped by the process limit, the memory limit
# (in the tmpfs mounts too), and a timeout that kills the whole tree,
# including a daemonized grandchild.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/sandbox/escape_lib.sh"

p=$(policy procs '{"version": 1, "limits": {"processes": 64}}')
for who in $IDENTITIES; do
	expect_status 0 sandbox "$who" --policy "$p" -- ./attack fork-bomb
	expect_grep '^blocked: fork failed after [0-9]* processes' "$TMP/out"
	n=$(sed -n 's/^blocked: fork failed after \([0-9]*\).*/\1/p' \
		"$TMP/out")
	[ "$n" -lt 64 ] || fail "$who: $n processes started under a limit of 64"
	# runbundle counts the forks that the run's cgroup rejected. A user
	# without a writable cgroup gets an rlimit, which counts none.
	if [ "$who" = root ]; then
		violation "process limit: '64': [0-9]* forks refused"
	fi
done

# The run's cgroup is gone once runbundle has exited. Its name ends in
# runbundle's pid. The loop gives the kernel a moment to free it.
if [ "$(id -u)" -eq 0 ]; then
	ws=$(workspace root)
	"$RUNBUNDLE" sandbox --workspace "$ws" \
		--description "$TMP/limits.json" -- true &
	pid=$!
	wait $pid
	via=$(jq -r .limits.processes.via "$TMP/limits.json")
	n=0
	while [ -n "$(find /sys/fs/cgroup -maxdepth 4 -type d \
		-name "runbundle-$pid*" 2>/dev/null)" ] && [ $n -lt 40 ]; do
		sleep 0.05
		n=$((n + 1))
	done
	case $via in
	cgroup*) [ $n -lt 40 ] || fail "the run's cgroup outlived it" ;;
	esac
fi

# PIDs repeat (a container's entrypoint is always PID 1), and a run
# killed with SIGKILL leaves its cgroup, so a name that exists gets a
# random suffix, and the limit still holds.
if [ "$(id -u)" -eq 0 ] && [ "$via" = cgroup1 ]; then
	dir=/sys/fs/cgroup/pids$(sed -n 's/^[0-9]*:pids://p' /proc/self/cgroup)
	taken="runbundle-1 runbundle-1-1 runbundle-1-2 runbundle-1-3
		runbundle-1-4 runbundle-1-5 runbundle-1-6 runbundle-1-7"
	for name in $taken; do
		mkdir "$dir/$name"
	done
	set +e
	(cd "$ws" && unshare --pid --fork --kill-child "$RUNBUNDLE" sandbox \
		--workspace "$ws" --policy "$p" \
		--description "$TMP/taken.json" -- ./attack fork-bomb) \
		>"$TMP/out" 2>"$TMP/err"
	set -e
	for name in $taken; do
		rmdir "$dir/$name"
	done
	expect_eq cgroup1 "$(jq -r .limits.processes.via "$TMP/taken.json")" \
		"the limit's means beside a taken name"
	expect_grep '^blocked: fork failed after [0-9]* processes' "$TMP/out"
fi

# Without a cgroup, a process limit above the caller's hard RLIMIT_NPROC
# cannot be set: the error names the key, the value and the hard limit.
hard=$(as_user prlimit --nproc --output HARD --noheadings)
if [ "$hard" != unlimited ]; then
	over=$((hard + 1))
	p=$(policy over "{\"version\": 1, \"limits\": {\"processes\": $over}}")
	expect_status 125 sandbox user --policy "$p" -- true
	expect_grep "^runbundle: cannot set the limit: \
'limits.processes = $over': " "$TMP/err"
	expect_grep "^hint: it is above this process's hard limit of $hard" \
		"$TMP/err"
fi

p=$(policy memory '{"version": 1, "limits": {"memory_bytes": "256M"}}')
for who in $IDENTITIES; do
	expect_status 0 sandbox "$who" --policy "$p" -- ./attack memory 1024
	expect_grep '^blocked: mmap' "$TMP/out"
done

# Files in a tmpfs are memory too, which RLIMIT_AS does not count. So
# each tmpfs that the agent writes is no larger than the memory limit.
p=$(policy tmpfs '{"version": 1, "limits": {"memory_bytes": "32M",
	"file_size_bytes": "1G"}}')
for who in $IDENTITIES; do
	for dir in /tmp '$HOME' /dev/shm; do
		expect_status 1 sandbox "$who" --policy "$p" -- sh -c \
			"head -c 48M /dev/zero >$dir/fill"
		expect_grep 'No space left on device' "$TMP/err"
	done
done

# The grandchild leaves the session and sleeps; when the timeout kills
# the tree, no process of the run may remain on the host.
p=$(policy timeout '{"version": 1, "limits": {"timeout_seconds": 1}}')
marker="sleep 7$$"
for who in $IDENTITIES; do
	expect_status 137 sandbox "$who" --policy "$p" -- sh -c \
		"setsid sh -c 'exec $marker' </dev/null >/dev/null 2>&1 &
		 exec sleep 60"
	violation "timeout_seconds: '1'"
	if pgrep -f "$marker" >/dev/null; then
		fail "$who: a daemonized grandchild survived the timeout"
	fi
done

# When runbundle itself dies, the whole tree dies with it. runbundle
# runs in the background directly (setpriv executes it), so $! is its
# own pid.
marker="sleep 8$$"
for who in $IDENTITIES; do
	ws=$(workspace "$who")
	if [ "$who" = user ] && [ "$(id -u)" -eq 0 ]; then
		setpriv --reuid="$TEST_USER" --regid="$TEST_USER" \
			--init-groups -- "$UNPRIV_RUNBUNDLE" sandbox \
			--workspace "$ws" -- sh -c "$marker" >/dev/null 2>&1 &
	else
		"$RUNBUNDLE" sandbox --workspace "$ws" -- sh -c "$marker" \
			>/dev/null 2>&1 &
	fi
	pid=$!
	while ! pgrep -f "^$marker\$" >/dev/null; do sleep 0.05; done
	kill -KILL $pid
	wait $pid 2>/dev/null || true
	n=0
	while pgrep -f "^$marker\$" >/dev/null && [ $n -lt 100 ]; do
		sleep 0.05
		n=$((n + 1))
	done
	if pgrep -f "^$marker\$" >/dev/null; then
		fail "$who: the sandbox outlived runbundle"
	fi
done
