#!/bin/sh
# Replay against a real upstream on loopback, which this test starts:
# --on-mismatch forward sends a request that matches no recording to
# the upstream that --upstream names, and records the exchange in the
# replay's bundle,
# and --timing recorded keeps the recorded pacing of a streamed reply.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"
upstreams_setup

# Random lowercase letters: no normalizer takes them for an id, a time
# or a path, so the replay's request matches no recording.
start_upstream plain
new_workspace "$TMP/random" 'echo start' \
	'head -c 64 /dev/urandom | base64 | tr -dc g-z | head -c 12'
(cd "$TMP/random" && "$RUNBUNDLE" record -o "$TMP/random.rb" \
	--upstream "openai=$url" -- sh ./agent.sh \
	</dev/null >"$TMP/record.out" 2>"$TMP/record.err") ||
	{ cat "$TMP/record.err" >&2; fail "recording with an upstream failed"; }
expect_eq 2 "$(wc -l <"$TMP/plain.log")" "requests while recording"

replay_json "$TMP/random.rb" --on-mismatch forward --upstream "openai=$url" \
	-o "$TMP/forward.rb"
expect_replay_status 1
expect_eq 3 "$(wc -l <"$TMP/plain.log")" "requests after the replay"
expect_eq /chat/completions "$(tail -n 1 "$TMP/plain.log" | jq -r .path)" \
	"the path of the forwarded request"
# The forwarded request is the replay's own, and the upstream's third
# reply to it is in the replay's bundle.
forwarded=$(tail -n 1 "$TMP/plain.log" | jq -r .body)
live=$(jqr '.differences[] | select(.step == 2) |
	.request.differences[0].live')
expect_eq "$live" "$(printf '%s' "$forwarded" |
	jq -r '.messages[2].content')" "the forwarded request's content"
"$RUNBUNDLE" log --json --kind exchange "$TMP/forward.rb" >"$TMP/log.json" ||
	fail "cannot read the replay's log"
: >"$TMP/exchanges"
for seq in $(jq '.. | objects | select(.kind? == "exchange") | .seq' \
	"$TMP/log.json"); do
	"$RUNBUNDLE" show "$TMP/forward.rb" "$seq" >>"$TMP/exchanges" ||
		fail "cannot show exchange event $seq"
done
expect_grep 'reply 3' "$TMP/exchanges"

# A reply streamed as four events 300 ms apart: replayed with the
# recorded timing, each event arrives no sooner than 80% of its
# recorded time after the request. Only the lower bound is checked: a
# loaded machine may be slower, never faster.
start_upstream stream 300
ws=$TMP/stream
mkdir "$ws"
cp "$TESTS_DIR/replay/stream_agent.py" "$ws/agent.py"
(cd "$ws" && "$RUNBUNDLE" record -o "$TMP/stream.rb" \
	--upstream "openai=$url" -- /usr/bin/python3 agent.py times.txt \
	</dev/null >"$TMP/record.out" 2>"$TMP/record.err") ||
	{ cat "$TMP/record.err" >&2; fail "recording the stream failed"; }
replay_json "$TMP/stream.rb" --timing recorded --keep
workspace=$(jqr .workspace)
[ -f "$workspace/times.txt" ] ||
	{ cat "$TMP/replay.err" >&2; fail "the replayed agent wrote no times"; }
i=0
while read -r ms; do
	[ "$ms" -ge $((i * 240)) ] ||
		fail "event $i arrived after $ms ms, before $((i * 240)) ms"
	i=$((i + 1))
done <"$workspace/times.txt"
expect_eq 4 "$i" "events timed"
