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

# Long lines stay whole in a file or a pipe, for grep, and are cut at 80
# columns only on a terminal.
long=$(printf 'x%.0s' $(seq 1 300))
expect_status 0 "$RUNBUNDLE" record -o "$TMP/long.rb" -- sh -c "echo $long"
expect_status 0 "$RUNBUNDLE" log --kind exec "$TMP/long.rb"
expect_grep "sh -c 'echo $long'" "$TMP/out"
expect_status 0 "$RUNBUNDLE" inspect "$TMP/long.rb"
expect_grep "^command  *sh -c 'echo $long'$" "$TMP/out"
if command -v script >/dev/null; then
	script -qfec "'$RUNBUNDLE' log --kind exec '$TMP/long.rb'" \
		"$TMP/tty.log" >/dev/null </dev/null
	# script(1) writes a header and a footer line of its own.
	tr -d '\r' <"$TMP/tty.log" >"$TMP/tty.txt"
	awk '/^Script (started|done) / { next } length > 80 { bad = 1 }
		END { exit bad }' "$TMP/tty.txt" ||
		fail "log cut no line on a terminal"
	expect_grep "sh -c 'echo xxx.*\.\.\.$" "$TMP/tty.txt"
fi
