#!/bin/sh
# agent.sh - a minimal coding agent: it sends the conversation to an
# OpenAI-compatible Chat Completions endpoint, runs the tool calls it gets
# back, appends their results, and loops until the model replies with
# text only.
#
# usage: agent.sh TASK
#
# Environment: OPENAI_BASE_URL (for example http://127.0.0.1:8080/v1),
# OPENAI_API_KEY (runbundle's gateway hands the agent a placeholder and
# injects the real key itself), AGENT_MODEL (default "gpt-4.1"),
# AGENT_MAX_TURNS (default 20), AGENT_STATE_DIR (the conversation's
# files, default /tmp/shell-agent, removed at the end). Needs curl and jq.
#
# Tools offered to the model:
#   run_command {"command": "..."}          sh -c, output and exit status
#   read_file   {"path": "..."}             the file's text
#   write_file  {"path": "...", "content"}  replace the file
set -eu

task=${1:?usage: agent.sh TASK}
base=${OPENAI_BASE_URL:?OPENAI_BASE_URL must point at the model endpoint}
model=${AGENT_MODEL:-gpt-4.1}
max_turns=${AGENT_MAX_TURNS:-20}
# A fixed path, not mktemp: its name reaches the argv of every curl and
# jq call, and a random one would make each replay differ from its
# recording. Inside the sandbox /tmp is private to the run.
state=${AGENT_STATE_DIR:-/tmp/shell-agent}
rm -rf "$state"
mkdir -p "$state"
trap 'rm -rf "$state"' EXIT

tools='[
 {"type":"function","function":{"name":"run_command",
  "description":"Run a shell command in the workspace",
  "parameters":{"type":"object","required":["command"],
   "properties":{"command":{"type":"string"}}}}},
 {"type":"function","function":{"name":"read_file",
  "description":"Read a text file",
  "parameters":{"type":"object","required":["path"],
   "properties":{"path":{"type":"string"}}}}},
 {"type":"function","function":{"name":"write_file",
  "description":"Replace a text file",
  "parameters":{"type":"object","required":["path","content"],
   "properties":{"path":{"type":"string"},"content":{"type":"string"}}}}}
]'

jq -n --arg task "$task" '[
 {"role":"system","content":"You are a careful coding agent. Use the tools."},
 {"role":"user","content":$task}]' >"$state/messages.json"

# run_tool NAME ARGUMENTS_JSON: print the tool's result text.
run_tool() {
	case "$1" in
	run_command)
		command=$(printf '%s' "$2" | jq -r .command)
		set +e
		output=$(sh -c "$command" 2>&1)
		status=$?
		set -e
		printf '%s\n[exit status %d]' "$output" "$status" ;;
	read_file)
		path=$(printf '%s' "$2" | jq -r .path)
		cat -- "$path" 2>&1 || true ;;
	write_file)
		path=$(printf '%s' "$2" | jq -r .path)
		printf '%s' "$2" | jq -j .content >"$path"
		printf 'wrote %s' "$path" ;;
	*)
		printf 'unknown tool: %s' "$1" ;;
	esac
}

turn=0
while [ "$turn" -lt "$max_turns" ]; do
	turn=$((turn + 1))
	jq -n --arg model "$model" --argjson tools "$tools" \
		--slurpfile messages "$state/messages.json" \
		'{model:$model, messages:$messages[0], tools:$tools}' \
		>"$state/request.json"

	curl -sS --fail-with-body -X POST "$base/chat/completions" \
		-H "Authorization: Bearer ${OPENAI_API_KEY:-none}" \
		-H 'Content-Type: application/json' \
		--data-binary @"$state/request.json" >"$state/response.json"

	# Texts go through files, not argv: the tracer records every argv,
	# and a divergence report would quote whole tool outputs.
	jq -c '.choices[0].message' "$state/response.json" \
		>"$state/message.json"
	message=$(cat "$state/message.json")
	jq --slurpfile m "$state/message.json" '. + $m' \
		"$state/messages.json" >"$state/next.json"
	mv "$state/next.json" "$state/messages.json"

	calls=$(printf '%s' "$message" | jq -c '.tool_calls // [] | .[]')
	if [ -z "$calls" ]; then
		printf '%s\n' "$message" | jq -r '.content // ""'
		exit 0
	fi

	printf '%s\n' "$calls" | while IFS= read -r call; do
		id=$(printf '%s' "$call" | jq -r .id)
		name=$(printf '%s' "$call" | jq -r .function.name)
		arguments=$(printf '%s' "$call" | jq -r .function.arguments)
		echo "agent: $name $arguments" >&2
		run_tool "$name" "$arguments" >"$state/result.txt"
		jq --arg id "$id" --rawfile content "$state/result.txt" \
			'. + [{"role":"tool","tool_call_id":$id,
			"content":$content}]' \
			"$state/messages.json" >"$state/next.json"
		mv "$state/next.json" "$state/messages.json"
	done
done

echo "agent: stopped after $max_turns turns without a final text reply" >&2
exit 1
