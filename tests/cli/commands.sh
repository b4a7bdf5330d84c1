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

# Help among other arguments, where an option may stand. After "--" it
# is the agent's argument, and as an option's value it is that value.
expect_status 0 "$RUNBUNDLE" record -o "$TMP/none.rb" --help
expect_grep '^usage: runbundle record' "$TMP/out"
test ! -e "$TMP/none.rb" || fail "record --help created its bundle"
expect_status 0 "$RUNBUNDLE" diff a.rb b.rb -h
expect_grep '^usage: runbundle diff' "$TMP/out"
expect_status 0 "$RUNBUNDLE" replay --json x.rb --help
expect_grep '^usage: runbundle replay' "$TMP/out"
expect_status 0 "$RUNBUNDLE" log --kind exec x.rb --help
expect_grep '^usage: runbundle log' "$TMP/out"
expect_status 0 "$RUNBUNDLE" trace -o "$TMP/tree.json" -- \
	sh -c 'echo "arg $1"' sh --help
expect_grep '^arg --help$' "$TMP/out"
expect_status 2 "$RUNBUNDLE" trace -o --help
expect_grep '^runbundle: no command to trace' "$TMP/err"

expect_status 2 "$RUNBUNDLE" no-such-command
expect_grep "^runbundle: unknown command: 'no-such-command'$" "$TMP/err"
expect_grep "^hint: run 'runbundle help'" "$TMP/err"

expect_status 2 "$RUNBUNDLE"
expect_grep '^usage: runbundle' "$TMP/err"

# A control character in an echoed value must not reach the terminal.
expect_status 2 "$RUNBUNDLE" "$(printf 'bad\033]0;x')"
expect_grep "^runbundle: unknown command: 'bad?]0;x'$" "$TMP/err"
