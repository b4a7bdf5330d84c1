#!/bin/sh
# --repeat groups the first divergences that differ only in what each
# replay alone has. Here each replay makes a file of another random
# name, so the explanations name other files. One group counts them
# all, quoted from its first replay.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"

n=6
new_workspace "$TMP/ws" 'mktemp -p . tmp.XXXXXX' 'echo done'
record_in "$TMP/ws" "$TMP/run.rb"

set +e
"$RUNBUNDLE" replay --repeat $n -j 2 --on-mismatch closest "$TMP/run.rb" \
	>"$TMP/text" 2>"$TMP/err"
status=$?
set -e
expect_replay_status 1
expect_grep "^step 1 diverged in $n of $n replays:" "$TMP/text"
expect_eq 1 "$(grep -c '^  [0-9]* times*: ' "$TMP/text")" \
	"groups of explanations"
expect_grep "^  $n times: step 1: .* (as in replay 1; 5 of the 6 read" \
	"$TMP/text"

replay_json "$TMP/run.rb" --repeat $n -j 2 --on-mismatch closest
expect_eq "1 $n 0" "$(jqr '.steps[] | "\(.step) \(.diverged) \(.unlisted)"')" \
	"the step of the random file"
expect_eq "$n 1 5" "$(jqr '.steps[0].how[] |
	"\(.count) \(.replay) \(.other_values)"')" "the one group in JSON"
jqr '.steps[0].how[0].explanation' >"$TMP/how"
expect_grep '^step 1: .*(added)' "$TMP/how"
