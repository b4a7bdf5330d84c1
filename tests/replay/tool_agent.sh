#!/bin/sh
# tool_agent.sh API - an agent for the replay tests that sends requests
# in one of three API shapes (chat, responses or messages), runs each
# tool call's "command" with sh -c, and replies with a tool result that
# names the call by its id, until the model calls no tool.
#
# Environment: OPENAI_BASE_URL, ANTHROPIC_BASE_URL (the gateway). Needs
# curl and jq.
set -eu

api=$1
case $api in
chat)
	url=$OPENAI_BASE_URL/chat/completions
	history='[{"role":"user","content":"run the tools"}]'
	body='{"model":"m","messages":$h}'
	calls='.choices[0].message.tool_calls // [] | .[] |
		[.id, (.function.arguments | fromjson | .command)]'
	said='[.choices[0].message]'
	answer='{"role":"tool","tool_call_id":$id,"content":$out}'
	;;
responses)
	url=$OPENAI_BASE_URL/responses
	history='[{"role":"user","content":"run the tools"}]'
	body='{"model":"m","input":$h}'
	calls='.output[] | select(.type == "function_call") |
		[.call_id, (.arguments | fromjson | .command)]'
	said='[.output[] | select(.type == "function_call")]'
	answer='{"type":"function_call_output","call_id":$id,"output":$out}'
	;;
messages)
	url=$ANTHROPIC_BASE_URL/v1/messages
	history='[{"role":"user","content":"run the tools"}]'
	body='{"model":"m","max_tokens":100,"messages":$h}'
	calls='.content[] | select(.type == "tool_use") |
		[.id, .input.command]'
	said='[{"role":"assistant","content":.content}]'
	answer='{"type":"tool_result","tool_use_id":$id,"content":$out}'
	;;
*)
	echo "tool_agent.sh: unknown API: '$api'" >&2
	exit 2
	;;
esac

while :; do
	response=$(jq -nc --argjson h "$history" "$body" |
		curl -sS --fail-with-body -X POST \
			-H 'Content-Type: application/json' \
			--data-binary @- "$url")
	todo=$(printf '%s' "$response" | jq -c "$calls")
	[ -n "$todo" ] || break
	history=$(printf '%s' "$response" |
		jq -c --argjson h "$history" "\$h + $said")
	results='[]'
	while IFS= read -r call; do
		id=$(printf '%s' "$call" | jq -r '.[0]')
		command=$(printf '%s' "$call" | jq -r '.[1]')
		set +e
		out=$(sh -c "$command" 2>&1)
		st=$?
		set -e
		results=$(jq -nc --argjson r "$results" --arg id "$id" \
			--arg out "$out [exit $st]" "\$r + [$answer]")
	done <<CALLS
$todo
CALLS
	if [ "$api" = messages ]; then
		history=$(jq -nc --argjson h "$history" --argjson r "$results" \
			'$h + [{"role":"user","content":$r}]')
	else
		history=$(jq -nc --argjson h "$history" --argjson r "$results" \
			'$h + $r')
	fi
done
