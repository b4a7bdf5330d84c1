#!/bin/sh
# steps_agent.sh - a plain shell agent for the replay tests. It runs the
# commands of steps.txt in the workspace, one line a step, and after
# each sends the model everything so far: messages[0] is the task and
# messages[K] the output and exit status of the command of step K. It
# exits with the status of the last command.
#
# Environment: OPENAI_BASE_URL (the gateway). Needs curl and jq.
set -eu

messages='[{"role":"user","content":"run the steps"}]'
status=0
while IFS= read -r command; do
	set +e
	output=$(sh -c "$command" 2>&1)
	status=$?
	set -e
	messages=$(printf '%s' "$messages" | jq -c --arg out "$output" \
		--arg st "$status" \
		'. + [{"role":"tool",
		"content":($out + "\n[exit " + $st + "]")}]')
	printf '{"model":"m","messages":%s}' "$messages" |
		curl -sS --fail-with-body -X POST \
			-H 'Content-Type: application/json' \
			--data-binary @- "$OPENAI_BASE_URL/chat/completions" \
			>/dev/null
done <steps.txt
exit "$status"
