#!/bin/sh
# A replay whose TMPDIR fills up while it rebuilds the workspace: the
# error names the full disk, the hint names TMPDIR, and the replay's
# directory is removed. The disk is a small tmpfs in a private mount
# namespace.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"

new_workspace "$TMP/ws" 'true'
head -c 3000000 /dev/urandom >"$TMP/ws/big"
record_in "$TMP/ws" "$TMP/run.rb"
on_small_fs '
	TMPDIR="$1/small-fs" "$2" replay "$1/run.rb" >/dev/null 2>"$1/err"
	status=$?
	ls -A "$1/small-fs" >"$1/left"
	exit $status' "$RUNBUNDLE"
expect_eq 3 "$status" "exit status of a replay on a full TMPDIR"
expect_grep "^runbundle: cannot rebuild the workspace: \
'$TMP/small-fs/runbundle-replay-[^/]*/workspace': .*'big': \
No space left on device" "$TMP/err"
expect_grep "^hint: free space on the file system of \
'$TMP/small-fs/runbundle-replay-[^/]*/workspace', or set TMPDIR to a \
directory on another one" "$TMP/err"
expect_eq '' "$(cat "$TMP/left")" "files left in TMPDIR"
