#!/bin/sh
# A file whose read(2) fails becomes an error entry, and the rest of the
# snapshot is stored. The failing file is /proc/PID/mem of a sleeping
# process, bind-mounted over a regular file in a private mount namespace.
# Reading it from offset 0 fails with EIO, because address 0 is not
# mapped.
. "$TESTS_DIR/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "bind mounts need root"
unshare -m true 2>/dev/null || skip "no mount namespace"

src=$TMP/src
mkdir -p "$src"
printf 'kept\n' >"$src/kept"
: >"$src/mem"

# The mem file of a process that has not finished exec reads as empty,
# so wait until the child runs sleep (at most 5 seconds).
# shellcheck disable=SC2016
set +e
unshare -m sh -c '
	sleep 60 &
	pid=$!
	i=0
	while [ "$(readlink "/proc/$pid/exe")" != \
		"$(readlink -f "$(command -v sleep)")" ] &&
		[ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	mount --bind "/proc/$pid/mem" "$2/mem"
	if cat "$2/mem" >/dev/null 2>&1; then
		kill "$pid"
		exit 77
	fi
	"$1" snapshot "$3" "$2"
	rc=$?
	kill "$pid"
	exit "$rc"
' sh "$RUNBUNDLE" "$src" "$TMP/b.rb" >"$TMP/out" 2>"$TMP/err"
rc=$?
set -e
[ $rc -ne 77 ] || skip "reading /proc/PID/mem did not fail here"
expect_eq 1 "$rc" "exit status of the snapshot"
expect_grep "cannot read: 'mem': Input/output error" "$TMP/err"
expect_grep '^snapshot 1 ' "$TMP/out"

expect_eq 1 "$(sqlite3 "$TMP/b.rb" "SELECT json_extract(event,
	'$.data.errors') FROM events WHERE seq = 1")" "error entries"
expect_status 0 "$RUNBUNDLE" verify --allow-incomplete "$TMP/b.rb"
expect_status 1 "$RUNBUNDLE" checkout "$TMP/b.rb" latest "$TMP/dst"
expect_grep "not checked out: 'mem': could not be read" "$TMP/err"
expect_eq kept "$(cat "$TMP/dst/kept")" "file beside the failing one"
