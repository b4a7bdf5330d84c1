#!/bin/sh
# A full disk while recording: a clear error, the agent stopped, exit
# status 125, and the bundle consistent up to its last committed event.
# The note on the -wal that the full disk keeps calls it incomplete too.
# The disk is a small tmpfs mounted in a private mount namespace, which
# needs root.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/record/record_lib.sh"

[ "$(id -u)" -eq 0 ] || skip "mounting a tmpfs needs root"
mkdir "$TMP/disk" "$TMP/ws"
unshare -m true 2>/dev/null || skip "cannot create a mount namespace"

cd "$TMP/ws"
# The agent writes incompressible output until it is stopped.
set +e
unshare -m --propagation private sh -c '
	mount -t tmpfs -o size=1m tmpfs "$1" || exit 77
	shift
	"$@"
	status=$?
	cp "$0"/full.rb* "$0/../" 2>/dev/null
	exit $status' "$TMP/disk" "$TMP/disk" \
	"$RB" record -o "$TMP/disk/full.rb" -- \
	sh -c 'while :; do head -c 65536 /dev/urandom; done' \
	>/dev/null 2>"$TMP/err"
status=$?
set -e
[ "$status" -ne 77 ] || skip "cannot mount a tmpfs"
[ "$status" -eq 125 ] || {
	cat "$TMP/err" >&2
	fail "record on a full disk: expected exit status 125, got $status"
}
expect_grep '^runbundle: .*full' "$TMP/err"
expect_grep '^bundle: .*full.rb (incomplete: [0-9]* events committed)$' \
	"$TMP/err"
# The note on the kept -wal agrees with that line: the bundle is
# incomplete, not "stored" as a finished one.
expect_grep "^runbundle: warning: the bundle is incomplete, and its last \
commits stay in '$TMP/disk/full.rb-wal': .*full" "$TMP/err"
grep -q 'is stored' "$TMP/err" && fail "the note calls the bundle stored"

# The copy of the bundle, its WAL included, verifies up to its last
# committed event.
[ -f "$TMP/full.rb" ] || fail "the bundle was not kept"
expect_status 0 "$RB" verify --allow-incomplete "$TMP/full.rb"
expect_grep 'events 1 to [0-9]* of [0-9]* are intact' "$TMP/out"
exit 0
