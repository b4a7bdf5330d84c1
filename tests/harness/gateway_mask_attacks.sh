#!/bin/sh
# An upstream that hides the injected key where a first look misses it:
# behind a second Content-Encoding header, in a later gzip member or
# zstd frame, after the end of a compressed stream, in a header's name.
# The agent must never get the key, in any form it can decode, and the
# record must not hold it either. Responses without a body keep their
# status however they are labelled.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/harness/gateway_lib.sh"
command -v zstd >/dev/null || skip "zstd is missing"

export KEY_CANARY=canary-hidden-key-4b9d27e1
# The agent's own token, for an upstream without a key of the gateway's.
export AGENT_CANARY=canary-agent-token-9e1f0c

"$PYTHON" "$TESTS_DIR/harness/mask_upstream.py" "$TMP/mask.port" \
	2>"$TMP/mask.err" &
SERVER_PIDS="$SERVER_PIDS $!"
MASK=http://127.0.0.1:$(wait_port "$TMP/mask.port")
start_gateway rec --upstream keyed="$MASK" --auth keyed=KEY_CANARY \
	--upstream plain="$MASK"

# decoded FILE: FILE's bytes, with every gzip member and zstd frame
# decoded, as gzip -d and zstd -d read them.
decoded() {
	gzip -dc <"$1" 2>/dev/null || zstd -dqc <"$1" 2>/dev/null || cat "$1"
}

# no_key NAME: fail when the agent's copy of response NAME contains the
# key, as sent or decoded, in its head or body.
no_key() {
	if grep -qaF "$KEY_CANARY" "$TMP/$1.head" "$TMP/$1.body" ||
		decoded "$TMP/$1.body" | grep -qaF "$KEY_CANARY"; then
		fail "the key reached the agent in '$1'"
	fi
}

# fetch NAME PATH [CURL OPTION...]: fetch PATH into $TMP/NAME.head and
# $TMP/NAME.body, and print the status.
fetch() {
	_fetch_name=$1
	_fetch_path=$2
	shift 2
	curl -s -D "$TMP/$_fetch_name.head" -o "$TMP/$_fetch_name.body" \
		-w '%{http_code}' "$@" "$GATEWAY/$_fetch_path" || true
}

# 1: two Content-Encoding headers mean both codings. The first alone
# ("identity", or empty) would let the gzip body through unread.
for case in two-ce 'two-ce?first='; do
	fetch ce "$case" >/dev/null
	no_key ce
	curl -s --compressed "$GATEWAY/$case" >"$TMP/ce.client"
	if grep -qaF "$KEY_CANARY" "$TMP/ce.client"; then
		fail "curl --compressed decoded the key from '$case'"
	fi
done

# 2: a later gzip member and a later zstd frame are read too.
fetch member multi-member >/dev/null
no_key member
fetch frame multi-frame >/dev/null
no_key frame
curl -s --compressed "$GATEWAY/multi-frame" >"$TMP/frame.client"
if grep -qaF "$KEY_CANARY" "$TMP/frame.client"; then
	fail "curl --compressed decoded the key from a second zstd frame"
fi

# 3: bytes after the end of a gzip stream are not relayed unread.
fetch trailing trailing >/dev/null
no_key trailing

# 4: the key in a header's name, and split by a folded header line,
# which arrives joined by a tab that the agent could take out.
fetch name header-name >/dev/null
no_key name
fetch folded folded >/dev/null
if tr -d ' \t' <"$TMP/folded.head" | grep -qaF "$KEY_CANARY"; then
	fail "a folded header line handed the agent the key"
fi
expect_grep '^ok$' "$TMP/folded.body"

# 5: no body, so nothing to check: the status is the upstream's.
expect_eq 200 "$(fetch head head-gzip -I)" "HEAD with Content-Encoding"
expect_eq 304 "$(fetch nm not-modified)" "304 with Content-Encoding"
expect_eq 204 "$(fetch nc no-content)" "204 with Content-Encoding"
expect_eq 200 "$(fetch empty empty-gzip)" "empty body with Content-Encoding"

# 6: a transfer cut inside the key does not release the part that was
# held back.
fetch cut cut >/dev/null
if grep -qaF "$(printf %s "$KEY_CANARY" | cut -c1-20)" "$TMP/cut.body"; then
	fail "a cut transfer released a held-back prefix of the key"
fi

# 7: a small body that decodes to more than the check reads is not
# relayed, and the gateway's memory stays far below the decoded size.
expect_eq 502 "$(fetch bomb bomb)" "status of a compression bomb"
expect_grep 'over the limit' "$TMP/bomb.body"
rss=$(awk '/^VmHWM/ { print $2 }' "/proc/$GATEWAY_PID/status")
[ "$rss" -lt 400000 ] || fail "the gateway peaked at $rss KiB for a bomb"

# 8: a compressed body too large to read whole is not relayed either.
expect_eq 502 "$(fetch huge huge)" "status of a body too large to check"
expect_grep 'reads no more' "$TMP/huge.body"

# 9: the key as the Content-Encoding, which the decoder's error quotes,
# and a plain body under codings that undo nothing.
expect_eq 502 "$(fetch cekey ce-key)" "status of an unknown coding"
no_key cekey
expect_eq 200 "$(fetch identity ce-identity)" "status of identity codings"
no_key identity

# 10: the key where the decoder reads past it: a gzip comment and a
# zstd skippable frame.
fetch comment gz-comment >/dev/null
no_key comment
fetch skip zstd-skip >/dev/null
no_key skip

# 11: the key where masking it would break a checksum and hide a
# compressed copy from the record's decoder.
fetch hcrc gz-hcrc >/dev/null
no_key hcrc
fetch stored gz-stored >/dev/null
no_key stored

# 12: the agent's own token, echoed by an upstream without a key: the
# agent gets it back, the record never, neither from a body it decodes
# nor from one it cannot decode, which it then leaves out.
curl -s -H "Authorization: Bearer $AGENT_CANARY" "$GATEWAY/plain/gz-stored" |
	gzip -dc 2>/dev/null | grep -q "$AGENT_CANARY" ||
	fail "the agent did not get its own token back"
curl -s -o /dev/null -H "Authorization: Bearer $AGENT_CANARY" \
	"$GATEWAY/plain/bad-shown"

# 13: a compressed body whose transfer was cut reaches the agent cut,
# not as a whole response.
if curl -s -o /dev/null "$GATEWAY/gz-cut"; then
	fail "a cut compressed body reached the agent as complete"
fi

# 14: the key in base64, as in a Basic credential: masked in the copy
# that the agent decodes.
fetch b64 base64 >/dev/null
jq -r .basic "$TMP/b64.body" | base64 -d 2>/dev/null >"$TMP/b64.decoded" ||
	true
if grep -qaF "$KEY_CANARY" "$TMP/b64.decoded"; then
	fail "the key reached the agent in base64"
fi
grep -q '"basic": "dXNlcjpj' "$TMP/b64.body" ||
	fail "the masking took the start of the base64 text too"

stop_gateway "$GATEWAY_PID"
if grep -qF "$KEY_CANARY" "$TMP/rec.err"; then
	fail "the key reached the gateway's log"
fi
# 15: the record contains the key nowhere, with bodies decoded, and every
# header name in it is still a valid one, which a replay can serve.
"$PYTHON" - "$TMP/rec.jsonl" <<'PY' || fail "the record holds the key"
import base64, gzip, json, os, re, subprocess, sys, zlib
keys = [os.environ["KEY_CANARY"].encode(),
        os.environ["AGENT_CANARY"].encode()]
found = False
for line in open(sys.argv[1]):
    exchange = json.loads(line)
    for name, value in exchange["response"]["headers"]:
        if not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", name):
            print("invalid header name %r" % name, file=sys.stderr)
            found = True
        if any(key.decode() in re.sub(r"[ \t]", "", value)
               for key in keys):
            print("key split in header %r" % name, file=sys.stderr)
            found = True
    body = b"".join(base64.b64decode(c["data"])
                    for c in exchange["response"]["chunks"])
    forms = [line.encode(), body]
    for text in re.findall(rb"[A-Za-z0-9+/=]{16,}", body):
        try:
            forms.append(base64.b64decode(text + b"=="))
        except Exception:
            pass
    try:
        forms.append(gzip.decompress(body))
    except Exception:
        pass
    # Raw deflate from every offset of the head, whatever the checksums.
    for at in range(min(len(body), 64)):
        try:
            forms.append(zlib.decompressobj(-15).decompress(body[at:]))
        except Exception:
            pass
    unzstd = subprocess.run(["zstd", "-dqc"], input=body,
                            capture_output=True)
    if unzstd.returncode == 0:
        forms.append(unzstd.stdout)
    if any(key in form for form in forms for key in keys):
        print("key in exchange %d (%s)" % (exchange["seq"],
              exchange["request"]["path"]), file=sys.stderr)
        found = True
sys.exit(1 if found else 0)
PY
# 16: nor the part of the key that was held back when the transfer was
# cut (case 6). The record masks only whole keys, and a replay would
# serve that part to the agent.
held=$(printf %s "$KEY_CANARY" | cut -c1-20)
$RECORDS secrets "$TMP/rec.jsonl" "$held" >/dev/null ||
	fail "the record holds the part of the key held back at a cut"
grep -q '"x-runbundle-dropped-body"' "$TMP/rec.jsonl" ||
	fail "the record does not mark the body it left out"
