#!/bin/sh
# --max-response-body: an upstream that streams without end is cut at
# the limit. The agent gets an SSE "error" event after the last whole
# event, or a 502 when the Content-Length shows the size first, and the
# exchange keeps what was relayed, recorded as cut.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/harness/gateway_lib.sh"

limit=102400
start_upstream
start_gateway limit --upstream test="$UPSTREAM" --max-response-body 100K

# size=-1: the stream never ends.
set +e
curl -sS -N "$GATEWAY/test/stream?size=-1" >"$TMP/sse.out" 2>"$TMP/curl.err"
set -e
grep -q '^event: error$' "$TMP/sse.out" ||
	fail "no error event in the cut stream: $(tail -c 200 "$TMP/sse.out")"
"$PYTHON" - "$TMP/sse.out" "$limit" <<'PY' || fail "the cut stream is wrong"
import json, sys
data = open(sys.argv[1], "rb").read()
limit = int(sys.argv[2])
head, sep, event = data.partition(b"\n\nevent: error\n")
assert sep, data[-300:]
assert head.endswith(b"\n\n"), head[-300:]
assert len(head) <= limit, len(head)
assert len(head) > limit - 2048, len(head)
line = event.split(b"\n")[0]
assert line.startswith(b"data: "), line
err = json.loads(line[6:])["error"]
assert err["code"] == "upstream_response_too_large", err
assert err["details"]["limit_bytes"] == limit, err
PY

code=$(curl -sS -o "$TMP/bin.out" -w '%{http_code}' \
	"$GATEWAY/test/binary?size=1000000")
expect_eq 502 "$code" "the status of a body announced over the limit"
expect_eq upstream_response_too_large \
	"$(jq -r .error.code "$TMP/bin.out")" "the error code"

wait_records "$TMP/limit.jsonl" 2
stop_gateway "$GATEWAY_PID"
expect_eq upstream-cut "$($RECORDS field "$TMP/limit.jsonl" 1 outcome)" \
	"the outcome of the cut stream"
$RECORDS body "$TMP/limit.jsonl" 1 | cmp -s - "$TMP/sse.out" ||
	fail "the record differs from what the agent got"
expect_eq upstream-failed \
	"$($RECORDS field "$TMP/limit.jsonl" 2 outcome)" \
	"the outcome of the announced body"
grep -q "exchange 1 (GET /test/stream): upstream-cut: response body over \
the limit of $limit bytes" "$TMP/limit.err" ||
	fail "no message on stderr: $(cat "$TMP/limit.err")"

# runbundle record prints a warning on stderr, and keeps the exchange.
mkdir "$TMP/ws"
cd "$TMP/ws"
expect_status 0 "$RUNBUNDLE" record -o "$TMP/run.rb" --sandbox none \
	--max-response-body 100K --upstream openai="$UPSTREAM" -- \
	sh -c 'curl -sS -N "$OPENAI_BASE_URL/stream?size=-1" >/dev/null; true'
grep -q "warning: model request 1 failed: response body over the limit" \
	"$TMP/err" || fail "record said nothing: $(cat "$TMP/err")"
seq=$(sqlite3 "file:$TMP/run.rb?mode=ro" \
	"SELECT seq FROM events WHERE json_extract(event, '\$.kind') = \
'exchange'")
expect_status 0 "$RUNBUNDLE" show --json "$TMP/run.rb" "$seq"
expect_eq upstream-cut "$(jq -r .event.data.outcome "$TMP/out")" \
	"the recorded outcome"

# It warns of an upstream that refuses the connection too.
expect_status 0 "$RUNBUNDLE" record -o "$TMP/refused.rb" --sandbox none \
	--upstream openai=http://127.0.0.1:1 -- \
	sh -c 'curl -sS "$OPENAI_BASE_URL/v1/models" >/dev/null; true'
expect_grep "^runbundle: warning: model request 1 failed: upstream 'openai'" \
	"$TMP/err"

expect_status 2 "$RUNBUNDLE" record --max-response-body 10X -- true
grep -q "invalid --max-response-body: '10X'" "$TMP/err" ||
	fail "no usage error: $(cat "$TMP/err")"
exit 0
