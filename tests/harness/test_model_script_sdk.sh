#!/bin/sh
# The scripted model's streams and bodies, read by the official OpenAI
# and Anthropic SDKs for Node through the gateway on loopback.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/harness/sdk_lib.sh"
. "$TESTS_DIR/harness/gateway_lib.sh"

cp "$TESTS_DIR/harness/test_model_script_sdk.mjs" "$TMP/check.mjs"

cat >"$TMP/script.json" <<'JSON'
{"delta_bytes": 5, "turns": [
 {"text": "Héllo wörld, this is turn one."},
 {"text": "Let me look.", "tool_calls": [
   {"name": "bash", "arguments": {"command": "ls -la /tmp", "timeout": 30}},
   {"name": "read", "arguments": {"path": "a.c"}}],
  "usage": {"input_tokens": 100, "output_tokens": 20}},
 {"text": "plain non-stream"},
 {"tool_calls": [{"name": "t", "arguments": {"x": [1, 2, {"y": "z"}]}}]}
]}
JSON

for api in chat responses messages; do
	start_gateway "$api" --model-script "$TMP/script.json"
	node "$TMP/check.mjs" "$GATEWAY" "$api" >"$TMP/$api.log" 2>&1 ||
		{ cat "$TMP/$api.log" >&2; fail "the $api SDK check failed"; }
	stop_gateway "$GATEWAY_PID"
	expect_grep "^$api: ok" "$TMP/$api.log"
done
