#!/bin/sh
# A replay compares what the agent printed with the recording, stream by
# stream. A difference is a note on stderr and the "output" member of
# --json, and a divergence only with --compare-output. The note names
# the stream and the first differing line, escaped and cut.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"

# agent NAME [OPTION...]: a workspace whose agent.sh is the standard
# input, and a recording of it in $TMP/NAME.rb.
agent() {
	name=$1
	shift
	mkdir -p "$TMP/$name"
	cat >"$TMP/$name/agent.sh"
	script_of 1 "$TMP/$name.script.json"
	record_in "$TMP/$name" "$TMP/$name.rb" "$@"
	chmod -R a+rX "$TMP/$name" "$TMP/$name.rb"
}

# note_of FILE: the notes on the agent's output in FILE, which also has
# what the agent printed itself.
note_of() {
	sed -n "/^note: the agent's/,/^  replayed: /p" "$1"
}

# no_control FILE WHAT: FILE has no control character but line ends.
no_control() {
	if LC_ALL=C grep -n '[[:cntrl:]]' "$1" >&2; then
		fail "$2: the text has control characters"
	fi
}

agent same <<'EOF'
echo "to stdout"
echo "to stderr" >&2
EOF
replay_json "$TMP/same.rb" --compare-output
expect_replay_status 0
expect_eq identical "$(jqr .verdict)" "verdict of the same output"
expect_eq true "$(jqr .output.stdout.identical)" "the same stdout"
expect_eq true "$(jqr .output.stderr.identical)" "the same stderr"
expect_eq 10 "$(jqr .output.stdout.recorded_bytes)" "bytes on stdout"
expect_eq 10 "$(jqr .output.stderr.replayed_bytes)" "bytes on stderr"
[ -z "$(note_of "$TMP/replay.err")" ] ||
	fail "a note on an output that did not change"

# A random number on stdout: noted, and identical all the same.
agent random <<'EOF'
echo "first line"
echo "random $(od -An -N8 -tu8 /dev/urandom | tr -d ' ')"
echo "last line"
EOF
expect_status 0 "$RUNBUNDLE" replay "$TMP/random.rb"
expect_grep '^identical: 1 step$' "$TMP/out"
note_of "$TMP/err" >"$TMP/note"
# The two numbers can start alike: the byte is where they differ.
expect_grep "^note: the agent's stdout differs from the recording's at \
line 2, byte [0-9]* .*which is no divergence without --compare-output:$" \
	"$TMP/note"
expect_grep "^  recorded: 'random [0-9]*'$" "$TMP/note"
expect_grep "^  replayed: 'random [0-9]*'$" "$TMP/note"
if grep -q stderr "$TMP/note"; then
	fail "the note names stderr, which did not change"
fi

replay_json "$TMP/random.rb"
expect_replay_status 0
expect_eq identical "$(jqr .verdict)" "verdict of a random number"
expect_eq false "$(jqr .output.compared)" "compared without the option"
expect_eq false "$(jqr .output.stdout.identical)" "a random stdout"
expect_eq 2 "$(jqr .output.stdout.line)" "the line of the random number"
expect_eq true "$(jqr .output.stderr.identical)" "stderr beside it"
[ "$(jqr .output.stdout.byte)" -ge 8 ] ||
	fail "the numbers differ before byte 8: $(jqr .output.stdout.byte)"

# With --compare-output it diverges, in the report, the exit status and
# the replay's own bundle, which gate then rejects.
set +e
"$RUNBUNDLE" replay --compare-output -o "$TMP/random-replay.rb" \
	"$TMP/random.rb" >"$TMP/out" 2>"$TMP/err"
status=$?
set -e
expect_eq 1 "$status" "exit status with --compare-output"
expect_grep "^diverged in the agent's output, in none of 1 step$" "$TMP/out"
expect_grep "^first divergence: the agent's stdout differs at line 2, \
byte [0-9]*: recorded 'random [0-9]*', replayed 'random [0-9]*'$" "$TMP/out"
expect_status 1 "$RUNBUNDLE" gate "$TMP/random-replay.rb"
expect_grep '^diverged ' "$TMP/out"

# diff compares what two runs printed the same way.
expect_status 0 "$RUNBUNDLE" diff "$TMP/random.rb" "$TMP/random-replay.rb"
expect_grep '^identical: 1 step$' "$TMP/out"
expect_grep "^note: the agent's stdout differs from the recording's at \
line 2, " "$TMP/err"
expect_status 1 "$RUNBUNDLE" diff --compare-output "$TMP/random.rb" \
	"$TMP/random-replay.rb"
expect_grep "^first divergence: the agent's stdout differs at line 2, " \
	"$TMP/out"
expect_status 0 "$RUNBUNDLE" diff --compare-output --json "$TMP/same.rb" \
	"$TMP/same.rb"
expect_eq true "$(jq .output.stdout.identical "$TMP/out")" \
	"diff of the same output"

expect_status 0 "$RUNBUNDLE" log --kind divergence "$TMP/random-replay.rb"
expect_grep " divergence  *the agent's stdout differs from the recording's$" \
	"$TMP/out"

replay_json "$TMP/random.rb" --compare-output
expect_replay_status 1
expect_eq diverged "$(jqr .verdict)" "verdict with --compare-output"
expect_eq true "$(jqr .output.compared)" "compared with the option"
expect_eq null "$(jqr .first_divergence)" "the first divergent step"

# Each of N replays prints another number.
replay_json "$TMP/random.rb" --repeat 3
expect_replay_status 0
expect_eq "3 0" "$(jqr '"\(.identical) \(.diverged)"')" "verdicts of 3"
expect_eq 3 "$(jqr .output.differed)" "replays whose output differed"
expect_eq 3 "$(jqr .output.stdout)" "replays whose stdout differed"
expect_eq 0 "$(jqr .output.stderr)" "replays whose stderr differed"
expect_status 1 "$RUNBUNDLE" replay --repeat 3 --compare-output \
	"$TMP/random.rb"
expect_grep "^3 replays: 0 identical, 0 volatile differences only, 3 \
diverged, 0 failed to run$" "$TMP/out"
expect_grep "^output differed in 3 of 3 replays (stdout in 3, stderr in \
0); first in replay 1: the agent's stdout differs at line 2" "$TMP/out"

# --step re-runs commands without the agent.
expect_status 2 "$RUNBUNDLE" replay --step 1 --compare-output \
	"$TMP/random.rb"
expect_grep "invalid option: '--compare-output'" "$TMP/err"

# Only stderr differs, and the recorded line is the last one, which has
# no newline.
agent stderr <<'EOF'
echo "same on stdout"
printf 'pid %s' "$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')" >&2
EOF
replay_json "$TMP/stderr.rb" --compare-output
expect_replay_status 1
expect_eq true "$(jqr .output.stdout.identical)" "stdout beside stderr"
expect_eq false "$(jqr .output.stderr.identical)" "a random stderr"
expect_eq 1 "$(jqr .output.stderr.line)" "the line of the random pid"
note_of "$TMP/replay.err" >"$TMP/note"
expect_grep "^note: the agent's stderr differs from the recording's at \
line 1, byte [0-9]* " "$TMP/note"
expect_grep "^  recorded: 'pid [0-9]*' (the output ends, with no \
newline)$" "$TMP/note"
if grep -q "stdout" "$TMP/note"; then
	fail "the note names stdout, which did not change"
fi

# A replay that prints less: the recording's line has no counterpart.
# Without the sandbox the agent can read a file that is gone when it is
# replayed.
: >"$TMP/flag"
agent shorter --sandbox none <<EOF
echo one
[ ! -e "$TMP/flag" ] || echo two
EOF
rm "$TMP/flag"
replay_json "$TMP/shorter.rb" --sandbox none
expect_eq 2 "$(jqr .output.stdout.line)" "the line that is missing"
expect_eq two "$(jqr .output.stdout.recorded)" "the recorded line"
expect_eq null "$(jqr .output.stdout.replayed)" "the line not printed"

# Binary bytes: escaped as \xHH in the note and the report.
agent binary <<'EOF'
n=$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')
printf 'bin\001\033]0;pwned\007\033[2J\342\200\256\\\377 %s\n' "$n"
head -c 6000 /dev/zero | tr '\0' a
printf '%s' "$n"
head -c 6000 /dev/zero | tr '\0' b
echo
EOF
set +e
"$RUNBUNDLE" replay --compare-output "$TMP/binary.rb" >"$TMP/out" \
	2>"$TMP/err"
status=$?
set -e
expect_eq 1 "$status" "exit status of the binary agent"
note_of "$TMP/err" >"$TMP/note"
no_control "$TMP/note" "the note on binary output"
no_control "$TMP/out" "the report on binary output"
# The quote keeps the line's start only as far as it leaves room for
# the difference.
expect_grep "^  recorded: '\\.\\.\\.]0;pwned\\\\x07\\\\x1b\\[2J\
\\\\xe2\\\\x80\\\\xae\\\\\\\\\\\\xff [0-9]*'$" "$TMP/note"

# A long line is cut around the difference, in JSON as in the note.
agent long <<'EOF'
n=$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')
head -c 6000 /dev/zero | tr '\0' a
printf '%s' "$n"
head -c 6000 /dev/zero | tr '\0' b
echo
EOF
replay_json "$TMP/long.rb"
expect_replay_status 0
recorded=$(jqr .output.stdout.recorded)
case $recorded in
...a*b...) ;;
*) fail "the long line is not cut around the difference: $recorded" ;;
esac
[ "${#recorded}" -le 110 ] ||
	fail "the long line is quoted with ${#recorded} characters"
[ "$(jqr .output.stdout.recorded_bytes)" -gt 12000 ] ||
	fail "the long line's bytes are not all counted"

# An unprivileged user replays root's recording the same way.
if [ "$(id -u)" -eq 0 ]; then
	unpriv_setup
	set +e
	as_user "$UNPRIV_RUNBUNDLE" replay --json --compare-output \
		"$TMP/random.rb" >"$TMP/json" 2>"$TMP/replay.err"
	status=$?
	set -e
	expect_replay_status 1
	expect_eq diverged "$(jqr .verdict)" "a user's replay, random"
	expect_eq 2 "$(jqr .output.stdout.line)" "a user's random line"
	set +e
	as_user "$UNPRIV_RUNBUNDLE" replay --json --compare-output \
		"$TMP/same.rb" >"$TMP/json" 2>"$TMP/replay.err"
	status=$?
	set -e
	expect_replay_status 0
	expect_eq identical "$(jqr .verdict)" "a user's replay, the same"
	expect_eq true "$(jqr .output.stdout.identical)" "a user's stdout"
	expect_eq true "$(jqr .output.stderr.identical)" "a user's stderr"
fi
