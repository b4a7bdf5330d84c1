#!/bin/sh
# The gateway of a replay matches a request on its headers and its query
# string as well as its body, and rejects one that differs there. The
# report must then name that request as the first divergence, with the
# header or the query as the path, not a later step where the agent's
# failure shows.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"

# agent_with NAME HEADER QUERY: record a one-request agent that sends
# HEADER and whose URL ends in QUERY, in which $word is a random word of
# letters that no normalizer matches. The header comes from a file, so
# that curl's argv is the same in both runs.
agent_with() {
	new_workspace "$TMP/$1" 'true'
	cat >"$TMP/$1/agent.sh" <<EOF
word=\$(tr -dc a-z </dev/urandom | head -c 12)
printf '%s\\n' "$2" >/tmp/header
curl -sS --fail-with-body -H 'Content-Type: application/json' -H @/tmp/header \\
	--data '{"model":"m","messages":[{"role":"user","content":"hi"}]}' \\
	"\$OPENAI_BASE_URL/chat/completions$3" >/dev/null
EOF
	record_in "$TMP/$1" "$TMP/$1.rb"
}

agent_with header 'X-Attempt: $word' ''
replay_json "$TMP/header.rb"
expect_replay_status 1
expect_eq 1 "$(jqr .first_divergence.step)" "first divergent step"
expect_eq 'headers["x-attempt"] divergent' \
	"$(jqr '.first_divergence.request.differences[0] |
		"\(.path) \(.class)"')" "the header that differs"
set +e
"$RUNBUNDLE" replay "$TMP/header.rb" >"$TMP/text" 2>/dev/null
set -e
expect_grep \
	'^first divergence: step 1: the request differs at headers\["x-attempt"\]' \
	"$TMP/text"

agent_with query 'X-Attempt: 1' '?attempt=$word'
replay_json "$TMP/query.rb"
expect_replay_status 1
expect_eq 1 "$(jqr .first_divergence.step)" "first divergent step, query"
expect_eq 'query divergent' \
	"$(jqr '.first_divergence.request.differences[0] |
		"\(.path) \(.class)"')" "the query that differs"

# A volatile header differs as the gateway has it: volatile only.
agent_with agent 'User-Agent: $word' ''
replay_json "$TMP/agent.rb"
expect_replay_status 0
expect_eq volatile-only "$(jqr .verdict)" "verdict with another user-agent"
expect_eq 'headers["user-agent"] volatile' \
	"$(jqr '.differences[0].request.differences[0] |
		"\(.path) \(.class)"')" "the user-agent that differs"
