#!/bin/sh
# An agent that sends two requests at once can send them in another
# order when it is replayed. The gateway serves each its own recording,
# so the report compares each with that recording: the requests came in
# another order, which is a volatile difference, not a divergence.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"

# The delay of each request comes from outside the workspace, bound
# read-only, where the test swaps them between record and replay.
control_dir
new_workspace "$TMP/par" 'true' 'true'
cat >"$TMP/par/agent.py" <<EOF
import json, os, threading, time, urllib.request

def ask(text, delay):
    time.sleep(delay)
    body = json.dumps({"model": "m",
                       "messages": [{"role": "user", "content": text}]})
    request = urllib.request.Request(
        os.environ["OPENAI_BASE_URL"] + "/chat/completions",
        data=body.encode(), headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request).read()

delays = json.load(open("$ctl/delays.json"))
threads = [threading.Thread(target=ask, args=(text, delay))
           for text, delay in zip(["first", "second"], delays)]
for t in threads:
    t.start()
for t in threads:
    t.join()
EOF
echo '[0, 0.5]' >"$ctl/delays.json"
(cd "$TMP/par" && "$RUNBUNDLE" record -o "$TMP/par.rb" \
	--policy "$TMP/policy.json" --model-script "$TMP/par.script.json" \
	-- /usr/bin/python3 agent.py </dev/null >"$TMP/record.out" \
	2>"$TMP/record.err") || { cat "$TMP/record.err" >&2;
	fail "recording the parallel agent failed"; }

echo '[0.5, 0]' >"$ctl/delays.json"
replay_json "$TMP/par.rb" --trust-policy
expect_replay_status 0
expect_eq volatile-only "$(jqr .verdict)" "verdict of requests reordered"
expect_eq "1 2, 2 1" \
	"$(jqr '[.differences[] | select(.final | not) |
		"\(.step) \(.request.reordered)"] | join(", ")')" \
	"the recorded request of each step"
set +e
"$RUNBUNDLE" replay --trust-policy "$TMP/par.rb" >"$TMP/text" 2>/dev/null
set -e
expect_grep \
	"^step 1: the request came in another order: .*recording's request 2" \
	"$TMP/text"

# In the recorded order, nothing differs.
echo '[0, 0.5]' >"$ctl/delays.json"
replay_json "$TMP/par.rb" --trust-policy
expect_replay_status 0
expect_eq identical "$(jqr .verdict)" "verdict in the recorded order"
