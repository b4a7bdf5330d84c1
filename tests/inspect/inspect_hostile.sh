#!/bin/sh
# Every inspect command on hostile, damaged and incomplete bundles. Each
# prints what it can or a clear error and exits 0, 1 or 3. None crashes,
# which the sanitizer build turns into an abort on any memory error, and
# none echoes a control character from the bundle.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/inspect/inspect_lib.sh"
forge=$1

make_tree "$TMP/w"
cat >"$TMP/spec" <<JSON
{"snapshot": "$TMP/w", "at": "initial"}
{"kind": "exchange", "data": {"seq": "x", "path": 5}, "exchange": \
{"path": "/v1/chat/completions", "request": "not json", "response": \
"data: {\"choices\": 7}\n\ndata: {\"choices\": [{\"delta\": \
{\"tool_calls\": [{\"index\": 1e300}, {\"index\": -5, \"function\": \
{\"arguments\": 3}}]}}]}\n\ndata: [DONE]\n", "status": 200}}
{"kind": "exchange", "exchange": {"path": "/v1/messages", "request": "{}", \
"response": "{\"content\": [{\"type\": \"tool_use\"}, {\"type\": \"text\", \
\"text\": 4}], \"usage\": []}", "status": 500}}
{"kind": "exchange", "exchange": {"path": "/v1/responses", "response": \
"event: x\ndata: {\"type\": \"response.function_call_arguments.delta\", \
\"delta\": \"\\\\u001b[31mred\"}\ndata: {\"type\": \"response.completed\", \
\"response\": {\"usage\": {\"input_tokens\": -1}}}\n", "status": 200}}
{"kind": "exec", "data": {"argv": [1, null, {"a": 1}], "index": "z", \
"path": "\u001b[31m/bin/evil"}}
{"kind": "violation", "data": {"source": "seccomp", "syscall": ["x"]}}
{"kind": "process-end", "data": []}
{"kind": "end\u001b[31m", "data": 5}
{"kind": "output", "data": {"chunks": [[1, "x"], 5]}}
{"snapshot": "$TMP/w", "at": "final"}
{"finalize": true}
JSON
"$forge" "$TMP/h.rb" "$TMP/spec" || fail "forge failed"

esc=$(printf '\033')
check() {
	for cmd in "inspect" "inspect --json" "log" "log --json" "show 2" \
		"show --json 3" "show 4" "show 5" "show 9" "patch" "ls -r" \
		"ls --json"; do
		# The words of cmd are split on purpose.
		# shellcheck disable=SC2086
		set +e
		"$RUNBUNDLE" $cmd "$1" >"$TMP/out" 2>"$TMP/err"
		got=$?
		set -e
		case "$got" in
		0|1|3) ;;
		*) cat "$TMP/err" >&2; fail "$cmd on $2: exit status $got" ;;
		esac
		if grep -q "$esc" "$TMP/out" "$TMP/err"; then
			fail "$cmd on $2 printed a control character"
		fi
		if [ "$got" = 3 ] && ! grep -q '^runbundle: ' "$TMP/err"; then
			fail "$cmd on $2 failed without a message"
		fi
	done
}
check "$TMP/h.rb" "a hostile bundle"
expect_status 0 "$RUNBUNDLE" log "$TMP/h.rb"
expect_grep 'end?\[31m' "$TMP/out"
expect_status 0 "$RUNBUNDLE" inspect --json "$TMP/h.rb"
expect_eq '3 0' "$(jq -r '"\(.model.calls) \(.model.input_tokens)"' \
	"$TMP/out")" "the calls of the hostile exchanges"

# A workspace event that names no snapshot is refused by name.
printf '{"kind": "workspace", "data": {"at": "final", "snapshot": 1}}\n' \
	>"$TMP/spec2"
printf '{"kind": "note"}\n' >"$TMP/spec1"
cat "$TMP/spec1" "$TMP/spec2" >"$TMP/spec3"
"$forge" "$TMP/ws.rb" "$TMP/spec3" || fail "forge failed"
expect_status 3 "$RUNBUNDLE" inspect "$TMP/ws.rb"
expect_grep "^runbundle: .*'1'" "$TMP/err"
check "$TMP/ws.rb" "a bundle with a bad workspace event"

# A damaged object: the tree of the snapshot no longer hashes to its id.
expect_status 0 "$RUNBUNDLE" snapshot --finalize "$TMP/d.rb" "$TMP/w"
command -v sqlite3 >/dev/null || skip "sqlite3 is missing"
sqlite3 "$TMP/d.rb" "UPDATE objects SET data = zeroblob(length(data)),
	encoding = 'raw', size = length(data) WHERE kind = 'tree'"
check "$TMP/d.rb" "a damaged bundle"
expect_status 3 "$RUNBUNDLE" ls "$TMP/d.rb"
expect_grep '^runbundle: ' "$TMP/err"

# An incomplete bundle (no finalize) and files that are not bundles.
expect_status 0 "$RUNBUNDLE" snapshot "$TMP/i.rb" "$TMP/w"
expect_status 1 "$RUNBUNDLE" inspect "$TMP/i.rb"
expect_grep '^state       incomplete$' "$TMP/out"
expect_grep '^root        -$' "$TMP/out"
expect_status 0 "$RUNBUNDLE" inspect --allow-incomplete "$TMP/i.rb"
check "$TMP/i.rb" "an incomplete bundle"
head -c 20000 "$TMP/d.rb" >"$TMP/t.rb"
check "$TMP/t.rb" "a truncated bundle"
echo junk >"$TMP/j.rb"
check "$TMP/j.rb" "a file that is not a bundle"
check "$TMP/missing.rb" "a missing file"
expect_status 3 "$RUNBUNDLE" inspect "$TMP/missing.rb"

# Forged exit statuses: a value that wait(2) could not have reported is
# unknown alike in inspect, log and the report, and a valid one is shown
# as it is.
command -v jq >/dev/null || skip "jq is missing"
for code in 1e21 '"0"' 1.5 300 -1 3; do
	cat >"$TMP/spec-exit" <<JSON
{"kind": "record", "data": {"argv": ["agent"]}}
{"snapshot": "$TMP/w", "at": "initial"}
{"kind": "exec", "data": {"index": 0, "pid": 10, "path": "/bin/true", \
"argv": ["true"], "time_us": 1}}
{"kind": "process-end", "data": {"index": 0, "pid": 10, "ns_pid": 2, \
"end": "exited", "exit_code": $code}}
{"snapshot": "$TMP/w", "at": "final"}
{"kind": "end", "data": {"exit_code": $code, "duration_us": 5}}
{"finalize": true}
JSON
	rm -f "$TMP/exit.rb" "$TMP/exit.html"
	"$forge" "$TMP/exit.rb" "$TMP/spec-exit" || fail "forge failed"
	shown='?' text=unknown json=null
	if [ "$code" = 3 ]; then
		shown=3 text=3 json=3
	fi
	expect_status 0 "$RUNBUNDLE" inspect "$TMP/exit.rb"
	expect_grep "^exit  *$text\$" "$TMP/out"
	expect_status 0 "$RUNBUNDLE" inspect --json "$TMP/exit.rb"
	expect_eq "$json" "$(jq .run.exit_code "$TMP/out")" \
		"inspect's exit_code of $code"
	expect_status 0 "$RUNBUNDLE" log "$TMP/exit.rb"
	expect_grep " end  *agent exited [$shown] after 5 us\$" "$TMP/out"
	expect_grep " process-end  *\[0\] pid 2 exited [$shown]\$" "$TMP/out"
	expect_status 0 "$RUNBUNDLE" report --json -o "$TMP/exit.html" \
		"$TMP/exit.rb"
	expect_eq "$json" "$(jq '.data.steps[0].commands[0].exit_code' \
		"$TMP/out")" "the report's exit_code of $code"
done
exit 0
