#!/bin/sh
# Replay of a request that the agent abandoned before the response ended,
# as an SDK's timeout or AbortController does. The gateway sends no more
# than was recorded until the agent abandons it again. So the agent meets
# its own timeout, not an error that it never received.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/harness/gateway_lib.sh"

start_upstream
start_gateway rec --upstream test="$UPSTREAM"
# The upstream never responds to /hang, so curl times out after 0.5 s
# with status 28.
for n in 1 2; do
	status=0
	curl -s --max-time 0.5 -o /dev/null "$GATEWAY/hang?n=$n" || status=$?
	expect_eq 28 "$status" "curl's status for recorded request $n"
done
# A stream that the agent abandoned after a few of its events.
status=0
curl -s -N --max-time 0.5 -o "$TMP/rec.stream" \
	"$GATEWAY/slow?events=10&delay_ms=200" || status=$?
expect_eq 28 "$status" "curl's status for the recorded stream"
wait_records "$TMP/rec.jsonl" 3
stop_gateway "$GATEWAY_PID"
expect_eq client-aborted "$($RECORDS field "$TMP/rec.jsonl" 1 outcome)" \
	"recorded outcome"

start_gateway play --replay "$TMP/rec.jsonl" --timing fast
status=0
code=$(curl -s --max-time 1 -o "$TMP/play.body" -w '%{http_code}' \
	"$GATEWAY/hang?n=1") || status=$?
if [ "$status" != 28 ]; then
	cat "$TMP/play.body" >&2
	fail "the replayed request got status $code instead of no response"
fi
wait_records "$TMP/play.jsonl" 1
expect_eq client-aborted "$($RECORDS field "$TMP/play.jsonl" 1 outcome)" \
	"replayed outcome"

# The replayed stream sends the recorded events, then waits for the
# agent to time out as it did, instead of resetting the connection.
status=0
curl -s -N --max-time 1 -o "$TMP/play.stream" \
	"$GATEWAY/slow?events=10&delay_ms=200" || status=$?
expect_eq 28 "$status" "curl's status for the replayed stream"
cmp "$TMP/rec.stream" "$TMP/play.stream" ||
	fail "the replayed stream has other events than the recorded one"

# An agent that waits far longer than the recorded one gets the error
# after twice the recorded duration and 5 s, instead of hanging.
code=$(curl -s --max-time 20 -o "$TMP/late.body" -w '%{http_code}' \
	"$GATEWAY/hang?n=2")
expect_eq 502 "$code" "status for an agent that does not give up"
expect_grep '"code":"recording_has_no_response"' "$TMP/late.body"
stop_gateway "$GATEWAY_PID"
