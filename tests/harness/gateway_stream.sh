#!/bin/sh
# SSE streams in the three wire formats: relayed byte for byte, recorded
# chunk by chunk, and replayed with the same chunk boundaries and pings.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/harness/gateway_lib.sh"

start_upstream
start_gateway rec --upstream openai="$UPSTREAM/v1" \
	--upstream anthropic="$UPSTREAM/v1"
REC=$GATEWAY REC_PID=$GATEWAY_PID

body='{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}'
# Events 40 ms apart, so that TCP keeps them apart even on a busy machine
# and the chunk boundaries can be compared.
pace='x-test-delay-ms: 40'
post "$UPSTREAM/v1/chat/completions" "$body" -H "$pace" >"$TMP/direct.chat"
post "$REC/openai/chat/completions" "$body" -H "$pace" >"$TMP/gw.chat"
post "$REC/openai/responses" "$body" -H "$pace" >"$TMP/gw.responses"
post "$REC/anthropic/messages" "$body" -H "$pace" >"$TMP/gw.messages"
stop_gateway "$REC_PID"

cmp "$TMP/direct.chat" "$TMP/gw.chat" ||
	fail "the relayed chat stream differs from the upstream's"
expect_grep '^data: \[DONE\]$' "$TMP/gw.chat"
expect_grep '"sequence_number":6' "$TMP/gw.responses"
expect_grep '^event: ping$' "$TMP/gw.messages"
expect_grep '^event: message_stop$' "$TMP/gw.messages"

expect_eq 3 "$($RECORDS count "$TMP/rec.jsonl")" "recorded exchanges"
expect_eq 8 "$($RECORDS chunks "$TMP/rec.jsonl" 1 | tr ',' '\n' | wc -l)" \
	"chat stream chunks"
expect_eq 7 "$($RECORDS chunks "$TMP/rec.jsonl" 2 | tr ',' '\n' | wc -l)" \
	"responses stream chunks"
expect_eq 11 "$($RECORDS chunks "$TMP/rec.jsonl" 3 | tr ',' '\n' | wc -l)" \
	"messages stream chunks"
$RECORDS body "$TMP/rec.jsonl" 1 >"$TMP/stored.chat"
cmp "$TMP/direct.chat" "$TMP/stored.chat" ||
	fail "the stored chat body differs from what the agent got"
expect_eq /openai/chat/completions \
	"$($RECORDS field "$TMP/rec.jsonl" 1 request.path)" "recorded path"
expect_eq anthropic "$($RECORDS field "$TMP/rec.jsonl" 3 upstream)" \
	"upstream chosen by path prefix"

# Replay with recorded pacing, seen through a second recording gateway,
# which stores the chunks as they arrived from the replaying one.
start_gateway replay --replay "$TMP/rec.jsonl" --timing recorded
PLAY=$GATEWAY PLAY_PID=$GATEWAY_PID
start_gateway rerec --upstream replay="$PLAY"
REREC=$GATEWAY REREC_PID=$GATEWAY_PID
post "$REREC/openai/chat/completions" "$body" -H "$pace" >"$TMP/replay.chat"
post "$REREC/openai/responses" "$body" -H "$pace" >"$TMP/replay.responses"
post "$REREC/anthropic/messages" "$body" -H "$pace" >"$TMP/replay.messages"
stop_gateway "$REREC_PID"
stop_gateway "$PLAY_PID"

for api in chat responses messages; do
	cmp "$TMP/gw.$api" "$TMP/replay.$api" ||
		fail "the replayed $api stream differs from the recorded one"
done
$RECORDS same-chunks "$TMP/rec.jsonl" "$TMP/rerec.jsonl" ||
	fail "replayed chunk boundaries or headers differ from the recording"
expect_eq "$(grep -c '^event: ping$' "$TMP/gw.messages")" \
	"$(grep -c '^event: ping$' "$TMP/replay.messages")" "replayed pings"

# Fast timing serves the same bytes.
start_gateway fast --replay "$TMP/rec.jsonl" --timing fast
post "$GATEWAY/anthropic/messages" "$body" -H "$pace" >/dev/null
post "$GATEWAY/openai/chat/completions" "$body" -H "$pace" >"$TMP/fast.chat"
stop_gateway "$GATEWAY_PID"
cmp "$TMP/gw.chat" "$TMP/fast.chat" ||
	fail "the fast replay differs from the recording"
