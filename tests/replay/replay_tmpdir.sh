#!/bin/sh
# TMPDIR is where a replay rebuilds the workspace. When the replay's
# directory cannot be created there, the error names TMPDIR as the user
# set it, with the fix, for a single replay and for --repeat.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"

new_workspace "$TMP/ws" 'echo one'
record_in "$TMP/ws" "$TMP/run.rb"

for option in "" "--repeat 2"; do
	# $option is empty or two words.
	# shellcheck disable=SC2086
	expect_status 3 env TMPDIR="$TMP/missing" "$RUNBUNDLE" replay $option \
		"$TMP/run.rb"
	expect_grep "^runbundle: cannot create the replay.* directory in \
TMPDIR: '$TMP/missing': No such file or directory$" "$TMP/err"
	expect_grep "^hint: set TMPDIR to a directory that you can write" \
		"$TMP/err"
done
