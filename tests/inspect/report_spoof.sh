#!/bin/sh
# A message role from the agent's request is shown as text in the
# report and never becomes a class, which could hide the message or
# mark it as a violation. A bidirectional override in a file name or a
# text is shown as U+FFFD, so it cannot reorder what the reviewer reads.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/inspect/gate_lib.sh"
. "$TESTS_DIR/inspect/report_lib.sh"
command -v chromium >/dev/null || skip "chromium is not installed"
command -v jq >/dev/null || skip "jq is missing"
command -v sqlite3 >/dev/null || skip "sqlite3 is missing"

d=$TMP/run
mkdir -p "$d/before" "$d/after"
echo a >"$d/before/a"
echo a >"$d/after/a"
rlo=$(printf '\342\200\256')
echo b >"$d/after/evil${rlo}txt.exe"
run_spec "$d"
request='{"model": "m", "messages": [
	{"role": "user hidden", "content": "secret one"},
	{"role": "violation", "content": "fake alarm"},
	{"role": "user", "content": "read \u2067isolated\u2069 text"}]}'
jq -cn --arg q "$request" '{kind: "exchange", data: {seq: 1,
	path: "/v1/chat/completions", status: 200},
	exchange: {path: "/v1/chat/completions", request: $q,
	response: "{\"choices\": [{\"message\": {\"content\": \"ok\"}}]}"}}' \
	>>"$d/spec"
run_finish "$d"
forge "$d/b.rb" "$d/spec"
report_render "$d/b.rb" "$TMP/r.html" 2

expect_grep 'secret one' "$TMP/dom.html"
grep -o '<div class="msg[^"]*"' "$TMP/dom.html" >"$TMP/classes"
expect_eq 4 "$(wc -l <"$TMP/classes")" "messages shown"
if grep -v -e '"msg"' -e '"msg assistant"' "$TMP/classes"; then
	fail "a role from the request became a class"
fi

# The rendered page keeps no override or isolate and shows where each
# one was. Only the embedded data, which is never rendered, has them.
grep -v '^<script type="application/json"' "$TMP/dom.html" >"$TMP/shown"
for control in '\342\200\252' '\342\200\256' '\342\201\246' '\342\201\251'; do
	if grep -q "$(printf "$control")" "$TMP/shown"; then
		fail "the page shows the bidirectional control '$control'"
	fi
done
expect_grep "evil$(printf '\357\277\275')txt.exe" "$TMP/shown"
expect_grep "read $(printf '\357\277\275')isolated" "$TMP/shown"
exit 0
