# lib.sh - sourced by every integration test.
#
# Provides $RUNBUNDLE (the binary under test), $TMP (a private directory
# removed at exit, readable by the unprivileged test user), and helpers
# that print what was expected and what came instead. Exit 77 to skip.
set -eu

: "${RUNBUNDLE:?RUNBUNDLE must name the runbundle binary under test}"
TEST_NAME=$(basename "$0" .sh)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/rbtest-$TEST_NAME.XXXXXX")
chmod 755 "$TMP"

# remove_stale_cgroups: remove the empty cgroups named runbundle-PID or
# runbundle-PID-N whose runbundle process is gone, as a SIGKILL leaves
# them (docs/record.md). Tests that kill runbundle leave such cgroups.
remove_stale_cgroups() {
	for dir in /sys/fs/cgroup/pids/runbundle-* \
		   /sys/fs/cgroup/*/runbundle-*; do
		[ -d "$dir" ] || continue
		pid=${dir##*/runbundle-}
		pid=${pid%%-*}
		[ -d "/proc/$pid" ] || rmdir "$dir" 2>/dev/null || true
	done
}

# A failed check exits with background jobs still running, such as a
# recording whose agent waits for a file in $TMP that never comes. Their
# command lines name $TMP, so they end here, and their sandboxes and
# tracees with them.
cleanup() {
	pkill -KILL -f "$TMP" 2>/dev/null || true
	[ "$(id -u)" -ne 0 ] || remove_stale_cgroups
	chmod -R u+rwX "$TMP" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $TEST_NAME: $*" >&2
	exit 1
}

skip() {
	echo "SKIP: $TEST_NAME: $*"
	exit 77
}

# expect_eq EXPECTED ACTUAL WHAT
expect_eq() {
	[ "$1" = "$2" ] || fail "$3: expected '$1', got '$2'"
}

# expect_status STATUS COMMAND [ARG...]: run the command with its output
# in $TMP/out and $TMP/err, and check its exit status.
expect_status() {
	want=$1
	shift
	set +e
	"$@" >"$TMP/out" 2>"$TMP/err"
	got=$?
	set -e
	if [ "$got" != "$want" ]; then
		echo "--- stdout" >&2; cat "$TMP/out" >&2
		echo "--- stderr" >&2; cat "$TMP/err" >&2
		fail "$*: expected exit status $want, got $got"
	fi
}

# wait_status PID: wait for a background job and set $status to its
# exit status, which set -e would otherwise turn into the test's own.
wait_status() {
	set +e
	wait "$1"
	status=$?
	set -e
}

# two_snapshots BUNDLE [--finalize]: snapshot $TMP/ws, a folder of one
# file 'a', into BUNDLE twice, with 'a' changed in between.
two_snapshots() {
	mkdir -p "$TMP/ws"
	echo one >"$TMP/ws/a"
	"$RUNBUNDLE" snapshot "$1" "$TMP/ws" >/dev/null
	echo two >"$TMP/ws/a"
	"$RUNBUNDLE" snapshot ${2:-} "$1" "$TMP/ws" >/dev/null
}

# wait_stopped PID WHAT: wait up to 30 s until process PID has stopped
# (state T in /proc/PID/stat), and fail with WHAT if it does not.
wait_stopped() {
	_tries=0
	until [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = T ]; do
		_tries=$((_tries + 1))
		[ $_tries -le 3000 ] || fail "$2"
		sleep 0.01
	done
}

# random_files DIR PREFIX COUNT BYTES: fill DIR with COUNT files, PREFIX1
# to PREFIX<COUNT>, of BYTES random bytes each.
random_files() {
	_i=1
	while [ "$_i" -le "$3" ]; do
		head -c "$4" /dev/urandom >"$1/$2$_i"
		_i=$((_i + 1))
	done
}

# wait_file FILE WHAT [LOG]: wait up to 60 s for FILE to exist, and
# fail with WHAT, and LOG's content when given, if it does not.
wait_file() {
	tries=0
	until [ -e "$1" ]; do
		tries=$((tries + 1))
		if [ "$tries" -gt 1200 ]; then
			[ -z "${3:-}" ] || cat "$3" >&2
			fail "$2"
		fi
		sleep 0.05
	done
}

# expect_grep PATTERN FILE: the file contains a line matching PATTERN.
expect_grep() {
	grep -q -e "$1" "$2" || {
		cat "$2" >&2
		fail "'$2' has no line matching '$1'"
	}
}

# on_small_fs SCRIPT [ARG...]: run sh -c SCRIPT, with $1 set to $TMP and
# the ARGs after it, in a private mount namespace where $TMP/small-fs is
# a tmpfs of 2 MiB, gone when the shell ends. Sets $status to the
# script's exit status, and skips the test where no tmpfs can be
# mounted (not root, no unshare).
on_small_fs() {
	[ "$(id -u)" -eq 0 ] || skip "mounting a small tmpfs needs root"
	command -v unshare >/dev/null || skip "unshare is not installed"
	mkdir -p "$TMP/small-fs"
	small_fs_script=$1
	shift
	set +e
	unshare --mount --propagation private sh -c "
		mount -t tmpfs -o size=2m tmpfs \"\$1/small-fs\" || exit 77
		$small_fs_script" sh "$TMP" "$@"
	status=$?
	set -e
	[ "$status" -ne 77 ] || skip "cannot mount a tmpfs"
}

# The unprivileged user that tests switch to when they run as root. The
# binary and its commands module are copied into $TMP, because the build
# directory may sit below a home directory that this user cannot enter.
TEST_USER=${RUNBUNDLE_TEST_USER:-rbtest}

# skip_if_sanitized BINARY WHY: skip the test when BINARY was built
# with AddressSanitizer or UBSan, saying WHY.
skip_if_sanitized() {
	if ldd "$1" | grep -q 'libasan\|libubsan'; then
		skip "$2"
	fi
}

unpriv_setup() {
	if [ "$(id -u)" -eq 0 ]; then
		if ! id "$TEST_USER" >/dev/null 2>&1; then
			useradd --system --user-group --no-create-home \
				--shell /bin/sh "$TEST_USER" 2>/dev/null ||
				id "$TEST_USER" >/dev/null
		fi
	fi
	mkdir -p "$TMP/bin"
	cp "$RUNBUNDLE" "$TMP/bin/runbundle"
	# The commands module is loaded from beside the executable.
	cp "$(dirname "$RUNBUNDLE")/runbundle-commands.so" "$TMP/bin/"
	chmod 755 "$TMP/bin" "$TMP/bin/runbundle"
	UNPRIV_RUNBUNDLE=$TMP/bin/runbundle
}

# unpriv_workdir: make $TMP/work, which the unprivileged test user owns
# when the tests run as root, and set work to it.
unpriv_workdir() {
	work=$TMP/work
	mkdir -p "$work"
	[ "$(id -u)" -ne 0 ] || chown "$TEST_USER" "$work"
}

# as_user COMMAND [ARG...]: run as the unprivileged test user when root,
# and as ourselves otherwise.
as_user() {
	if [ "$(id -u)" -eq 0 ]; then
		setpriv --reuid="$TEST_USER" --regid="$TEST_USER" \
			--init-groups -- "$@"
	else
		"$@"
	fi
}

# wait_port FILE: print the port that a server wrote to FILE, waiting
# up to 10 s.
wait_port() {
	_wait_tries=0
	while [ ! -s "$1" ]; do
		_wait_tries=$((_wait_tries + 1))
		[ "$_wait_tries" -le 200 ] || fail "no port in '$1' after 10 s"
		sleep 0.05
	done
	cat "$1"
}

# replay_json BUNDLE [OPTION...]: replay with --json into $TMP/json,
# the exit status in $status.
replay_json() {
	b=$1
	shift
	set +e
	"$RUNBUNDLE" replay --json "$@" "$b" >"$TMP/json" 2>"$TMP/replay.err"
	status=$?
	set -e
}

# jqr FILTER: one raw value of $TMP/json.
jqr() {
	jq -r "$1" "$TMP/json"
}

# deep_tree DIR LEVELS [NAME[:MODE]=TEXT...]: nested directories of
# 255-byte names below DIR, deeper than PATH_MAX, with the files NAME
# at the bottom (tests/deep_tree.py).
deep_tree() {
	/usr/bin/python3 "$TESTS_DIR/deep_tree.py" "$@"
}

# deep_path LEVELS: the path from DIR to the bottom of deep_tree.
deep_path() {
	/usr/bin/python3 -c 'import sys
print("/".join("%03d" % i + "d" * 252 for i in range(int(sys.argv[1]))))' \
		"$1"
}
