#!/bin/sh
# --repeat with more distinct explanations than the report lists: the
# counts that it prints still add up to the replays. A command line
# longer than an explanation quotes stays one short line in the table.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"

n=24
# Step 1 ends as recorded (exit 0) at recording, and with a random
# status from 1 to 255 in each replay once $ctl/replaying exists. The
# replays diverge there, and their statuses distinguish their
# explanations. 24 draws from 255 statuses give 16 distinct ones or
# fewer with a probability of about 7e-7.
control_dir
printf '%s\n' "[ -f $ctl/replaying ] || exit 0" \
	'exit $((1 + $(od -An -N1 -tu1 /dev/urandom) % 255))' \
	>"$ctl/status.sh"
# Fails with probability 1/2, from a seed drawn at each run, on a line
# longer than the 72 bytes that an explanation quotes. The seed stays
# below 2^31, where mawk's srand() distinguishes seeds.
flaky='awk "BEGIN { \"od -An -N2 -tu2 /dev/urandom\" | getline s; '
flaky=$flaky'srand(s + 0); exit (rand() < 0.5) }"'
new_workspace "$TMP/ws" "sh $ctl/status.sh" "$flaky"
record_in "$TMP/ws" "$TMP/run.rb" --policy "$TMP/policy.json"
touch "$ctl/replaying"

set +e
"$RUNBUNDLE" replay --repeat $n -j 2 --trust-policy --on-mismatch closest \
	"$TMP/run.rb" >"$TMP/text" 2>"$TMP/err"
status=$?
set -e
expect_replay_status 1
expect_grep "^step 1 diverged in $n of $n replays:" "$TMP/text"
expect_eq $n "$(awk '/^  [0-9]+ times?: / { s += $1 } END { print s }' \
	"$TMP/text")" "explanations counted"
expect_grep '^  [0-9]* times*: another explanation (only the first 16' \
	"$TMP/text"

# The awk command's line in the table stops where an explanation's
# quote does, and names its position.
grep '^`awk ' "$TMP/text" >"$TMP/awk" || {
	cat "$TMP/text" >&2
	fail "no line of the awk command"
}
quote='^`awk BEGIN { "od -An -N2 -tu2 /dev/urandom" | getline s; '
quote=$quote'srand(s + 0); ex\.\.\.` (step 2, process 0\.[0-9.]*): exit '
expect_grep "$quote" "$TMP/awk"

replay_json "$TMP/run.rb" --repeat $n -j 2 --trust-policy \
	--on-mismatch closest
expect_eq "1 $n true" \
	"$(jqr '.steps[] | "\(.step) \(.diverged) \(.unlisted > 0)"')" \
	"the step with its unlisted explanations"
expect_eq $n "$(jqr '([.steps[0].how[].count] | add) + .steps[0].unlisted')" \
	"explanations counted in JSON"
# The status script's commands had more than 16 statuses, and each
# command's statuses still add up to the replays.
expect_eq true "$(jqr '[.commands[].unlisted] | add > 0')" \
	"unlisted statuses"
expect_eq $n "$(jqr '[.commands[] | ([.statuses[].count] | add) +
	.unlisted] | unique | .[]')" "statuses counted in JSON"
