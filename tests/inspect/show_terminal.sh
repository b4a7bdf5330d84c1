#!/bin/sh
# show prints the bodies and the model's response of an exchange as text,
# keeping newlines and tabs. No ESC, C1 control or bidirectional override
# from the model name or the response text reaches the terminal.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/inspect/inspect_lib.sh"
forge=$1

make_tree "$TMP/w"
cat >"$TMP/spec" <<JSON
{"snapshot": "$TMP/w", "at": "initial"}
{"kind": "exchange", "exchange": {"path": "/v1/chat/completions", \
"request": "{\"model\": \"m\"}", "response": "{\"model\": \
\"m\\\\u001b]0;title\\\\u0007\", \"choices\": [{\"message\": {\"content\": \
\"line one\\\\n\\\\tline two \\\\u009b31m \\\\u202ereversed\"}}]}", \
"status": 200}}
{"snapshot": "$TMP/w", "at": "final"}
{"finalize": true}
JSON
"$forge" "$TMP/s.rb" "$TMP/spec" || fail "forge failed"

expect_status 0 "$RUNBUNDLE" show "$TMP/s.rb" 3
# The response gives no usage, so no token counts.
expect_grep "^answer      chat, model m?]0;title?, tokens in - out -$" \
	"$TMP/out"
expect_grep "^line one$" "$TMP/out"
expect_grep "^	line two ??31m ???reversed$" "$TMP/out"
for bad in '\033' '\007' '\302\233' '\342\200\256'; do
	if grep -q "$(printf "$bad")" "$TMP/out"; then
		fail "show printed the bytes '$bad' from the bundle"
	fi
done
