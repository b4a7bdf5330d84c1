#!/bin/sh
# The command-line skeleton: version, help, and usage errors.
. "$TESTS_DIR/lib.sh"

expect_status 0 "$RUNBUNDLE" --version
expect_grep '^runbundle [0-9][0-9.]*$' "$TMP/out"

expect_status 0 "$RUNBUNDLE" help
for cmd in snapshot checkout verify sandbox help; do
	expect_grep "^  $cmd " "$TMP/out"
done

expect_status 0 "$RUNBUNDLE" help verify
expect_grep '^usage: runbundle verify' "$TMP/out"

expect_status 0 "$RUNBUNDLE" verify --help
expect_grep '^usage: runbundle verify' "$TMP/out"

expect_status 2 "$RUNBUNDLE" no-such-command
expect_grep "^runbundle: unknown command: 'no-such-command'$" "$TMP/err"
expect_grep "^hint: run 'runbundle help'" "$TMP/err"

expect_status 2 "$RUNBUNDLE"
expect_grep '^usage: runbundle' "$TMP/err"

# A control character in an echoed value must not reach the terminal.
expect_status 2 "$RUNBUNDLE" "$(printf 'bad\033]0;x')"
expect_grep "^runbundle: unknown command: 'bad?]0;x'$" "$TMP/err"
