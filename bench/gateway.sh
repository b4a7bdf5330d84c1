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
#   each wrk run, 10), STREAMS (SSE streams, 40) and ROUNDS (rounds of
#   the latency runs, direct and gateway interleaved, 3) change the
#   size.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
runbundle=${1:-$root/build/runbundle}
python=/usr/bin/python3
client="$python $root/bench/gateway_client.py"
streams=${STREAMS:-40}
duration=${DURATION:-10}
rounds=${ROUNDS:-3}
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
# The gateway injects a key, as a recording's does, so that the masking
# of the key in what it relays is timed too.
BENCH_API_KEY=bench-key-not-a-secret-0123456789
export BENCH_API_KEY
"$runbundle" gateway --upstream test="$up" --auth test=BENCH_API_KEY \
	--record "$tmp/rec.jsonl" \
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

# keep NAME VALUE: add VALUE to the values of NAME, one per round.
keep() {
	echo "$2" >>"$tmp/v.$1"
}

# small: one round of small requests, directly and through the gateway,
# kept as small.d50, small.g50, small.a50 (the added time) and so on.
small() {
	set -- $(latency "$up/echo")
	keep small.d50 "$1"
	keep small.d99 "$2"
	t0=$(cpu_ticks "$gw_pid")
	set -- $(latency "$gw/echo")
	t1=$(cpu_ticks "$gw_pid")
	keep small.g50 "$1"
	keep small.g99 "$2"
	keep small.a50 "$(($1 - $(tail -n 1 "$tmp/v.small.d50")))"
	keep small.a99 "$(($2 - $(tail -n 1 "$tmp/v.small.d99")))"
	keep cpu "$(((t1 - t0) * 1000000 / $(getconf CLK_TCK) / $3))"
}

# sse MODE: one round of SSE streams, directly and through the gateway,
# each on a new connection (sse) or all on one (sse-keep-alive). Kept
# under the name in $mode: $mode.d1 to $mode.d4 directly (first event
# p50 and p99, event delay p50 and p99), .g1 to .g4 through the gateway
# and .a1 to .a4 added.
sse() {
	path="/slow?events=20&delay_ms=5&stamp=1"
	set -- $($client "$1" "$up$path" "$streams") \
		$($client "$1" "$gw$path" "$streams")
	for k in 1 2 3 4; do
		eval "d=\${$k} g=\${$((k + 4))}"
		keep "$mode.d$k" "$d"
		keep "$mode.g$k" "$g"
		keep "$mode.a$k" "$((g - d))"
	done
}

round=0
while [ "$round" -lt "$rounds" ]; do
	small
	mode=sse sse sse
	mode=keep sse sse-keep-alive
	round=$((round + 1))
done

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

# median NAME, spread NAME: the median of the kept values, and their
# range as "MIN to MAX".
median() {
	sort -n "$tmp/v.$1" |
		awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
spread() {
	sort -n "$tmp/v.$1" | awk 'NR == 1 { min = $1 } { max = $1 }
		END { print min " to " max }'
}

# row LABEL NAME N TARGET: the medians of NAME.dN and NAME.gN, the
# median and spread of NAME.aN, and the target for the added time.
row() {
	printf '| %s | %s | %s | %s | %s | %s |\n' "$1" "$(median "$2.d$3")" \
		"$(median "$2.g$3")" "$(median "$2.a$3")" \
		"$(spread "$2.a$3")" "$4"
}
echo "Medians of $rounds rounds; the spread is the range of the added time."
echo
echo "| us | direct | gateway | added | added, spread | target (added) |"
echo "|---|---:|---:|---:|---:|---:|"
printf '| %s | %s | %s | %s | %s | %s |\n' "small request (GET /echo), p50" \
	"$(median small.d50)" "$(median small.g50)" "$(median small.a50)" \
	"$(spread small.a50)" 200
printf '| %s | %s | %s | %s | %s | %s |\n' "small request (GET /echo), p99" \
	"$(median small.d99)" "$(median small.g99)" "$(median small.a99)" \
	"$(spread small.a99)" 2000
row "SSE first event, new connection, p50" sse 1 1000
row "SSE first event, new connection, p99" sse 2 1000
row "SSE first event, keep-alive, p50" keep 1 1000
row "SSE first event, keep-alive, p99" keep 2 1000
row "SSE event relay delay, new connection, p50" sse 3 1000
row "SSE event relay delay, new connection, p99" sse 4 1000
row "SSE event relay delay, keep-alive, p50" keep 3 1000
row "SSE event relay delay, keep-alive, p99" keep 4 1000
echo
echo "| replay, GET /binary?size=256, wrk -t2 -c8 | req/s | target |"
echo "|---|---:|---:|"
echo "| upstream.py directly | $direct_rate | |"
echo "| \`runbundle gateway --replay --timing fast\` | $replay_rate | 5,000 |"
echo
echo "gateway CPU time a small request (user + system, sink thread" \
	"included), median of $rounds rounds: $(median cpu) us" \
	"(spread $(spread cpu))"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
