#!/bin/sh
# A model stream cut at --max-response-body ends with an error event
# that the official OpenAI and Anthropic SDKs for Node raise as an API
# error.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/harness/sdk_lib.sh"
. "$TESTS_DIR/harness/gateway_lib.sh"

cp "$TESTS_DIR/harness/gateway_limit_sdk.mjs" "$TMP/check.mjs"

start_upstream
start_gateway cut --upstream model="$UPSTREAM" --max-response-body 700
node "$TMP/check.mjs" "$GATEWAY" >"$TMP/check.log" 2>&1 ||
	{ cat "$TMP/check.log" >&2; fail "the SDKs did not raise the cut"; }
expect_grep '^messages: ok' "$TMP/check.log"
expect_grep '^chat: ok' "$TMP/check.log"
wait_records "$TMP/cut.jsonl" 2
stop_gateway "$GATEWAY_PID"
expect_eq 2 "$(grep -c 'upstream-cut: response body over the limit' \
	"$TMP/cut.err")" "cut exchanges logged"
