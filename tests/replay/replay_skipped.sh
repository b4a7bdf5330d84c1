#!/bin/sh
# A replay that skips a recorded request, or makes one more, sends the
# recording's later requests a step early or late. The gateway serves
# each its own recording, as for requests that came in another order,
# but the runs part where the request was skipped or added, and the
# report names that step as the first divergence.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"

# The requests come from outside the workspace, bound read-only, where
# the test changes them between record and replay.
control_dir
mkdir "$TMP/ws"
script_of 5 "$TMP/ws.script.json"
cat >"$TMP/ws/agent.py" <<EOF
import json, os, urllib.request

for text in json.load(open("$ctl/texts.json")):
    body = json.dumps({"model": "m",
                       "messages": [{"role": "user", "content": text}]})
    request = urllib.request.Request(
        os.environ["OPENAI_BASE_URL"] + "/chat/completions",
        data=body.encode(), headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request).read()
EOF
echo '["one", "two", "three", "four"]' >"$ctl/texts.json"
(cd "$TMP/ws" && "$RUNBUNDLE" record -o "$TMP/run.rb" \
	--policy "$TMP/policy.json" --model-script "$TMP/ws.script.json" \
	-- /usr/bin/python3 agent.py </dev/null >"$TMP/record.out" \
	2>"$TMP/record.err") || { cat "$TMP/record.err" >&2;
	fail "recording the agent failed"; }

# The replay skips request 3: its request 3 is the recording's request
# 4, and no request of the replay is the recording's request 3.
echo '["one", "two", "four"]' >"$ctl/texts.json"
replay_json "$TMP/run.rb" --trust-policy
expect_replay_status 1
expect_eq diverged "$(jqr .verdict)" "verdict of a skipped request"
expect_eq "3 diverged 4" \
	"$(jqr '.first_divergence | "\(.step) \(.verdict) " +
		"\(.request.reordered)"')" \
	"the first divergence of a skipped request"
expect_eq "the recording's request 3 matches no request of the other \
run, whose request here is the recording's request 4" \
	"$(jqr .first_divergence.request.note)" "the note of step 3"
set +e
"$RUNBUNDLE" replay --trust-policy "$TMP/run.rb" >"$TMP/text" 2>/dev/null
set -e
expect_grep "^first divergence: step 3: the recording's request 3 matches \
no request of the other run" "$TMP/text"

# One request more: the recording's request 4 comes as the replay's
# request 5, after one that matches nothing. Step 5 diverges too, as
# the recording has no request 5.
echo '["one", "two", "three", "new", "four"]' >"$ctl/texts.json"
replay_json "$TMP/run.rb" --trust-policy --on-mismatch closest
expect_replay_status 1
expect_eq 4 "$(jqr .first_divergence.step)" "the step of a new request"
expect_eq "diverged 4" \
	"$(jqr '.differences[] | select(.step == 5) |
		"\(.verdict) \(.request.reordered)"')" \
	"the step after a new request"

# Requests that only swapped places are still volatile.
echo '["one", "two", "four", "three"]' >"$ctl/texts.json"
replay_json "$TMP/run.rb" --trust-policy
expect_replay_status 0
expect_eq volatile-only "$(jqr .verdict)" "verdict of swapped requests"

echo '["one", "two", "three", "four"]' >"$ctl/texts.json"
replay_json "$TMP/run.rb" --trust-policy
expect_replay_status 0
expect_eq identical "$(jqr .verdict)" "verdict in the recorded order"

# A recording without requests still replays: a request that its agent
# now sends diverges and gets the gateway's 400, even with the closest
# recording asked for. No model script or upstream answers it.
echo '[]' >"$ctl/texts.json"
(cd "$TMP/ws" && "$RUNBUNDLE" record -o "$TMP/none.rb" \
	--policy "$TMP/policy.json" --model-script "$TMP/ws.script.json" \
	-- /usr/bin/python3 agent.py </dev/null >"$TMP/record.out" \
	2>"$TMP/record.err") || { cat "$TMP/record.err" >&2;
	fail "recording the agent without requests failed"; }
echo '["one"]' >"$ctl/texts.json"
replay_json "$TMP/none.rb" --trust-policy --on-mismatch closest
expect_replay_status 1
expect_eq diverged "$(jqr .verdict)" "verdict of a request never recorded"
expect_eq 1 "$(jqr .first_divergence.step)" "the step of that request"
expect_grep 'HTTP Error 400' "$TMP/replay.err"
