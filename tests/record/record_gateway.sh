#!/bin/sh
# A session through the gateway. The example shell agent runs against
# the scripted model, and its model exchanges, request snapshots and
# processes must interleave in the order they happened. A real upstream
# on loopback must get runbundle's key, while the agent and the bundle
# only get a placeholder.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/record/record_lib.sh"
command -v curl >/dev/null || skip "curl is missing"
command -v jq >/dev/null || skip "jq is missing"

ws=$TMP/ws
mkdir "$ws"
cd "$ws"
# The sandbox shows system directories only, so the agent comes along.
cp "$SOURCE_DIR/examples/shell-agent/agent.sh" .
cat >"$TMP/script.json" <<'JSON'
{"turns": [
 {"tool_calls": [{"name": "write_file",
   "arguments": {"path": "notes.txt", "content": "hello\n"}}]},
 {"tool_calls": [{"name": "run_command",
   "arguments": {"command": "wc -l notes.txt"}}]},
 {"text": "Done."}
]}
JSON

export OPENAI_API_KEY=canary-key-4f1d2e
record "$TMP/agent.rb" --model-script "$TMP/script.json" -- \
	sh ./agent.sh "write the notes"
expect_recorded 0
expect_eq "Done." "$(cat "$TMP/out")" "the agent's answer"
expect_grep ' 3 model calls, ' "$TMP/err"

# Each request: the agent's curl runs, the workspace is snapshotted, the
# exchange completes; then the next curl.
expect_eq "curl
snapshot 1
exchange 1 complete
curl
snapshot 2
exchange 2 complete
curl
snapshot 3
exchange 3 complete" "$($EVENTS "$TMP/agent.rb" steps)" "the order of steps"

# The snapshot before request 2 already contains the file the first tool
# call wrote, and only that change.
expect_eq '[["A","notes.txt"]]' "$($EVENTS "$TMP/agent.rb" kinds |
	while read -r seq kind; do
		[ "$kind" = workspace ] && $EVENTS "$TMP/agent.rb" data "$seq"
	done | jq -c 'select(.exchange == 2) | .changes.paths')" \
	"changes before request 2"
expect_eq '/v1/chat/completions' \
	"$(last_data "$TMP/agent.rb" exchange .path)" "the request path"

# The key in runbundle's environment never reaches the bundle.
$EVENTS "$TMP/agent.rb" all >"$TMP/all"
grep -q "$OPENAI_API_KEY" "$TMP/all" && fail "the key is in the bundle"
grep -q runbundle-placeholder-key "$TMP/all" ||
	fail "the agent's placeholder key is not in the bundle"

# A real upstream on loopback gets runbundle's key. The agent and the
# bundle get the placeholder, and the key masked where the upstream
# echoes it.
/usr/bin/python3 "$TESTS_DIR/harness/upstream.py" "$TMP/port" \
	2>"$TMP/upstream.err" &
upstream_pid=$!
trap 'kill $upstream_pid 2>/dev/null || true; cleanup' EXIT
upstream=http://127.0.0.1:$(wait_port "$TMP/port")/v1
record "$TMP/up.rb" --upstream "openai=$upstream" -- sh -c '
	echo "$OPENAI_API_KEY"
	curl -sS -X POST -H "Authorization: Bearer $OPENAI_API_KEY" \
		-d "{}" "$OPENAI_BASE_URL/echo"'
expect_recorded 0
expect_eq runbundle-placeholder-key "$(head -1 "$TMP/out")" \
	"the agent's key"
tail -n +2 "$TMP/out" >"$TMP/echo.json"
expect_eq "$(printf 'Bearer %s' "$OPENAI_API_KEY" | sha256sum |
	cut -d' ' -f1)" "$(jq -r .auth_sha256 "$TMP/echo.json")" \
	"hash of the key that the upstream got"
# The upstream echoed the key, and the agent got it masked.
grep -q "$OPENAI_API_KEY" "$TMP/out" && fail "the agent got the key"
expect_grep 'Bearer \[REDACTED\]\**"' "$TMP/echo.json"
expect_eq "complete 200" \
	"$(last_data "$TMP/up.rb" exchange '"\(.outcome) \(.status)"')" \
	"the exchange"
$EVENTS "$TMP/up.rb" all >"$TMP/all"
grep -q "$OPENAI_API_KEY" "$TMP/all" && fail "the key is in the bundle"
exit 0
