#!/bin/sh
# An exchange whose request path is not UTF-8 is stored as {"base64": ...}
# in its event. log and inspect show the bytes that are not UTF-8 as
# \xHH, so inspect --json stays JSON that a strict parser reads.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/inspect/inspect_lib.sh"
forge=$1

make_tree "$TMP/w"
# "/v1/chat/completions\377" in base64.
b64=L3YxL2NoYXQvY29tcGxldGlvbnP/
{
	printf '{"snapshot": "%s", "at": "initial"}\n' "$TMP/w"
	printf '{"kind": "exchange", "data": {"seq": 1, "upstream": "script", '
	printf '"method": "POST", "path": {"base64": "%s"}, "status": 200, ' \
		"$b64"
	printf '"outcome": "complete", "duration_us": 1500}, "exchange": '
	printf '{"path": "/v1/chat/completions\377", "request": '
	printf '"{\\"model\\": \\"m\377\\"}", "response": "{}"}}\n'
	printf '{"snapshot": "%s", "at": "final"}\n' "$TMP/w"
	printf '{"finalize": true}\n'
} >"$TMP/spec"
"$forge" "$TMP/b.rb" "$TMP/spec" || fail "forge failed"

expect_status 0 "$RUNBUNDLE" log "$TMP/b.rb"
expect_grep ' exchange  *1 script POST /v1/chat/completions\\xff 200, ' \
	"$TMP/out"

expect_status 0 "$RUNBUNDLE" inspect --json "$TMP/b.rb"
expect_eq 'script /v1/chat/completions\xff' "$(/usr/bin/python3 -c '
import json, sys
summary = json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))
print(summary["model"]["by_endpoint"][0]["endpoint"])' "$TMP/out")" \
	"the endpoint in inspect --json"

# show --json gives the request body's model name, which is not UTF-8
# either, in base64, and report --json stays strict JSON.
strict_json() {
	/usr/bin/python3 -c 'import json, sys
json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))' "$1"
}
seq=$("$RUNBUNDLE" log --json "$TMP/b.rb" | jq -r '.. | objects |
	select(.kind? == "exchange") | .seq' | head -1)
[ -n "$seq" ] || fail "log --json has no exchange event"
expect_status 0 "$RUNBUNDLE" show --json "$TMP/b.rb" "$seq"
strict_json "$TMP/out" || fail "show --json is not strict JSON"
expect_eq bf8= "$(jq -r '.. | objects | .model? // empty | .base64' \
	"$TMP/out")" "the model name in base64"
expect_status 0 "$RUNBUNDLE" report --json -o "$TMP/r.html" "$TMP/b.rb"
strict_json "$TMP/out" || fail "report --json is not strict JSON"
/usr/bin/python3 -c 'open(__import__("sys").argv[1], "rb").read().decode()' \
	"$TMP/r.html" || fail "the HTML report is not UTF-8"
exit 0
