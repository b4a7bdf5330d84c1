#!/bin/sh
# run.sh - record the Agents SDK example: copy the workspace into DIR,
# write a policy that lets the sandbox read this folder (the agent and
# its node_modules), and run the agent under runbundle record against
# the scripted model.
#
# usage: run.sh DIR [RECORD-OPTION...]
#
# Environment: RUNBUNDLE (default: runbundle on PATH), AGENT_API
# ("responses" by default, or "chat_completions"), FLAKY=1 to add the
# flaky test of flaky/ to the workspace, TRACING=1 to leave the SDK's
# tracing on.
# Writes DIR/workspace, DIR/policy.json and DIR/run.rb.
set -eu

dir=${1:?usage: run.sh DIR [RECORD-OPTION...]}
shift
here=$(cd "$(dirname "$0")" && pwd)
runbundle=${RUNBUNDLE:-runbundle}
api=${AGENT_API:-responses}
tracing=${TRACING:-0}

if [ ! -d "$here/node_modules/@openai/agents" ]; then
	echo "run.sh: @openai/agents not found in '$here/node_modules'" >&2
	echo "hint: run 'npm ci' in '$here'" >&2
	exit 3
fi
if [ -e "$dir" ]; then
	echo "run.sh: directory already exists: '$dir'" >&2
	echo "hint: name a directory that does not exist yet" >&2
	exit 2
fi

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
cp -R "$here/workspace" "$dir/workspace"
[ "${FLAKY:-0}" = 1 ] && cp "$here/flaky/race.test.mjs" "$dir/workspace/test/"

# The policy is the default read-only set plus this folder, with PATH and
# TMPDIR as the default sets them. The SDK's tracing is off, because its
# exporter would post to api.openai.com (the agent turns it off in code
# too). egress-guard.mjs prints each connection that the agent starts to
# a host other than loopback, which no violation would show.
jq -n --arg here "$here" --arg api "$api" --arg tracing "$tracing" '{
	version: 1,
	filesystem: {read_only: ["/usr", "/bin", "/sbin", "/lib", "/lib32",
		"/lib64", "/libx32", "/etc", "/opt", $here]},
	env: {set: {
		PATH: ("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:" +
			"/sbin:/bin"),
		TMPDIR: "/tmp",
		OPENAI_AGENTS_DISABLE_TRACING:
			(if $tracing == "1" then "0" else "1" end),
		AGENT_TRACING: $tracing,
		AGENT_API: $api}}
}' >"$dir/policy.json"

cd "$dir/workspace"
exec "$runbundle" record -o "$dir/run.rb" --policy "$dir/policy.json" \
	--model-script "$here/script.json" "$@" -- \
	node --import "$here/egress-guard.mjs" "$here/agent.mjs"
