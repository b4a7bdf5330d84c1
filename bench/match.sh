#!/bin/sh
# bench/match.sh - the cost of replay matching, and canonical JSON
# against jq and Python.
#
# usage: bench/match.sh [BUILD_DIR]
#
# Runs bench/match_bench for 200 conversations of up to 40 messages.
# Then it prints a markdown table of the find rate for 10, 1,000 and
# 100,000 recorded single-message requests (SIZES overrides the list),
# which shows whether the rate falls with the size of the recording.
# Last, it canonicalizes the largest request body 200 times with
# "jq -cS ." (one process reading 200 copies) and with Python's json
# module (sort_keys, compact separators), the peers for step 3 of
# matching.
set -eu

BUILD=${1:-build}
BENCH=$BUILD/bench/match_bench
PY=/usr/bin/python3
[ -x "$BENCH" ] || { echo "bench: no match_bench in '$BUILD'" >&2; exit 1; }
command -v jq >/dev/null || { echo "bench: jq is missing" >&2; exit 1; }

W=$(mktemp -d "${TMPDIR:-/tmp}/rbbench-match.XXXXXX")
trap 'rm -rf "$W"' EXIT

echo "== 200 conversations of up to 40 messages"
"$BENCH" 200 40 "$W/largest.json"

echo
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| recordings | finds | CPU s | requests/s | matcher_new ms a recording |"
echo "|---:|---:|---:|---:|---:|"
for n in ${SIZES:-10 1000 100000}; do
	MATCH_BENCH_NO_SCRIPT=1 MATCH_BENCH_ONE=1 "$BENCH" "$n" 1 >"$W/n.out"
	awk -v n="$n" '
		/^matcher_new/ { build = $4 }
		/^find, 1 thread/ { found = $4; secs = $6; rate = $8 }
		END { printf "| %s | %s | %s | %s | %s |\n", n, found, secs,
			rate, build }' "$W/n.out"
done
echo

size=$(wc -c <"$W/largest.json")
i=0
while [ $i -lt 200 ]; do
	cat "$W/largest.json"
	echo
	i=$((i + 1))
done >"$W/stream.json"
echo "== canonical JSON of one $size-byte body, 200 times"
start=$(date +%s.%N)
jq -cS . "$W/stream.json" >/dev/null
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" -v n="$size" 'BEGIN {
	printf "jq -cS: %.0f bodies/s, %.1f MB/s (wall clock, one process)\n",
		200 / (e - s), 200 * n / (e - s) / 1e6 }'

"$PY" - "$W/largest.json" <<'PYEOF'
import json, sys, time
text = open(sys.argv[1], "rb").read()
start = time.process_time()
for _ in range(200):
    json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))
seconds = time.process_time() - start
print("python json: %.0f bodies/s, %.1f MB/s" %
      (200 / seconds, 200 * len(text) / seconds / 1e6))
PYEOF
