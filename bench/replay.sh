#!/bin/sh
# bench/replay.sh - the cost of "runbundle replay" against the recording
# it replays and against the agent run bare.
#
# usage: bench/replay.sh [RUNBUNDLE] [STEPS] [RUNS]
#
# The agent is a shell loop of STEPS (default 500) steps, each a trivial
# command and one request to a scripted model. It runs bare (against
# "runbundle gateway --model-script" on loopback, without sandbox or
# tracer), under "runbundle record", and as "runbundle replay
# --timing fast" of that recording. The modes alternate within each
# round, so that load from other work spreads over all of them. The
# script prints a markdown table of the median wall time and the median
# CPU time (user plus system, from /usr/bin/time) of RUNS rounds
# (default 3), per run and per step, with the ratios to the recording.
# The load average before and after comes first. The bare run's CPU
# time leaves out the gateway, which runs beside it as a separate
# process.
set -eu

RB=${1:-build/runbundle}
STEPS=${2:-500}
RUNS=${3:-3}
. "$(dirname "$0")/lib.sh"
bench_require curl jq /usr/bin/time
bench_runbundle

TOP=$(mktemp -d "${TMPDIR:-/tmp}/rbbench-replay.XXXXXX")
W=$TOP/ws
mkdir "$W" "$TOP/bundles" "$TOP/tmp"
gateway_pid=
trap '[ -z "$gateway_pid" ] || kill "$gateway_pid" 2>/dev/null
	rm -rf "$TOP"' EXIT
export TMPDIR=$TOP/tmp

cat >"$W/agent.sh" <<'SH'
#!/bin/sh
set -eu
i=0
while [ "$i" -lt "$STEPS" ]; do
	i=$((i + 1))
	out=$(sh -c 'echo "step $0"' "$i")
	curl -sS --fail-with-body -X POST -H 'Content-Type: application/json' \
		-d "{\"model\":\"m\",\"messages\":\
[{\"role\":\"user\",\"content\":\"$out\"}]}" \
		"$OPENAI_BASE_URL/chat/completions" >/dev/null
done
SH
# The step count reaches the agent as its argument in the sandbox.
sed -i 's/"\$STEPS"/"$1"/' "$W/agent.sh"
jq -n --argjson n "$STEPS" '{turns: [range($n) | {text: "ok"}]}' \
	>"$TOP/script.json"

# timed FILE COMMAND...: run COMMAND, append "WALL CPU" in seconds.
timed() {
	out=$1
	shift
	/usr/bin/time -f '%e %U %S' -o "$TOP/time" "$@"
	awk '{ printf "%s %.2f\n", $1, $2 + $3 }' "$TOP/time" >>"$out"
}

bare() {
	"$RB" gateway --model-script "$TOP/script.json" \
		--port-file "$TOP/port" >/dev/null 2>&1 &
	gateway_pid=$!
	while [ ! -s "$TOP/port" ]; do sleep 0.01; done
	url="http://127.0.0.1:$(cat "$TOP/port")/v1"
	(cd "$W" && export OPENAI_BASE_URL="$url" &&
		timed "$TOP/bare" sh ./agent.sh "$STEPS")
	kill "$gateway_pid"
	wait "$gateway_pid" 2>/dev/null || true
	gateway_pid=
	rm -f "$TOP/port"
}

record() {
	rm -f "$TOP/bundles/rec.rb"
	(cd "$W" && timed "$TOP/record" "$RB" record -o "$TOP/bundles/rec.rb" \
		--model-script "$TOP/script.json" -- sh ./agent.sh "$STEPS" \
		</dev/null >/dev/null 2>"$TOP/record.err")
}

replay() {
	rm -f "$TOP/bundles/rep.rb"
	timed "$TOP/replay" "$RB" replay --timing fast \
		-o "$TOP/bundles/rep.rb" "$TOP/bundles/rec.rb" \
		>"$TOP/replay.out" 2>"$TOP/replay.err" || {
		cat "$TOP/replay.out" "$TOP/replay.err" >&2
		echo "bench: the replay diverged or failed" >&2
		exit 1
	}
}

# median COLUMN FILE
median() {
	cut -d' ' -f"$1" "$2" | sort -n |
		awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

load() {
	cut -d' ' -f1-3 /proc/loadavg
}

: >"$TOP/bare"
: >"$TOP/record"
: >"$TOP/replay"
load_before=$(load)
r=0
while [ $r -lt "$RUNS" ]; do
	bare
	record
	replay
	r=$((r + 1))
done
load_after=$(load)

rw=$(median 1 "$TOP/record")
rc=$(median 2 "$TOP/record")
echo "$STEPS steps, median of $RUNS rounds; load average $load_before" \
	"before, $load_after after"
echo
echo "| mode | wall s | ms/step | wall / record | cpu s | cpu / record |"
echo "|---|---:|---:|---:|---:|---:|"
for mode in bare record replay; do
	w=$(median 1 "$TOP/$mode")
	c=$(median 2 "$TOP/$mode")
	echo "$mode $w $c $rw $rc $STEPS" | awk '{
		printf "| %s | %.2f | %.2f | %.2f | %.2f | %.2f |\n",
			$1, $2, $2 * 1000 / $6, $2 / $4, $3, $3 / $5 }'
done
