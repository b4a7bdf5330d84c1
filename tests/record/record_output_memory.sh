#!/bin/sh
# An agent that prints far faster than the bundle can store its output.
# runbundle waits for the writer instead of keeping the output in
# memory, so its peak memory does not grow with the output. Every byte
# is still stored.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/record/record_lib.sh"

# AddressSanitizer keeps freed memory in quarantine, 256 MiB by default,
# so the peak would measure the sanitizer, not runbundle.
skip_if_sanitized "$RB" \
	"the sanitizer's quarantine would dominate the peak memory"

ws=$TMP/ws
mkdir "$ws"
cd "$ws"

# Random bytes, which compress slowest, 256 MiB of them.
size=268435456
peak=$(/usr/bin/python3 - "$RB" "$TMP/run.rb" "$size" "$TMP/err" <<'PY'
import resource, subprocess, sys
rb, bundle, size, err = sys.argv[1:5]
with open(err, "wb") as e:
    p = subprocess.run([rb, "record", "-o", bundle, "--", "head", "-c",
                        size, "/dev/urandom"], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=e)
if p.returncode != 0:
    sys.exit("record: exit status %d" % p.returncode)
# The largest of the processes waited for, runbundle's among them.
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
) || { cat "$TMP/err" >&2; fail "the recording failed"; }
bundle=$TMP/run.rb
status=0
expect_recorded 0

# The output alone is 262144 KiB. The queue of output is 16 MiB at
# most, and the writer's compression buffers come on top: the peak was
# 40 to 66 MiB, the higher values on a busy machine. 100 MiB leaves room
# for that and still fails a recording that keeps the output.
[ "$peak" -lt 102400 ] ||
	fail "peak memory of $peak KiB for $((size / 1024)) KiB of output"

stored=$(/usr/bin/python3 - "$bundle" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
total = 0
for (text,) in db.execute("SELECT event FROM events"):
    e = json.loads(text)
    if e["kind"] == "output":
        total += sum(length for _, length in e["data"]["chunks"])
print(total)
PY
)
expect_eq "$size" "$stored" "the bytes of output stored"
