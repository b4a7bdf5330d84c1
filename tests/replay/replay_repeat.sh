#!/bin/sh
# --repeat on a run with a command that fails with probability 1/2,
# from a seed drawn at each run: every replay that diverges does so at
# that command's step, identical explanations are grouped, and the
# command's exit statuses add up to the number of replays.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"

n=20
# The seed is read inside awk, so that its argv is the same each time.
# It stays below 2^31: mawk's srand() takes every larger seed as the
# same one, so the command failed about 3 times in 4.
flaky='awk "BEGIN { \"od -An -N2 -tu2 /dev/urandom\" | getline s; '
flaky=$flaky'srand(s + 0); exit (rand() < 0.5) }"'
new_workspace "$TMP/ws" 'echo start' "$flaky" 'echo done'
record_in "$TMP/ws" "$TMP/run.rb"

replay_json "$TMP/run.rb" --repeat $n -j 2
expect_eq "$n 0" "$(jqr '"\(.replays) \(.failed)"')" "replays and failures"
expect_eq $n "$(jqr '.identical + .diverged')" "identical plus diverged"
diverged=$(jqr .diverged)
if [ "$diverged" -gt 0 ]; then
	expect_replay_status 1
else
	expect_replay_status 0
fi

# Every divergence is at step 2, at the awk command.
expect_eq "$diverged" "$(jqr '[.steps[] | select(.step == 2) | .diverged] |
	add // 0')" "divergences at step 2"
expect_eq 0 "$(jqr '[.steps[] | select(.step != 2)] | length')" \
	"divergences elsewhere"
jqr '.steps[].how[].explanation' >"$TMP/how"
[ "$diverged" -eq 0 ] || expect_grep '^step 2: ' "$TMP/how"
[ "$diverged" -eq 0 ] || expect_grep '`awk BEGIN' "$TMP/how"
# The path is the awk command's message, and the explanation ties the
# two together.
why='^step 2: the request differs at messages\[2\]\.content, which is'
why="$why probably the output of \`sh -c awk \"BEGIN"
[ "$diverged" -eq 0 ] || expect_grep "$why" "$TMP/how"
# One explanation for all of them, since the diff is the same.
expect_eq "$([ "$diverged" -gt 0 ] && echo 1 || echo 0)" \
	"$(jqr '[.steps[].how[]] | length')" "groups of explanations"

# The awk process's statuses add up; with 20 draws of 1/2, both
# statuses appear (each is missing with probability 2^-20).
jqr '.commands[] | select(.command | startswith("awk")) |
	.statuses[] | "\(.status) \(.count)"' | sort >"$TMP/statuses"
expect_eq $n "$(awk '{ s += $3 } END { print s }' "$TMP/statuses")" \
	"statuses counted"
expect_eq "exit 0
exit 1" "$(cut -d' ' -f1-2 "$TMP/statuses")" "both statuses seen"

# The text report says the same in words.
set +e
"$RUNBUNDLE" replay --repeat 4 "$TMP/run.rb" >"$TMP/text" 2>"$TMP/err"
set -e
expect_grep '^4 replays: ' "$TMP/text"
