#!/bin/sh
# runbundle log rejects what it cannot select by: an event kind that no
# bundle has (a misspelt --kind would otherwise look like "no such
# events") and a --process number out of a pid's range.
. "$TESTS_DIR/lib.sh"

mkdir "$TMP/ws"
cd "$TMP/ws"
expect_status 0 "$RUNBUNDLE" record -o "$TMP/run.rb" -- sh -c 'echo hi'
expect_status 0 "$RUNBUNDLE" log --kind exec --kind output "$TMP/run.rb"
expect_grep "echo hi" "$TMP/out"

for kind in abc '' Exec 'exec '; do
	expect_status 2 "$RUNBUNDLE" log --kind "$kind" "$TMP/run.rb"
	expect_grep "unknown event kind: '$kind': expected one of record," \
		"$TMP/err"
	expect_grep "exchange, divergence, output, violation" "$TMP/err"
done

for pid in 99999999999999999999 18446744073709551617 2147483648 -1 \
	' 1' +1 1x ''; do
	expect_status 2 "$RUNBUNDLE" log --process "$pid" "$TMP/run.rb"
	expect_grep "invalid pid: '$pid': expected a number from 0 to " \
		"$TMP/err"
done

# The largest pid is accepted, and no event has it.
expect_status 0 "$RUNBUNDLE" log --process 2147483647 "$TMP/run.rb"
expect_eq "" "$(cat "$TMP/out")" "the events of pid 2147483647"
