#!/bin/sh
# limits.cpu_seconds and limits.file_size_bytes end a process with
# SIGXCPU and SIGXFSZ (SIGKILL for a process that ignores SIGXCPU), and
# that end is a limit violation: of the command in runbundle sandbox, as
# root and as the unprivileged user, and of each process in runbundle
# record.
. "$TESTS_DIR/lib.sh"

unpriv_setup
unpriv_workdir
chmod 755 "$TMP"
cat >"$work/policy.json" <<'EOF2'
{"version": 1, "limits": {"cpu_seconds": 1, "file_size_bytes": "1M"}}
EOF2
mkdir "$TMP/ws" "$work/ws"
[ "$(id -u)" -ne 0 ] || chown "$TEST_USER" "$work/ws"

# check WHO WORKSPACE RUNBUNDLE...: the limits through runbundle sandbox.
check() {
	who=$1
	ws=$2
	shift 2
	# The soft limit is the policy's, the hard one a second above it.
	expect_status 0 "$@" sandbox --policy "$work/policy.json" \
		--workspace "$ws" -- sh -c 'ulimit -St; ulimit -Ht'
	expect_eq "1 2" "$(tr '\n' ' ' <"$TMP/out" | sed 's/ $//')" \
		"$who: the soft and hard CPU limits"

	expect_status 152 "$@" sandbox --policy "$work/policy.json" \
		--workspace "$ws" -- sh -c 'while :; do :; done'
	expect_grep "^runbundle: policy violation: cpu_seconds: '1': the \
command used its CPU time and was killed by SIGXCPU\$" "$TMP/err"

	# A command that ignores SIGXCPU gets the hard limit's SIGKILL,
	# which still names the limit.
	expect_status 137 "$@" sandbox --policy "$work/policy.json" \
		--workspace "$ws" -- sh -c 'trap "" XCPU; while :; do :; done'
	expect_grep "^runbundle: policy violation: cpu_seconds: '1': the \
command used its CPU time and was killed by SIGKILL\$" "$TMP/err"

	expect_status 153 "$@" sandbox --policy "$work/policy.json" \
		--workspace "$ws" -- \
		sh -c 'exec head -c 2000000 /dev/zero >"$1/big"' sh "$ws"
	expect_grep "^runbundle: policy violation: file_size_bytes: \
'1048576': the command wrote past it and was killed by SIGXFSZ\$" \
		"$TMP/err"
}

check "$(id -un)" "$TMP/ws" "$RUNBUNDLE"
if [ "$(id -u)" -eq 0 ]; then
	check "$TEST_USER" "$work/ws" as_user "$UNPRIV_RUNBUNDLE"
fi

# record reports the processes below the command as well, also one that
# ignores SIGXCPU until the hard limit's SIGKILL. The shell goes on after
# each, so the run ends with status 0 and three violations.
cd "$TMP/ws"
expect_status 0 "$RUNBUNDLE" record --policy "$work/policy.json" \
	-o "$TMP/run.rb" -- sh -c '(while :; do :; done)
head -c 2000000 /dev/zero >big
sh -c "trap \"\" XCPU; while :; do :; done"; exit 0'
expect_grep "^summary: .*, 3 policy violations\$" "$TMP/err"
expect_status 0 "$RUNBUNDLE" log "$TMP/run.rb"
expect_grep "violation  *limits.cpu_seconds (1) reached: process \[1\] \
killed by SIGXCPU\$" "$TMP/out"
expect_grep "violation  *limits.file_size_bytes (1048576) reached: \
process \[2\] killed by SIGXFSZ\$" "$TMP/out"
expect_grep "violation  *limits.cpu_seconds (1) reached: process \[3\] \
killed by SIGKILL\$" "$TMP/out"
exit 0
