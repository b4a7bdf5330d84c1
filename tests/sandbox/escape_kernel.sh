#!/bin/sh
# Escape attempts through the kernel's interfaces: terminal injection,
# foreign system call numbers, io_uring, ptrace, /proc/1/mem, the
# limits of init, nested namespaces, mount, setuid. Each must fail, and
# the seccomp denials must be reported as policy violations.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/sandbox/escape_lib.sh"

for who in $IDENTITIES; do
	blocked "$who" tiocsti
	violation "ioctl"
	blocked "$who" tiocsti-high
	violation "ioctl"

	# The filter kills an x32 system call with SIGSYS (128 + 31).
	expect_status 159 sandbox "$who" -- ./attack x32
	violation "SIGSYS"

	blocked "$who" io_uring
	violation "io_uring_setup"
	blocked "$who" vsock
	violation "socket"
	blocked "$who" ptrace-sibling
	violation "ptrace"
	blocked "$who" ptrace-parent
	violation "ptrace"
	blocked "$who" proc1-mem
	blocked "$who" init-limits
	violation "'prlimit64'"
	blocked "$who" userns
	violation "unshare"
	blocked "$who" mount
	violation "mount"

	# No controlling terminal in the sandbox, so /dev/tty cannot open.
	refused "$who" -- sh -c 'exec 3</dev/tty'
done

# Without a terminal the agent is in the caller's process group, and
# group 0 of setpriority(2) is that group on the host. The shell that
# runs runbundle prints its own priority after the run.
for who in $IDENTITIES; do
	ws=$(workspace "$who")
	run='"$0" sandbox --workspace "$1" -- ./attack group-priority \
		</dev/null; nice'
	set +e
	if [ "$who" = user ]; then
		(cd "$ws" && as_user sh -c "$run" "$UNPRIV_RUNBUNDLE" "$ws")
	else
		(cd "$ws" && sh -c "$run" "$RUNBUNDLE" "$ws")
	fi >"$TMP/out" 2>"$TMP/err"
	set -e
	expect_grep '^blocked: ' "$TMP/out"
	expect_eq "$(nice)" "$(tail -n 1 "$TMP/out")" \
		"$who: the priority of the caller's shell after the run"
	violation "'setpriority'"
done

# With nested_userns the same attack works, because the policy allows
# it: the attack program reports that as "ESCAPED" and exits 1.
p=$(policy nested '{"version": 1, "nested_userns": true}')
for who in $IDENTITIES; do
	expect_status 1 sandbox "$who" --policy "$p" -- ./attack userns
	expect_grep '^ESCAPED: created a nested user namespace' "$TMP/out"

	# Landlock still denies mounts in the nested mount namespace.
	expect_status 0 sandbox "$who" --policy "$p" -- ./attack nested-mount
	expect_grep '^blocked: mount in a nested mount namespace: Operation' \
		"$TMP/out"
done

# A setuid-root copy of the attack program gains nothing: the
# workspace is nosuid and no_new_privs is set.
if [ "$(id -u)" -eq 0 ]; then
	for who in $IDENTITIES; do
		ws=$(workspace "$who")
		cp "$ATTACK" "$ws/suid"
		chown root:root "$ws/suid"
		chmod 4755 "$ws/suid"
		expect_status 0 sandbox "$who" -- ./suid setuid
		expect_grep '^blocked: setuid' "$TMP/out"
	done
fi
