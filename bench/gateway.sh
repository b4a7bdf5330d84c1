#!/bin/sh
# Model gateway overhead against talking to the test upstream directly:
# request latency, SSE time to first event and per-event delay, and
# replay throughput. Everything runs on loopback.
#
# usage: bench/gateway.sh [RUNBUNDLE]
#   RUNBUNDLE defaults to build/runbundle; needs wrk (scripts/setup
#   --bench) and /usr/bin/python3 with brotli.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
runbundle=${1:-$root/build/runbundle}
python=/usr/bin/python3
client="$python $root/bench/gateway_client.py"
streams=${STREAMS:-40}
duration=${DURATION:-10}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rbbench-gateway.XXXXXX")
pids=""

cleanup() {
	for pid in $pids; do
		kill "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

if [ ! -x "$runbundle" ]; then
	echo "bench: no runbundle at '$runbundle'" >&2
	exit 1
fi
command -v wrk >/dev/null || { echo "bench: wrk is missing" >&2; exit 1; }

wait_port() {
	while [ ! -s "$1" ]; do sleep 0.05; done
	cat "$1"
}

"$python" "$root/tests/harness/upstream.py" "$tmp/up.port" &
pids="$pids $!"
up=http://127.0.0.1:$(wait_port "$tmp/up.port")
"$runbundle" gateway --upstream test="$up" --record "$tmp/rec.jsonl" \
	--port-file "$tmp/gw.port" >/dev/null &
pids="$pids $!"
gw=http://127.0.0.1:$(wait_port "$tmp/gw.port")

echo "machine: $(nproc) cores, $(uname -r), $(date -u +%Y-%m-%dT%H:%MZ)"
echo
# us_of 89.00us|1.20ms|2.00s: the value in microseconds.
us_of() {
	echo "$1" | awk '/us$/ { printf "%d", $0 + 0 }
		/ms$/ { printf "%d", ($0 + 0) * 1000 }
		/[0-9]s$/ { printf "%d", ($0 + 0) * 1000000 }'
}

# latency URL: p50 and p99 in us of GET URL, one connection, from wrk.
latency() {
	wrk -t1 -c1 -d"${duration}s" --latency "$1" >"$tmp/wrk.out"
	p50=$(awk '$1 == "50%" { print $2 }' "$tmp/wrk.out")
	p99=$(awk '$1 == "99%" { print $2 }' "$tmp/wrk.out")
	echo "$(us_of "$p50") $(us_of "$p99")"
}

echo "small requests (wrk -t1 -c1 -d${duration}s --latency, GET /echo), us"
set -- $(latency "$up/echo")
d50=$1 d99=$2
set -- $(latency "$gw/echo")
g50=$1 g99=$2
printf '  %-10s p50 %6s  p99 %6s\n' direct "$d50" "$d99"
printf '  %-10s p50 %6s  p99 %6s\n' gateway "$g50" "$g99"
printf '  %-10s p50 %6s  p99 %6s\n' added "$((g50 - d50))" "$((g99 - d99))"

# sse MODE: the SSE timings directly and through the gateway, each
# stream on a new connection (sse) or all on one (sse-keep-alive).
sse() {
	mode=$1
	path="/slow?events=20&delay_ms=5&stamp=1"
	echo
	echo "SSE, $mode ($streams streams of 20 events 5 ms apart), us"
	set -- $($client "$mode" "$up$path" "$streams")
	d1=$1 d2=$2 d3=$3 d4=$4
	set -- $($client "$mode" "$gw$path" "$streams")
	row direct "$d1" "$d2" "$d3" "$d4"
	row gateway "$1" "$2" "$3" "$4"
	row added "$(($1 - d1))" "$(($2 - d2))" "$(($3 - d3))" "$(($4 - d4))"
}

row() {
	printf '  %-8s first event p50 %6s p99 %6s' "$1" "$2" "$3"
	printf '   each event p50 %5s p99 %5s\n' "$4" "$5"
}

sse sse
sse sse-keep-alive

# Replay: one recorded small exchange, repeated so that every request
# wrk sends has its own recording.
# wrk sends neither Accept nor User-Agent, so the recording has none.
curl -sS -H "Accept:" -H "User-Agent:" -o /dev/null "$gw/binary?size=256"
grep '"path":"/binary"' "$tmp/rec.jsonl" | tail -n 1 >"$tmp/one.jsonl"
$client replay-file "$tmp/one.jsonl" 400000 "$tmp/replay.jsonl"
"$runbundle" gateway --replay "$tmp/replay.jsonl" --timing fast \
	--port-file "$tmp/rp.port" >/dev/null 2>"$tmp/rp.err" &
pids="$pids $!"
rp=http://127.0.0.1:$(wait_port "$tmp/rp.port")

echo
echo "replay throughput (wrk -t2 -c8 -d${duration}s, GET /binary?size=256)"
rate() {
	wrk -t2 -c8 -d"${duration}s" "$1" | awk '/^Requests\/sec/ { print $2 }'
}
printf '  %-22s %10s req/s\n' "upstream.py directly" \
	"$(rate "$up/binary?size=256")"
printf '  %-22s %10s req/s\n' "replaying gateway" \
	"$(rate "$rp/binary?size=256")"
