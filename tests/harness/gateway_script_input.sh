#!/bin/sh
# Bad input to the scripted model: a script that is not a regular file
# is rejected at once (a FIFO must not block), one that is not JSON gets
# the parser's reason, and record leaves no bundle for either. A request
# body that parses but lacks what the API requires gets 400 in that API's
# shape and uses up no turn.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/harness/gateway_lib.sh"

mkfifo "$TMP/fifo.json"
printf '{"turns": [1,}' >"$TMP/bad.json"
mkdir "$TMP/ws"
cd "$TMP/ws"

# script_rejected STATUS SCRIPT MESSAGE: gateway and record fail on the
# script with the message, and record creates no bundle. SIGKILL ends a
# run that blocks, which then fails on its status.
script_rejected() {
	expect_status "$1" timeout -s KILL 20 \
		"$RUNBUNDLE" gateway --model-script "$2"
	expect_eq "runbundle: $3" "$(head -n 1 "$TMP/err")" "gateway: $2"
	expect_status 3 timeout -s KILL 20 \
		"$RUNBUNDLE" record -o "$TMP/x.rb" --model-script "$2" -- true
	expect_eq "runbundle: $3" "$(head -n 1 "$TMP/err")" "record: $2"
	[ ! -e "$TMP/x.rb" ] || fail "record left a bundle for $2"
}
script_rejected 3 "$TMP/fifo.json" "cannot read model script: \
'$TMP/fifo.json': not a regular file of at most 67108864 bytes"
script_rejected 3 "$TMP/bad.json" "invalid model script: '$TMP/bad.json': \
cannot parse JSON: 'byte 13': invalid or nested too deeply"

cat >"$TMP/script.json" <<'JSON'
{"turns": [{"text": "turn one"}, {"text": "turn two"},
	   {"text": "turn three"}]}
JSON
start_gateway script --model-script "$TMP/script.json"

# rejected PATH BODY BODY_PATTERN: 400, and the error body matches.
rejected() {
	_code=$(post "$GATEWAY$1" "$2" -o "$TMP/reply" -w '%{http_code}')
	expect_eq 400 "$_code" "status for $2 to $1"
	expect_grep "$3" "$TMP/reply"
}
chat=/v1/chat/completions
rejected $chat '{"model":"m"}' '^{"error":{"message":"Missing required '\
'parameter: '"'messages'"'.","type":"invalid_request_error",'\
'"param":"messages","code":"missing_required_parameter"}}$'
rejected $chat '{"model":"m","messages":5}' \
	"\"message\":\"Invalid type for 'messages': expected an array, but \
got an integer instead.\""
rejected $chat '{"model":5,"messages":[]}' '"param":"model"'
rejected $chat '{"model":"m","messages":[],"stream":"yes"}' \
	'"param":"stream","code":"invalid_type"'
rejected /v1/responses '{"input":"go"}' \
	'"param":"model","code":"missing_required_parameter"'
rejected /v1/responses '{"model":"m","input":5}' \
	"Invalid type for 'input': expected a string or an array"
rejected /v1/messages '{"model":"m","messages":[]}' \
	'^{"type":"error","error":{"type":"invalid_request_error",'\
'"message":"max_tokens: Field required"}}$'
rejected /v1/messages '{"model":"m","max_tokens":10,"messages":{}}' \
	'"message":"messages: Input should be a valid list"'
rejected /v1/messages '{"model":"m","max_tokens":0.5,"messages":[]}' \
	'"message":"max_tokens: Input should be an integer of at least 1"'

# None of them used up a turn: the next good requests get turns 1 to 3,
# one in each API.
post "$GATEWAY$chat" '{"model":"m","messages":[],"stream":null}' >"$TMP/r1"
expect_grep '"content":"turn one"' "$TMP/r1"
post "$GATEWAY/v1/responses" '{"model":"m","input":"go"}' >"$TMP/r2"
expect_grep '"text":"turn two"' "$TMP/r2"
post "$GATEWAY/v1/messages" '{"model":"m","max_tokens":9,"messages":[]}' \
	>"$TMP/r3"
expect_grep '"text":"turn three"' "$TMP/r3"
stop_gateway "$GATEWAY_PID"
