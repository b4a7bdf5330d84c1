#!/bin/sh
# A real run end to end: the example shell agent recorded with the
# scripted model, then gate, apply and report on its bundle.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/inspect/gate_lib.sh"
. "$TESTS_DIR/inspect/report_lib.sh"
command -v curl >/dev/null || skip "curl is missing"
command -v jq >/dev/null || skip "jq is missing"

ws=$TMP/ws
mkdir "$ws"
cp "$SOURCE_DIR/examples/shell-agent/agent.sh" "$ws/"
echo old >"$ws/keep.txt"
cp -a "$ws" "$TMP/checkout"
cat >"$TMP/script.json" <<'JSON'
{"turns": [
 {"tool_calls": [{"name": "write_file",
   "arguments": {"path": "notes.txt", "content": "hello\n"}}]},
 {"tool_calls": [{"name": "run_command",
   "arguments": {"command": "wc -l notes.txt"}}]},
 {"text": "Done."}
]}
JSON
cd "$ws"
set +e
"$RUNBUNDLE" record -o "$TMP/run.rb" --model-script "$TMP/script.json" \
	-- sh ./agent.sh "write the notes" >"$TMP/out" 2>"$TMP/err" </dev/null
status=$?
set -e
cd "$TMP"
[ "$status" = 0 ] || fail "record exited $status: $(cat "$TMP/err")"

expect_status 0 "$RUNBUNDLE" gate "$TMP/run.rb"
"$RUNBUNDLE" gate --json "$TMP/run.rb" >"$TMP/gate.json"
expect_eq 1 "$(jq .files_changed "$TMP/gate.json")" "files changed"

expect_status 0 "$RUNBUNDLE" apply --to "$TMP/checkout" "$TMP/run.rb"
expect_eq hello "$(cat "$TMP/checkout/notes.txt")" "the applied file"

expect_status 0 "$RUNBUNDLE" report -o "$TMP/r.html" "$TMP/run.rb"
sed -n 's/^<script type="application\/json" id="data">\(.*\)<\/script>$/\1/p' \
	"$TMP/r.html" >"$TMP/data.json"
expect_eq 5 "$(jq '.steps | length' "$TMP/data.json")" "steps"
expect_eq 3 "$(jq '[.steps[].exchanges[]] | length' "$TMP/data.json")" \
	"exchanges"
expect_eq write_file \
	"$(jq -r '.steps[1].exchanges[0].answer.tool_calls[0].name' \
	"$TMP/data.json")" "the first tool call"

# In the browser: no console message, and the five steps shown.
if command -v chromium >/dev/null; then
	chromium_run --dump-dom "file://$TMP/r.html" >"$TMP/dom.html" ||
		fail "chromium failed: $(tail -5 "$TMP/chromium.log")"
	grep CONSOLE "$TMP/chromium.log" &&
		fail "the page logged to the console"
	expect_grep 'data-rendered="5"' "$TMP/dom.html"
fi
exit 0
