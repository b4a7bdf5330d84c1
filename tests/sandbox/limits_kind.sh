#!/bin/sh
# The description says how the process and memory limits were applied:
# a delegated cgroup v2 when one is writable, else a cgroup v1 pids
# child for the process limit, else rlimits. The expectation is worked
# out here from /proc/self/cgroup and the cgroup files, independently
# of limits.c, for root and for the unprivileged user.
. "$TESTS_DIR/lib.sh"
ATTACK=/bin/true
. "$TESTS_DIR/sandbox/escape_lib.sh"

limits=$(policy limits '{"version": 1, "limits": {"processes": 64,
	"memory_bytes": "1G"}}')

# writable WHO PATH: PATH is writable by WHO.
writable() {
	if [ "$1" = user ]; then
		as_user test -w "$2"
	else
		test -w "$2"
	fi
}

# v2_delegated WHO MOUNT: WHO's cgroup v2 under MOUNT enables pids and
# memory for its children and WHO may create one.
v2_delegated() {
	own=$(sed -n 's/^0:://p' /proc/self/cgroup)
	[ -n "$own" ] || return 1
	dir=$2${own%/}
	control=$(cat "$dir/cgroup.subtree_control" 2>/dev/null) || return 1
	case $control in *pids*) ;; *) return 1 ;; esac
	case $control in *memory*) ;; *) return 1 ;; esac
	writable "$1" "$dir"
}

# expected WHO: the "via" of limits.processes and limits.memory_bytes.
expected() {
	if v2_delegated "$1" /sys/fs/cgroup/unified ||
	   v2_delegated "$1" /sys/fs/cgroup; then
		echo "cgroup2 cgroup2"
		return
	fi
	memory="rlimit (address space, per process)"
	pids=$(sed -n 's/^[0-9]*:pids:\(.*\)$/\1/p' /proc/self/cgroup)
	if [ -n "$pids" ] &&
	   writable "$1" "/sys/fs/cgroup/pids${pids%/}"; then
		echo "cgroup1 $memory"
	elif [ "$1" = root ]; then
		echo "rlimit (not enforced for root) $memory"
	else
		echo "rlimit $memory"
	fi
}

for who in $IDENTITIES; do
	ws=$(workspace "$who")
	expect_status 0 sandbox "$who" --policy "$limits" \
		--description "$ws/desc.json" -- true
	got=$(jq -r '"\(.limits.processes.via) \(.limits.memory_bytes.via)"' \
		"$ws/desc.json")
	expect_eq "$(expected "$who")" "$got" "$who: how the limits apply"
	echo "$who: $got"
done

# A runbundle killed with SIGKILL leaves its empty cgroup behind. The
# next run with the same pid must still get a cgroup, not rlimits: the
# shell creates the leftover under its own pid and then becomes
# runbundle with exec.
if [ "$(id -u)" -eq 0 ]; then
	pids=$(sed -n 's/^[0-9]*:pids:\(.*\)$/\1/p' /proc/self/cgroup)
	own=$(sed -n 's/^0:://p' /proc/self/cgroup)
	case $(expected root) in
	cgroup2*)
		parent=/sys/fs/cgroup/unified${own%/}
		v2_delegated root /sys/fs/cgroup/unified ||
			parent=/sys/fs/cgroup${own%/}
		;;
	cgroup1*) parent=/sys/fs/cgroup/pids${pids%/} ;;
	*) parent= ;;
	esac
	if [ -n "$parent" ]; then
		ws=$(workspace root)
		expect_status 0 sh -c 'echo $$ >"$2/pid" &&
			mkdir "$1/runbundle-$$" && cd "$2" &&
			exec "$3" sandbox --workspace "$2" --policy "$4" \
			--description "$2/desc.json" -- true' sh "$parent" \
			"$ws" "$RUNBUNDLE" "$limits"
		got=$(jq -r '"\(.limits.processes.via) " +
			"\(.limits.memory_bytes.via)"' "$ws/desc.json")
		expect_eq "$(expected root)" "$got" \
			"root: the limits after a leftover cgroup"
		# Another test's cleanup may have removed the leftover first,
		# since its process is gone (remove_stale_cgroups in lib.sh).
		left=$parent/runbundle-$(cat "$ws/pid")
		rmdir "$left" 2>/dev/null || [ ! -d "$left" ] ||
			fail "cannot remove the leftover cgroup '$left'"
		echo "root, leftover cgroup: $got"
	fi
fi

# The description gives each limit as the exact integer that was set.
# As a double, a byte count above 2^53 would be rounded, and cJSON
# prints 2^53 - 1 with 15 digits, which reads back as 2^53 - 2.
big=$(policy big '{"version": 1, "limits": {
	"timeout_seconds": 9007199254740991, "memory_bytes": "8000T",
	"file_size_bytes": "8388607T"}}')
for who in $IDENTITIES; do
	ws=$(workspace "$who")
	expect_status 0 sandbox "$who" --policy "$big" \
		--description "$ws/big.json" -- true
	tr -d ' \t\n' <"$ws/big.json" >"$TMP/big.txt"
	for limit in timeout_seconds:9007199254740991 \
		     memory_bytes:8796093022208000 \
		     file_size_bytes:9223370937343148032; do
		expect_grep "\"${limit%%:*}\":{\"value\":${limit#*:}," \
			"$TMP/big.txt"
	done
done
