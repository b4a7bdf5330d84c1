#!/bin/sh
# A signal during a replay stops it without a verdict: a single replay
# prints "interrupted" at the step it had reached and exits 128 + the
# signal; a batch stops starting replays, stops the running ones, counts
# them as cut short (neither identical nor diverged) and exits the same
# way. After its first request the agent waits while the flag file
# exists: the flag is made after recording, so only the replays wait,
# and the test signals them once the marker in their workspace shows
# they are waiting. The agent becomes the waiting process (exec), so the
# signal that runbundle passes on ends it at once.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"
command -v setsid >/dev/null || skip "setsid is missing"

mkdir "$TMP/flags" "$TMP/ws"
cat >"$TMP/policy.json" <<JSON
{"version": 1, "filesystem": {"read_only": ["/usr", "/bin", "/sbin",
	"/lib", "/lib64", "/etc", "$TMP/flags"]}}
JSON
cat >"$TMP/ws/agent.sh" <<AGENT
ask() {
	printf '{"model":"m","messages":[{"role":"user","content":"%s"}]}' \\
		"\$1" |
		curl -sS --fail-with-body -X POST \\
			-H 'Content-Type: application/json' --data-binary @- \\
			"\$OPENAI_BASE_URL/chat/completions" >/dev/null
}
ask one
if [ -e "$TMP/flags/slow" ]; then touch started; exec sleep 60; fi
ask two
ask three
AGENT
script_of 3 "$TMP/ws.script.json"
record_in "$TMP/ws" "$TMP/run.rb" --policy "$TMP/policy.json"
: >"$TMP/flags/slow"

# wait_started N: wait until N replays are in their waiting step.
wait_started() {
	tries=0
	while [ "$(ls "$TMPDIR"/runbundle-replay-*/workspace/started \
		2>/dev/null | wc -l)" -lt "$1" ]; do
		tries=$((tries + 1))
		[ "$tries" -le 1200 ] || fail "no replay reached step 2"
		sleep 0.05
	done
}

# start_replay OPTION...: runbundle replay in a session of its own, as a
# terminal's foreground job would be; its pid (and process group) in
# $pid. This shell starts a background job with SIGINT ignored, which
# runbundle would keep, so env gives it the default action back.
start_replay() {
	env --default-signal=INT setsid "$RUNBUNDLE" replay --trust-policy \
		"$@" \
		>"$TMP/out" 2>"$TMP/err" &
	pid=$!
}

finish_replay() {
	wait_status "$pid"
}

# One replay, SIGINT to its process group (Ctrl-C).
start_replay -o "$TMP/one.rb" "$TMP/run.rb"
wait_started 1
env kill -s INT -- "-$pid"
finish_replay
expect_eq 130 "$status" "exit status of an interrupted replay"
expect_grep '^interrupted by SIGINT at step 2 of 4: no verdict' "$TMP/out"
if grep -q 'diverged\|first divergence' "$TMP/out"; then
	cat "$TMP/out" >&2
	fail "an interrupted replay was reported as diverged"
fi
# Its bundle records that it was not compared, so gate rejects it.
"$RUNBUNDLE" verify "$TMP/one.rb" >/dev/null ||
	fail "the interrupted replay's bundle is not finalized"
expect_status 1 "$RUNBUNDLE" gate "$TMP/one.rb"
rm -rf "$TMPDIR"/runbundle-replay-*

# The same with --json and SIGTERM.
start_replay --json "$TMP/run.rb"
wait_started 1
env kill -s TERM -- "-$pid"
finish_replay
cp "$TMP/out" "$TMP/json"
expect_eq 143 "$status" "exit status after SIGTERM"
expect_eq "interrupted SIGTERM 2 4" \
	"$(jqr '"\(.verdict) \(.signal) \(.step) \(.steps)"')" "the JSON report"
rm -rf "$TMPDIR"/runbundle-replay-*

# A batch: two replays run, two wait to start. Ctrl-C stops it all.
start_replay --json --repeat 4 -j 2 -o "$TMP/batch" "$TMP/run.rb"
wait_started 2
env kill -s INT -- "-$pid"
finish_replay
cp "$TMP/out" "$TMP/json"
expect_eq 130 "$status" "exit status of an interrupted batch"
expect_eq "SIGINT 0 2 2" "$(jqr '.interrupted |
	"\(.signal) \(.finished) \(.cut_short) \(.not_started)"')" \
	"what the interrupt left"
expect_eq "0 0 0 0" \
	"$(jqr '"\(.identical) \(.diverged) \(.failed) \(.replays)"')" \
	"replays counted as results"
[ ! -e "$TMP/batch/replay-3.log" ] || fail "replay 3 was started"
rm -rf "$TMPDIR"/runbundle-replay-*

# SIGINT to runbundle alone, as kill(1) sends it, stops a batch too.
start_replay --repeat 3 "$TMP/run.rb"
wait_started 1
kill -INT "$pid"
finish_replay
expect_eq 130 "$status" "exit status after SIGINT to the parent"
expect_grep "^interrupted by SIGINT after 0 of 3 replays: \
1 cut short, 2 not started" "$TMP/out"
expect_grep '^0 replays: 0 identical, 0 volatile differences only, 0 diverged' \
	"$TMP/out"
rm -rf "$TMPDIR"/runbundle-replay-*

# SIGKILL of the batch: every replay and its agent die with it.
start_replay --repeat 2 -j 2 -o "$TMP/killed" "$TMP/run.rb"
wait_started 2
kill -KILL "$pid"
finish_replay
expect_eq 137 "$status" "exit status after SIGKILL"
tries=0
while :; do
	left=
	for proc in /proc/[0-9]*; do
		case $(readlink "$proc/cwd" 2>/dev/null) in
		"$TMPDIR"/runbundle-replay-*) left="$left ${proc#/proc/}" ;;
		esac
	done
	[ -n "$left" ] || break
	tries=$((tries + 1))
	[ "$tries" -le 100 ] || fail "replays outlived the batch:$left"
	sleep 0.05
done
rm -rf "$TMPDIR"/runbundle-replay-*
