#!/bin/sh
# Model gateway overhead against talking to the test upstream directly:
# request latency, SSE time to first event and per-event delay, and
# replay throughput. Everything runs on loopback. Prints one markdown
# table with each target beside its figure, and the gateway's CPU time
# a request, which other load on the machine disturbs less than
# latency.
#
# usage: bench/gateway.sh [RUNBUNDLE]
#   RUNBUNDLE defaults to build/runbundle; needs wrk (scripts/setup
#   --bench) and /usr/bin/python3 with brotli. DURATION (seconds of
#   each wrk run, 10) and STREAMS (SSE streams, 40) change the size.
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
	--port-file "$tmp/gw.port" >/dev/null 2>"$tmp/gw.err" &
gw_pid=$!
pids="$pids $gw_pid"
gw=http://127.0.0.1:$(wait_port "$tmp/gw.port")

echo "machine: $(nproc) cores, $(uname -r), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

# us_of 89.00us|1.20ms|2.00s: the value in microseconds.
us_of() {
	echo "$1" | awk '/us$/ { printf "%d", $0 + 0 }
		/ms$/ { printf "%d", ($0 + 0) * 1000 }
		/[0-9]s$/ { printf "%d", ($0 + 0) * 1000000 }'
}

# cpu_ticks PID: user plus system clock ticks of the process so far.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# latency URL: p50 and p99 in us of GET URL on one connection, and the
# number of requests, from wrk --latency.
latency() {
	wrk -t1 -c1 -d"${duration}s" --latency "$1" >"$tmp/wrk.out"
	p50=$(awk '$1 == "50%" { print $2 }' "$tmp/wrk.out")
	p99=$(awk '$1 == "99%" { print $2 }' "$tmp/wrk.out")
	n=$(awk '/requests in/ { print $1 }' "$tmp/wrk.out")
	echo "$(us_of "$p50") $(us_of "$p99") $n"
}

set -- $(latency "$up/echo")
d50=$1 d99=$2
ticks=$(cpu_ticks "$gw_pid")
set -- $(latency "$gw/echo")
g50=$1 g99=$2 requests=$3
ticks=$(($(cpu_ticks "$gw_pid") - ticks))
hz=$(getconf CLK_TCK)
cpu_us=$((ticks * 1000000 / hz / requests))

# sse MODE: the SSE timings directly and through the gateway, each
# stream on a new connection (sse) or all on one (sse-keep-alive):
# "first-p50 first-p99 event-p50 event-p99" for each, in that order.
sse() {
	path="/slow?events=20&delay_ms=5&stamp=1"
	echo $($client "$1" "$up$path" "$streams") \
		$($client "$1" "$gw$path" "$streams")
}
set -- $(sse sse)
n1=$1 n2=$2 n3=$3 n4=$4 n5=$5 n6=$6 n7=$7 n8=$8
set -- $(sse sse-keep-alive)
k1=$1 k2=$2 k3=$3 k4=$4 k5=$5 k6=$6 k7=$7 k8=$8

# Replay: one recorded small exchange, repeated so that every request
# wrk sends has its own recording.
# wrk sends neither Accept nor User-Agent, so the recording has none.
curl -sS -H "Accept:" -H "User-Agent:" -o /dev/null "$gw/binary?size=256"
sleep 0.2
grep '"path":"/binary"' "$tmp/rec.jsonl" | tail -n 1 >"$tmp/one.jsonl"
$client replay-file "$tmp/one.jsonl" 400000 "$tmp/replay.jsonl"
"$runbundle" gateway --replay "$tmp/replay.jsonl" --timing fast \
	--port-file "$tmp/rp.port" >/dev/null 2>"$tmp/rp.err" &
pids="$pids $!"
rp=http://127.0.0.1:$(wait_port "$tmp/rp.port")

# rate URL: requests a second of wrk -t2 -c8 on URL.
rate() {
	wrk -t2 -c8 -d"${duration}s" "$1" | awk '/^Requests\/sec/ { print $2 }'
}
direct_rate=$(rate "$up/binary?size=256")
replay_rate=$(rate "$rp/binary?size=256")

# row NAME DIRECT GATEWAY TARGET: a table row with the added time.
row() {
	printf '| %s | %s | %s | %s | %s |\n' "$1" "$2" "$3" "$(($3 - $2))" "$4"
}
echo "| us | direct | gateway | added | target (added) |"
echo "|---|---:|---:|---:|---:|"
row "small request (GET /echo), p50" "$d50" "$g50" 200
row "small request (GET /echo), p99" "$d99" "$g99" 2000
row "SSE first event, new connection, p50" "$n1" "$n5" 1000
row "SSE first event, new connection, p99" "$n2" "$n6" 1000
row "SSE first event, keep-alive, p50" "$k1" "$k5" 1000
row "SSE first event, keep-alive, p99" "$k2" "$k6" 1000
row "SSE event relay delay, new connection, p50" "$n3" "$n7" 1000
row "SSE event relay delay, new connection, p99" "$n4" "$n8" 1000
row "SSE event relay delay, keep-alive, p50" "$k3" "$k7" 1000
row "SSE event relay delay, keep-alive, p99" "$k4" "$k8" 1000
echo
echo "| replay, GET /binary?size=256, wrk -t2 -c8 | req/s | target |"
echo "|---|---:|---:|"
echo "| upstream.py directly | $direct_rate | |"
echo "| \`runbundle gateway --replay --timing fast\` | $replay_rate | 5,000 |"
echo
echo "gateway CPU time a small request (user + system, sink thread" \
	"included): $cpu_us us over $requests requests"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
