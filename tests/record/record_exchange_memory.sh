#!/bin/sh
# One long response through the gateway: the recording keeps its
# chunks and then their JSON text, without further copies, so its peak
# memory stays within 4.5 times the response. Every byte is still stored.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/record/record_lib.sh"
. "$TESTS_DIR/harness/gateway_lib.sh"

# AddressSanitizer's quarantine would be the peak, not runbundle.
skip_if_sanitized "$RB" \
	"the sanitizer's quarantine would dominate the peak memory"

mkdir "$TMP/ws"
cd "$TMP/ws"
start_upstream
upstream=$UPSTREAM

# 64 MiB, of which the JSON text is 85 MiB in base64.
size=67108864
peak=$(/usr/bin/python3 - "$RB" "$TMP/run.rb" "$upstream" "$size" \
	"$TMP/err" "$TMP/got" <<'PY'
import os, resource, subprocess, sys
rb, bundle, upstream, size, err, got = sys.argv[1:7]
agent = 'curl -sS "$OPENAI_BASE_URL/binary?size=%s" | wc -c >"%s"' % (
    size, got)
# MALLOC_PERTURB_ fills every allocation, so the pages of a buffer
# reserved for the worst case, such as zstd's bound, would count whole.
env = dict(os.environ)
env.pop("MALLOC_PERTURB_", None)
with open(err, "wb") as e:
    p = subprocess.run([rb, "record", "-o", bundle, "--sandbox", "none",
                        "--upstream", "openai=" + upstream, "--",
                        "sh", "-c", agent],
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=e, env=env)
if p.returncode != 0:
    sys.exit("record: exit status %d" % p.returncode)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
) || { cat "$TMP/err" >&2; fail "the recording failed"; }
expect_eq "$size" "$(cat "$TMP/got")" "the bytes the agent got"
bundle=$TMP/run.rb
status=0
expect_recorded 0

# The response is 65536 KiB. The chunks, a cJSON string for each, the
# printed text and a kept copy of it peaked at 5.6 times that (364 MB).
# The chunks, then the text, take 2.9 times (187 MB) alone. In one run
# beside other tests they took 3.9 times (252 MB), for a reason not
# found yet. A limit of 4.5 times tells the old code from the new.
limit=$((9 * size / 2048))
[ "$peak" -lt "$limit" ] ||
	fail "peak memory of $peak KiB for a $((size / 1024)) KiB response"

seq=$(/usr/bin/python3 - "$bundle" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
for (seq, text) in db.execute("SELECT seq, event FROM events"):
    if json.loads(text)["kind"] == "exchange":
        print(seq)
PY
)
expect_status 0 "$RUNBUNDLE" show --json "$bundle" "$seq"
expect_eq "($size bytes of binary data)" \
	"$(jq -r .exchange.response.body "$TMP/out")" "the response stored"
exit 0
