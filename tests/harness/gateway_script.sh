#!/bin/sh
# Scripted-model mode: turns are served in the wire format of each
# request and recorded like an upstream. Running out of turns is an error
# response and an outcome in the record. The record replays the same.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/harness/gateway_lib.sh"

cat >"$TMP/script.json" <<'JSON'
{"turns": [
	{"text": "Hello from the script."},
	{"tool_calls": [{"name": "run", "arguments": {"cmd": "ls"}}]},
	{"text": "Done."}
]}
JSON
body='{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}'

start_gateway script --model-script "$TMP/script.json"
post "$GATEWAY/v1/chat/completions" "$body" >"$TMP/s1"
post "$GATEWAY/v1/messages" '{"model":"m","max_tokens":10,"messages":[]}' \
	>"$TMP/s2"
post "$GATEWAY/v1/responses" '{"model":"m","input":"go","stream":true}' \
	>"$TMP/s3"
code=$(post "$GATEWAY/v1/chat/completions" '{"model":"m","messages":[]}' \
	-o "$TMP/s4" -w '%{http_code}')
stop_gateway "$GATEWAY_PID"

expect_grep '"object":"chat.completion.chunk"' "$TMP/s1"
expect_grep '^data: \[DONE\]' "$TMP/s1"
expect_grep '"type":"tool_use"' "$TMP/s2"
expect_grep '"name":"run"' "$TMP/s2"
expect_grep '^event: response.completed' "$TMP/s3"
case $code in
4??|5??) ;;
*) fail "status when the turns ran out: expected an error, got $code" ;;
esac
expect_grep '"code":"no_script_turn"' "$TMP/s4"

f=$TMP/script.jsonl
expect_eq 4 "$($RECORDS count "$f")" "recorded exchanges"
expect_eq script "$($RECORDS field "$f" 1 upstream)" "upstream name"
expect_eq complete "$($RECORDS field "$f" 3 outcome)" "outcome of turn 3"
expect_eq no-script-turn "$($RECORDS field "$f" 4 outcome)" \
	"outcome after the last turn"
$RECORDS body "$f" 1 | cmp - "$TMP/s1" ||
	fail "the stored scripted stream differs from what the agent got"

start_gateway replay --replay "$f" --timing fast
post "$GATEWAY/v1/chat/completions" "$body" >"$TMP/r1"
post "$GATEWAY/v1/messages" '{"model":"m","max_tokens":10,"messages":[]}' \
	>"$TMP/r2"
stop_gateway "$GATEWAY_PID"
cmp "$TMP/s1" "$TMP/r1" || fail "the replayed scripted stream differs"
cmp "$TMP/s2" "$TMP/r2" || fail "the replayed tool call differs"
