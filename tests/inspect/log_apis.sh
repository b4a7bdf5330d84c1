#!/bin/sh
# runbundle log and show on a recorded session that calls all three model
# APIs, each plain and streamed: the text answers, tool calls, models and
# token counts come back out of the bodies, the streams reassembled from
# deltas of four bytes.
. "$TESTS_DIR/lib.sh"
command -v jq >/dev/null || skip "jq is missing"
command -v curl >/dev/null || skip "curl is missing"

mkdir "$TMP/ws"
cat >"$TMP/ws/agent.sh" <<'SH'
#!/bin/sh
set -e
post() {
	curl -sS -o /dev/null -H 'Content-Type: application/json' \
		-d "$2" "$1"
}
msgs='"messages": [{"role": "user", "content": "hi"}]'
post "$OPENAI_BASE_URL/chat/completions" "{\"model\": \"m-chat\", $msgs}"
post "$OPENAI_BASE_URL/chat/completions" \
	"{\"model\": \"m-chat\", \"stream\": true,
	  \"stream_options\": {\"include_usage\": true}, $msgs}"
post "$OPENAI_BASE_URL/responses" '{"model": "m-resp", "input": "hi"}'
post "$OPENAI_BASE_URL/responses" \
	'{"model": "m-resp", "stream": true, "input": "hi"}'
post "$ANTHROPIC_BASE_URL/v1/messages" \
	"{\"model\": \"m-anth\", \"max_tokens\": 9, $msgs}"
post "$ANTHROPIC_BASE_URL/v1/messages" \
	"{\"model\": \"m-anth\", \"stream\": true, \"max_tokens\": 9, $msgs}"
echo done
SH
turns=""
for i in 1 2 3 4 5 6; do
	turns="$turns${turns:+,}{\"text\": \"answer number $i\",
	  \"tool_calls\": [{\"name\": \"tool_$i\",
	    \"arguments\": {\"n\": $i, \"path\": \"a b.txt\"}}],
	  \"usage\": {\"input_tokens\": ${i}0, \"output_tokens\": $i}}"
done
echo "{\"delta_bytes\": 4, \"turns\": [$turns]}" >"$TMP/script.json"

cd "$TMP/ws"
expect_status 0 "$RUNBUNDLE" record -o "$TMP/run.rb" \
	--model-script "$TMP/script.json" -- sh ./agent.sh
expect_eq done "$(cat "$TMP/out")" "the agent's output"

expect_status 0 "$RUNBUNDLE" log --json --kind exchange "$TMP/run.rb"
jq -c '.steps[].events[].answer |
	[.api, .streamed, .model, .text, .tool_calls[0].name,
	 (.tool_calls[0].arguments | fromjson | .n), .input_tokens,
	 .output_tokens]' "$TMP/out" >"$TMP/answers"
expect_eq '["chat",false,"m-chat","answer number 1","tool_1",1,10,1]
["chat",true,"m-chat","answer number 2","tool_2",2,20,2]
["responses",false,"m-resp","answer number 3","tool_3",3,30,3]
["responses",true,"m-resp","answer number 4","tool_4",4,40,4]
["messages",false,"m-anth","answer number 5","tool_5",5,50,5]
["messages",true,"m-anth","answer number 6","tool_6",6,60,6]' \
	"$(cat "$TMP/answers")" "the answers of the six exchanges"

# The text timeline shows the same under each exchange, one step per
# request, within 80 columns on a terminal.
expect_status 0 "$RUNBUNDLE" log "$TMP/run.rb"
expect_eq 6 "$(grep -c '^step [1-6]: request [1-6], snapshot ' "$TMP/out")" \
	"request steps"
expect_grep '^ *text: answer number 6$' "$TMP/out"
expect_grep '^ *call: tool_4 {"n":4,"path":"a b.txt"}$' "$TMP/out"
if command -v script >/dev/null; then
	NO_COLOR=1 script -qfec "'$RUNBUNDLE' log '$TMP/run.rb'" \
		"$TMP/tty.log" >/dev/null </dev/null
	# script(1) writes a header and a footer line of its own.
	tr -d '\r' <"$TMP/tty.log" |
		awk '/^Script (started|done) / { next }
		     length > 80 { print; bad = 1 } END { exit bad }' ||
		fail "log printed lines longer than 80 columns"
fi
grep -q "$(printf '\033')" "$TMP/out" && fail "color without a terminal"

# --step and --kind select; a step that does not exist is an error.
expect_status 0 "$RUNBUNDLE" log --step 3 --kind exchange "$TMP/run.rb"
expect_eq 4 "$(wc -l <"$TMP/out")" "lines of step 3's exchange"
expect_grep '^step 3: request 3' "$TMP/out"
expect_status 3 "$RUNBUNDLE" log --step 99 "$TMP/run.rb"
expect_grep "^runbundle: no such step: '99': the bundle has steps 0 to 7" \
	"$TMP/err"

# The summary adds the tokens up by endpoint and model.
expect_status 0 "$RUNBUNDLE" inspect --json "$TMP/run.rb"
expect_eq '6 210 21' "$(jq -r '.model |
	"\(.calls) \(.input_tokens) \(.output_tokens)"' "$TMP/out")" \
	"model totals"
expect_eq 'script /v1/chat/completions m-chat 2 30 3
script /v1/messages m-anth 2 110 11
script /v1/responses m-resp 2 70 7' "$(jq -r '.model.by_endpoint[] |
	"\(.endpoint) \(.model) \(.calls) \(.input_tokens) \(.output_tokens)"' \
	"$TMP/out" | sort)" "calls by endpoint"

# show decodes the streamed body and prints the reassembled answer.
seq=$("$RUNBUNDLE" log --json --kind exchange "$TMP/run.rb" |
	jq '.steps[].events[] | select(.data.seq == 6) | .seq')
expect_status 0 "$RUNBUNDLE" show "$TMP/run.rb" "$seq"
expect_grep \
	'^answer      messages (streamed), model m-anth, tokens in 60 out 6$' \
	"$TMP/out"
expect_grep '^tool call   tool_6 {"n":6,"path":"a b.txt"}$' "$TMP/out"
expect_grep '^event: content_block_delta$' "$TMP/out"
expect_status 0 "$RUNBUNDLE" show --json "$TMP/run.rb" "$seq"
expect_eq 'answer number 6' "$(jq -r .exchange.answer_text "$TMP/out")" \
	"show --json's answer"
expect_status 3 "$RUNBUNDLE" show "$TMP/run.rb" 100000
expect_grep "^runbundle: no such event: '100000'" "$TMP/err"

# The recorded bundle survives the open layout with its root digest.
expect_status 0 "$RUNBUNDLE" export-bundle --json -o "$TMP/run.tar.zst" \
	"$TMP/run.rb"
root=$(jq -r .root "$TMP/out")
expect_status 0 "$RUNBUNDLE" import --json -o "$TMP/copy.rb" "$TMP/run.tar.zst"
expect_eq "$root" "$(jq -r .root "$TMP/out")" "the root digest after import"
expect_eq "$("$RUNBUNDLE" log --json "$TMP/run.rb")" \
	"$("$RUNBUNDLE" log --json "$TMP/copy.rb")" "the imported timeline"
