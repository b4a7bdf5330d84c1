#!/bin/sh
# An agent shows the model a command's output in the conversation, not
# in a parameter of the request such as its model, temperature or tools.
# So a request that differs in a parameter alone is not explained as the
# output of a command of its step, even without a tool call id.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"

# The model's name is a random word, which no normalizer matches, and
# the body comes from a file, so that curl's argv is the same in both
# runs. tr and head end in the step before the request.
new_workspace "$TMP/model" 'true'
cat >"$TMP/model/agent.sh" <<'EOF'
word=$(tr -dc a-z </dev/urandom | head -c 12)
printf '{"model":"%s","messages":[{"role":"user","content":"hi"}]}' \
	"$word" >/tmp/body
curl -sS --fail-with-body -H 'Content-Type: application/json' \
	--data @/tmp/body "$OPENAI_BASE_URL/chat/completions" >/dev/null
EOF
record_in "$TMP/model" "$TMP/model.rb"
replay_json "$TMP/model.rb"
expect_replay_status 1
expect_eq "1 model" \
	"$(jqr '.first_divergence | "\(.step) " +
		"\(.request.differences[0].path)"')" "where the request differs"
expect_eq null "$(jqr '.first_divergence.request.cause')" \
	"the command behind a model that differs"
set +e
"$RUNBUNDLE" replay "$TMP/model.rb" >"$TMP/text" 2>/dev/null
set -e
expect_grep '^first divergence: step 1: the request differs at model$' \
	"$TMP/text"
