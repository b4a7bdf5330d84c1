#!/bin/sh
# replay and diff print the recorded commands, paths and values with
# their control characters replaced by '?': the text report, the line
# of the first divergence and the tables of --repeat and --step. Raw,
# a bundle's author could set the terminal's title, clear the screen or
# forge a verdict line in a CI log.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"

# The output of the command goes into jq's argv, and it differs in each
# run, so that the report shows that argv.
new_workspace "$TMP/ws" "printf '\\033]0;pwned\\007\\033[2J\\033[1A\\rFAKE \
identical: 2 steps %s\\n' \
\$(head -c 64 /dev/urandom | base64 | tr -dc g-z | head -c 12)"
record_in "$TMP/ws" "$TMP/a.rb"

# check_clean NAME: $TMP/NAME has no control character but the line
# ends, and shows the recorded text with '?' in their place.
check_clean() {
	if LC_ALL=C grep -n '[[:cntrl:]]' "$TMP/$1" >&2; then
		fail "$1: the output has control characters"
	fi
	expect_grep '?\]0;pwned??\[2J?\[1A?FAKE identical' "$TMP/$1"
	if grep -q '^FAKE' "$TMP/$1"; then
		cat "$TMP/$1" >&2
		fail "$1: a recorded value starts a line"
	fi
}

set +e
"$RUNBUNDLE" replay -o "$TMP/b.rb" "$TMP/a.rb" >"$TMP/replay" 2>"$TMP/err"
status=$?
set -e
expect_eq 1 "$status" "exit status of the replay"
expect_grep '^first divergence: step 1: ' "$TMP/replay"
check_clean replay

expect_status 1 "$RUNBUNDLE" diff "$TMP/a.rb" "$TMP/b.rb"
cp "$TMP/out" "$TMP/diff"
check_clean diff

expect_status 1 "$RUNBUNDLE" replay --repeat 2 "$TMP/a.rb"
cp "$TMP/out" "$TMP/repeat"
expect_grep '^step 1 diverged in 2 of 2 replays' "$TMP/repeat"
check_clean repeat

expect_status 0 "$RUNBUNDLE" replay --step 1 "$TMP/a.rb"
cp "$TMP/out" "$TMP/step"
check_clean step

# An argument that is not UTF-8 is stored as base64. It shows with each
# such byte as \xHH, so that two that differ print apart, in text and
# in JSON.
for run in one two; do
	mkdir -p "$TMP/$run"
	extra=
	[ "$run" = two ] && extra=X
	(cd "$TMP/$run" && "$RUNBUNDLE" record -o "$TMP/$run.rb" -- sh -c \
		'/bin/echo "$(printf "arg\377$1")"' sh "$extra" \
		>/dev/null 2>&1) || fail "recording $run failed"
done
expect_status 1 "$RUNBUNDLE" diff "$TMP/one.rb" "$TMP/two.rb"
expect_grep '`/bin/echo arg\\xff` ran as `/bin/echo arg\\xffX`' "$TMP/out"
expect_status 1 "$RUNBUNDLE" diff --json "$TMP/one.rb" "$TMP/two.rb"
expect_eq '/bin/echo arg\xff /bin/echo arg\xffX' "$(jq -r '[.. | objects |
	select(.recorded? | type == "string" and startswith("/bin/echo")) |
	"\(.recorded) \(.other)"] | first' "$TMP/out")" \
	"the JSON report's commands"
expect_status 0 "$RUNBUNDLE" log "$TMP/two.rb"
expect_grep "/bin/echo 'arg\\\\xffX'" "$TMP/out"
