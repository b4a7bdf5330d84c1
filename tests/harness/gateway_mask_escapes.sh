#!/bin/sh
# An upstream that echoes the injected key inside a JSON string, with
# any of its characters escaped: "\/", "\"", "\\", "\u002f" in either
# case, a surrogate pair, or percent-encoded in part or in lower case.
# The agent must get the key in no spelling, whole or sent one byte a
# piece, and the record must not contain it.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/harness/gateway_lib.sh"

# Every character that JSON may escape in its own way: '/', '"', '\',
# one outside ASCII and one outside the Basic Multilingual Plane.
export KEY_CANARY='canary/esc"aped\key+é😀-4b9d27e1'
# Only characters that JSON needs no escape for, which an encoder that
# escapes everything still writes as "\u00XX".
export PLAIN_CANARY=canary-plain-key-0c5e81a7

"$PYTHON" "$TESTS_DIR/harness/mask_upstream.py" "$TMP/mask.port" \
	2>"$TMP/mask.err" &
SERVER_PIDS="$SERVER_PIDS $!"
MASK=http://127.0.0.1:$(wait_port "$TMP/mask.port")
start_gateway rec --upstream keyed="$MASK" --auth keyed=KEY_CANARY \
	--upstream plain="$MASK" --auth plain=PLAIN_CANARY

# check NAME: fail unless $TMP/NAME.body is the echo with its value all
# mask, and the key in no spelling in it.
check() {
	"$PYTHON" - "$TMP/$1.body" <<'PY' ||
import json, os, re, sys
body = open(sys.argv[1], "rb").read()
keys = [os.environ["KEY_CANARY"], os.environ["PLAIN_CANARY"]]
echo = json.loads(body)["echo"]
if any(key.encode() in body or key in echo for key in keys) or \
        not re.fullmatch(r"\[REDACTED\]\**", echo):
    print("got %r" % body, file=sys.stderr)
    sys.exit(1)
PY
		fail "the key reached the agent in '$1'"
}

n=0
for upstream in keyed plain; do
	for form in short lower upper mixed ascii quote pct-lower; do
		for split in whole bytes; do
			name=$upstream-$form-$split
			url="$GATEWAY/$upstream/json-escaped?form=$form"
			curl -s -o "$TMP/$name.body" "$url&split=$split" ||
				fail "cannot fetch '$form' from '$upstream'"
			check "$name"
			n=$((n + 1))
		done
	done
done

wait_records "$TMP/rec.jsonl" "$n"
stop_gateway "$GATEWAY_PID"
if grep -qF "$KEY_CANARY" "$TMP/rec.err"; then
	fail "the key reached the gateway's log"
fi
"$PYTHON" - "$TMP/rec.jsonl" <<'PY' || fail "the record holds the key"
import base64, json, os, re, sys
keys = [os.environ["KEY_CANARY"], os.environ["PLAIN_CANARY"]]
found = False
for line in open(sys.argv[1]):
    exchange = json.loads(line)
    body = b"".join(base64.b64decode(c["data"])
                    for c in exchange["response"]["chunks"])
    echo = json.loads(body)["echo"]
    if any(key in line or key in echo for key in keys) or \
            not re.fullmatch(r"\[REDACTED\]\**", echo):
        print("key in exchange %d (%s): %r" % (exchange["seq"],
              exchange["request"]["path"], body), file=sys.stderr)
        found = True
sys.exit(1 if found else 0)
PY
