#!/bin/sh
# A replay whose request matched no recording stores a divergence event
# in its own bundle, so gate rejects that bundle without the original,
# and passes the bundle of an identical replay.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"

new_workspace "$TMP/same" 'echo steady'
record_in "$TMP/same" "$TMP/same.rb"
replay_json "$TMP/same.rb" --trust-policy -o "$TMP/same-replay.rb"
expect_replay_status 0
expect_status 0 "$RUNBUNDLE" gate "$TMP/same-replay.rb"

# Random lowercase letters: no normalizer takes them for an id, a time
# or a path, so the request of every replay differs from the recording.
new_workspace "$TMP/random" \
	'head -c 64 /dev/urandom | base64 | tr -dc g-z | head -c 12'
record_in "$TMP/random" "$TMP/random.rb"
replay_json "$TMP/random.rb" --trust-policy -o "$TMP/random-replay.rb"
expect_replay_status 1
expect_status 1 "$RUNBUNDLE" gate "$TMP/random-replay.rb"
expect_grep '^diverged ' "$TMP/out"
expect_status 0 "$RUNBUNDLE" gate "$TMP/random.rb"

# Divergences that the requests do not show are stored too, each with
# its step, so gate rejects them: a command whose exit status differs
# and whose output the agent never sends, and a file that differs.
flag=$TMP/tools/flag
mkdir "$TMP/tools"
touch "$flag"
jq -n --arg tools "$TMP/tools" '{version: 1, filesystem: {read_only:
	["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc",
	$tools]}}' \
	>"$TMP/policy.json"
new_workspace "$TMP/quiet" 'echo start' "/usr/bin/test -e $flag || true" \
	'date +%s%N >stamp.txt' 'true'
record_in "$TMP/quiet" "$TMP/quiet.rb" --policy "$TMP/policy.json"
rm "$flag"
replay_json "$TMP/quiet.rb" --trust-policy -o "$TMP/quiet-replay.rb"
expect_replay_status 1
expect_eq "2 0" "$(jqr '.first_divergence |
	"\(.step) \(.request.differences | length)"')" \
	"a divergence without a request difference"
expect_status 1 "$RUNBUNDLE" gate "$TMP/quiet-replay.rb"
expect_grep '^diverged ' "$TMP/out"
expect_status 0 "$RUNBUNDLE" gate "$TMP/quiet.rb"

# The events name the steps and carry the evidence.
"$RUNBUNDLE" log --json "$TMP/quiet-replay.rb" >"$TMP/log.json" ||
	fail "cannot read the replay's log"
jq -c '[.. | objects | select(.kind? == "divergence") | .data |
	select(.source == "comparison") | .step]' "$TMP/log.json" \
	>"$TMP/steps.json"
expect_eq "[2,3,4,5]" "$(cat "$TMP/steps.json")" \
	"the steps stored as divergences"
n=$(jq '[.. | objects | select(.kind? == "divergence")] | length' \
	"$TMP/log.json")
expect_eq 4 "$n" "divergence events: none from the gateway"
seq=$(jq '.. | objects | select(.kind? == "divergence") |
	select(.data.step == 2) | .seq' "$TMP/log.json")
"$RUNBUNDLE" show "$TMP/quiet-replay.rb" "$seq" >"$TMP/event" ||
	fail "cannot show divergence event $seq"
expect_grep "/usr/bin/test -e $flag" "$TMP/event"
expect_grep '"exit 1"' "$TMP/event"
"$RUNBUNDLE" verify "$TMP/quiet-replay.rb" >/dev/null ||
	fail "the replay's bundle with its divergences does not verify"

# The gateway's own event for the request that matched no recording
# names its step too.
"$RUNBUNDLE" log --json "$TMP/random-replay.rb" >"$TMP/log.json" ||
	fail "cannot read the random replay's log"
expect_eq "[1]" "$(jq -c '[.. | objects | select(.kind? == "divergence") |
	.data | select(.source == null) | .step]' "$TMP/log.json")" \
	"the step of the gateway's divergence"

# The text log describes each kind of divergence in a line.
expect_status 0 "$RUNBUNDLE" log --kind divergence "$TMP/random-replay.rb"
expect_grep ' divergence  *request 1: POST /.* matched no recording$' \
	"$TMP/out"
expect_status 0 "$RUNBUNDLE" log --kind divergence "$TMP/quiet-replay.rb"
expect_grep ' divergence  *step 2 diverged, first$' "$TMP/out"
expect_grep ' divergence  *step 4 diverged$' "$TMP/out"
