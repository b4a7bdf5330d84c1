#!/bin/sh
# Replay matching: identical requests are served in recorded order,
# requests arriving out of order find their own recording, volatile
# values still match, and a divergence is reported with the exact JSON
# paths, then stopped, served the closest recording, or forwarded.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/harness/gateway_lib.sh"

# chat CONTENT2 [EXTRA]: a conversation of three messages whose last
# content is CONTENT2, with EXTRA members added to the request.
system='{"role":"system","content":"You are terse."}'
first='{"role":"user","content":"first"}'
chat() {
	printf '{"model":"m","messages":[%s,%s,'\
'{"role":"user","content":"%s"}]%s}' "$system" "$first" "$1" "${2:+,$2}"
}
uuid1=0c8e4a6e-3b1f-4c2a-9d0e-5f6a7b8c9d0e
uuid2=9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d
volatile='"metadata":{"user_id":"session_'$uuid1'","x-trace":"plain"}'
volatile2='"metadata":{"user_id":"session_'$uuid2'","x-trace":"plain"}'

start_upstream
start_gateway rec --upstream test="$UPSTREAM"
for i in 1 2 3; do
	post "$GATEWAY/v1/chat/completions" "$(chat same)" >"$TMP/rec.same.$i"
done
post "$GATEWAY/v1/chat/completions" "$(chat alpha)" >"$TMP/rec.alpha"
post "$GATEWAY/v1/chat/completions" "$(chat beta)" >"$TMP/rec.beta"
post "$GATEWAY/v1/chat/completions" "$(chat vol "$volatile")" \
	>"$TMP/rec.vol"
stop_gateway "$GATEWAY_PID"
expect_eq 6 "$($RECORDS count "$TMP/rec.jsonl")" "recorded exchanges"
cmp -s "$TMP/rec.same.1" "$TMP/rec.same.2" &&
	fail "the upstream gave identical requests identical answers"

start_gateway replay --replay "$TMP/rec.jsonl" --timing fast \
	--divergences "$TMP/div.jsonl"
PLAY=$GATEWAY PLAY_PID=$GATEWAY_PID

# The Nth identical request gets the Nth response.
for i in 1 2 3; do
	post "$PLAY/v1/chat/completions" "$(chat same)" >"$TMP/play.same.$i"
	cmp "$TMP/rec.same.$i" "$TMP/play.same.$i" ||
		fail "identical request $i got another response"
done
# Out of order, and at the same time.
post "$PLAY/v1/chat/completions" "$(chat beta)" >"$TMP/play.beta" &
beta=$!
post "$PLAY/v1/chat/completions" "$(chat alpha)" >"$TMP/play.alpha"
wait "$beta"
cmp "$TMP/rec.alpha" "$TMP/play.alpha" || fail "alpha got another response"
cmp "$TMP/rec.beta" "$TMP/play.beta" || fail "beta got another response"
# Another session UUID is a volatile difference only.
post "$PLAY/v1/chat/completions" "$(chat vol "$volatile2")" >"$TMP/play.vol"
cmp "$TMP/rec.vol" "$TMP/play.vol" ||
	fail "a request differing in a UUID was not served its recording"

# Divergences: a changed message, a key that is not an identifier, a
# conversation that grew by one message, and a message that is not
# UTF-8, which the reports give in base64 so that they stay strict JSON.
code=$(post "$PLAY/v1/chat/completions" "$(chat gamma)" -o "$TMP/div1" \
	-w '%{http_code}')
expect_eq 400 "$code" "status for a diverged request"
expect_grep '"code":"replay_diverged"' "$TMP/div1"
post "$PLAY/v1/chat/completions" \
	"$(chat vol "$(echo "$volatile2" | sed 's/plain/other/')")" \
	-o /dev/null
same='{"role":"user","content":"same"}'
more='{"role":"user","content":"more"}'
post "$PLAY/v1/chat/completions" \
	"{\"model\":\"m\",\"messages\":[$system,$first,$same,$more]}" \
	-o /dev/null
post "$PLAY/v1/chat/completions" "$(chat "$(printf 'g\377\375')")" \
	-o "$TMP/div4"
post "$PLAY/v1/chat/completions" "$(chat same "$(printf '"k\377":1')")" \
	-o /dev/null
# A request that repeats one served already, once more than recorded.
post "$PLAY/v1/chat/completions" "$(chat alpha)" -o /dev/null
stop_gateway "$PLAY_PID" 1
"$PYTHON" -c 'import json, sys
json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))' "$TMP/div4" ||
	fail "the answer to a request that is not UTF-8 is not strict JSON"

"$PYTHON" - "$TMP/div.jsonl" <<'PY' || fail "divergence reports are wrong"
import base64, json, sys
reports = [json.loads(line.decode("utf-8"))
           for line in open(sys.argv[1], "rb")]
assert len(reports) == 6, reports

def divergent(report):
    return [d["path"] for d in report["differences"]
            if d["class"] == "divergent"]

first, second, third, fourth, fifth, sixth = reports
assert first["verdict"] == "diverged", first
assert first["request"]["path"] == "/v1/chat/completions", first
assert divergent(first) == ["messages[2].content"], first
diff = [d for d in first["differences"]
        if d["path"] == "messages[2].content"][0]
assert diff["live"] == "gamma", diff
assert diff["recorded"] in ("alpha", "beta", "same", "vol"), diff
assert first["closest"]["common_prefix"] == 2, first

assert divergent(second) == ['metadata["x-trace"]'], second
assert second["closest"]["seq"] == 6, second
volatile = [d["path"] for d in second["differences"]
            if d["class"] == "volatile"]
assert volatile == ["metadata.user_id"], second

assert divergent(third) == ["messages[3]"], third
assert third["closest"]["common_prefix"] == 3, third
assert [d for d in third["differences"]
        if d["path"] == "messages[3]"][0].get("recorded") is None, third

diff = [d for d in fourth["differences"]
        if d["path"] == "messages[2].content"][0]
assert "live" not in diff, diff
assert base64.b64decode(diff["live_base64"]) == b'"g\xff\xfd"', diff

diff = [d for d in fifth["differences"] if "path_base64" in d][0]
assert base64.b64decode(diff["path_base64"]) == b'["k\xff"]', diff

assert sixth["closest"] == {"seq": 4, "common_prefix": 3, "used": True}, sixth
assert sixth["differences"] == [], sixth
PY
expect_grep 'exchange 4, served to an earlier request already$' \
	"$TMP/replay.err"
expect_grep "replay diverged: 'POST /v1/chat/completions'" "$TMP/replay.err"
expect_grep '^  divergent messages\[2\].content$' "$TMP/replay.err"
expect_grep '^  divergent \["k?"\]$' "$TMP/replay.err"

# --on-divergence closest serves the closest recording.
start_gateway closest --replay "$TMP/rec.jsonl" --timing fast \
	--on-divergence closest
post "$GATEWAY/v1/chat/completions" "$(chat alphx)" >"$TMP/closest"
# beta twice: the first is served its recording, and the second, whose
# closest recording is that one, used up, is served it again.
post "$GATEWAY/v1/chat/completions" "$(chat beta)" >"$TMP/closest.beta.1"
post "$GATEWAY/v1/chat/completions" "$(chat beta)" >"$TMP/closest.beta.2"
stop_gateway "$GATEWAY_PID" 1
for i in 1 2; do
	cmp "$TMP/rec.beta" "$TMP/closest.beta.$i" ||
		fail "beta request $i was not served beta's recording"
done
# Every recording shares the first two messages; the earliest wins.
expect_grep 'closest recording is exchange 1$' "$TMP/closest.err"
cmp "$TMP/rec.same.1" "$TMP/closest" ||
	fail "the closest recording was not served"

# --on-divergence forward sends the request upstream and records it.
start_gateway forward --replay "$TMP/rec.jsonl" --timing fast \
	--on-divergence forward --upstream test="$UPSTREAM"
post "$GATEWAY/v1/chat/completions" "$(chat new)" >"$TMP/forward"
stop_gateway "$GATEWAY_PID" 1
expect_grep '"request_number"' "$TMP/forward"
expect_eq test "$($RECORDS field "$TMP/forward.jsonl" 1 upstream)" \
	"upstream of the forwarded request"

# A stored header that cannot be sent, as only an edited record has,
# gets a 502 that names it, and the gateway keeps serving.
"$PYTHON" - "$TMP/rec.jsonl" "$TMP/edited.jsonl" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
first = json.loads(lines[0])
first["response"]["headers"].append(["X-Edited", "a\nb"])
open(sys.argv[2], "w").write("\n".join([json.dumps(first)] + lines[1:])
                             + "\n")
PY
start_gateway served --replay "$TMP/edited.jsonl" --timing fast
code=$(curl -sS -o "$TMP/edited.body" -w '%{http_code}' \
	-H 'Content-Type: application/json' --data-binary "$(chat same)" \
	"$GATEWAY/v1/chat/completions") || fail "no reply to the edited record"
expect_eq 502 "$code" "status of an edited record"
expect_grep '"code":"recording_invalid"' "$TMP/edited.body"
expect_grep "cannot be sent: 'X-Edited'" "$TMP/edited.body"
post "$GATEWAY/v1/chat/completions" "$(chat same)" >"$TMP/edited.2"
cmp "$TMP/rec.same.2" "$TMP/edited.2" ||
	fail "the recording after the edited one was not served"
stop_gateway "$GATEWAY_PID"
expect_eq upstream-failed "$($RECORDS field "$TMP/served.jsonl" 1 outcome)" \
	"outcome of the edited record's exchange"

# An empty recording is still a replay: a request diverges, even with an
# upstream given, instead of going out to it.
: >"$TMP/empty.jsonl"
start_gateway empty --replay "$TMP/empty.jsonl" --timing fast \
	--upstream test="$UPSTREAM"
code=$(curl -sS -o "$TMP/empty.body" -w '%{http_code}' \
	-H 'Content-Type: application/json' --data-binary "$(chat same)" \
	"$GATEWAY/v1/chat/completions") || fail "no reply from an empty replay"
stop_gateway "$GATEWAY_PID" 1
expect_eq 400 "$code" "status of a request to an empty replay"
expect_grep '"code":"replay_diverged"' "$TMP/empty.body"
