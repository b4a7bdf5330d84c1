#!/bin/sh
# The sandbox makes the default read-only part .git/hooks for a run in
# a workspace without .git. Such recordings replay as identical, because
# the replay's sandbox makes the part again and the snapshots leave it
# out while it is empty. A write into it fails with EROFS in both runs.
# As ourselves, and as the test user when we are root.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"
. "$TESTS_DIR/record/record_lib.sh"
runners_setup
# The built-in parts without .git/config, which would make the whole
# of a created .git read-only, so that the agent can write beside
# .git/hooks.
printf '{"version": 1, "workspace": {"read_only": [".git/hooks"]}}\n' \
	>"$TMP/hooks.json"
chmod 644 "$TMP/hooks.json"

# record_and_replay RUNNER NAME COMMAND...: record the steps agent running
# the commands in a new workspace without .git, then replay it keeping
# the replay's bundle and workspace. The report is in $TMP/json.
record_and_replay() {
	runner=$1
	ws=$TMP/$1-$2
	rec=$TMP/$1-$2.rb
	rep=$TMP/$1-$2-replay.rb
	shift 2
	new_workspace "$ws" "$@"
	chmod a+r "$ws.script.json"
	[ "$runner" = user ] && chown -R "$TEST_USER:" "$ws"
	set +e
	(cd "$ws" && run_as "$runner" "$rb" record -o "$rec" \
		--policy "$TMP/hooks.json" \
		--model-script "$ws.script.json" -- sh ./agent.sh \
		</dev/null >"$TMP/record.out" 2>"$TMP/record.err")
	status=$?
	set -e
	[ "$status" = 0 ] || { cat "$TMP/record.err" >&2;
		fail "recording $rec exited $status"; }
	[ ! -e "$ws/.git/hooks" ] || fail "$ws/.git/hooks is left on the host"
	set +e
	run_as "$runner" "$rb" replay --json --keep -o "$rep" "$rec" \
		>"$TMP/json" 2>"$TMP/replay.err"
	status=$?
	set -e
	expect_replay_status 0
	expect_eq identical "$(jqr .verdict)" "the verdict of $rec's replay"
	expect_status 0 "$rb" diff "$rec" "$rep"
	kept=$(jqr .workspace)
	[ -d "$kept" ] || fail "the replay's workspace '$kept' is missing"
	[ ! -e "$kept/.git/hooks" ] ||
		fail "$kept/.git/hooks is left after the replay"
}

for runner in $runners; do
	rb=$RUNBUNDLE
	[ "$runner" = user ] && rb=$UNPRIV_RUNBUNDLE

	record_and_replay "$runner" nothing 'test -d .git/hooks' 'ls -A'
	[ ! -e "$kept/.git" ] || fail "$kept/.git is left after the replay"
	[ ! -e "$ws/.git" ] || fail "$ws/.git is left on the host"

	# Each run's model request has the step's output, EROFS included,
	# so an identical replay failed the same way.
	record_and_replay "$runner" hook \
		'mkdir -p .git/hooks && echo x >.git/hooks/pre-commit' 'ls -A'
	for b in "$rec" "$rep"; do
		"$RUNBUNDLE" log "$b" >"$TMP/log"
		expect_grep \
		    "violation  *write to '$ws/.git/hooks/pre-commit' denied" \
		    "$TMP/log"
		seq=$(awk '$3 == "exchange" { print $1; exit }' "$TMP/log")
		[ -n "$seq" ] || fail "'$b' has no exchange event"
		"$RUNBUNDLE" show "$b" "$seq" >"$TMP/exchange"
		expect_grep 'pre-commit: Read-only file system' \
			"$TMP/exchange"
	done
	[ ! -e "$kept/.git" ] || fail "$kept/.git is left after the replay"

	record_and_replay "$runner" config 'echo y >.git/config' 'ls -A .git'
	[ -f "$kept/.git/config" ] ||
		fail "$kept/.git/config is missing after the replay"
	[ -f "$ws/.git/config" ] || fail "$ws/.git/config is missing"

	# Step 2 starts from a snapshot that has .git but not the empty
	# .git/hooks made for the run: the replay makes it again, so .git
	# stays writable there, as in the recording.
	record_and_replay "$runner" step 'echo y >.git/config' \
		'echo z >.git/description' 'ls -A .git'
	set +e
	run_as "$runner" "$rb" replay --json --step 2 -o "$TMP/$runner-re" \
		"$rec" >"$TMP/json" 2>"$TMP/replay.err"
	status=$?
	set -e
	expect_replay_status 0
	expect_eq "1 1 0" "$(jqr '"\(.replays) \(.identical) \(.diverged)"')" \
		"the re-run of step 2 ($runner)"
done
exit 0
