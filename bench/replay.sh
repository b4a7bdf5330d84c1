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
# round, so that load from other work spreads over all of them. Prints
# the median wall time of RUNS rounds (default 3), the time per step
# and the ratios.
set -eu

RB=${1:-build/runbundle}
STEPS=${2:-500}
RUNS=${3:-3}
for tool in curl jq; do
	command -v "$tool" >/dev/null || {
		echo "bench: $tool is missing" >&2
		exit 1
	}
done
RB=$(cd "$(dirname "$RB")" && pwd)/$(basename "$RB")
if [ ! -x "$RB" ]; then
	echo "bench: runbundle not found: '$RB'" >&2
	exit 1
fi

TOP=$(mktemp -d "${TMPDIR:-/tmp}/rbbench-replay.XXXXXX")
W=$TOP/ws
mkdir "$W" "$TOP/bundles" "$TOP/tmp"
gateway_pid=
trap '[ -z "$gateway_pid" ] || kill "$gateway_pid" 2>/dev/null; rm -rf "$TOP"' EXIT
export TMPDIR=$TOP/tmp

cat >"$W/agent.sh" <<'SH'
#!/bin/sh
set -eu
i=0
while [ "$i" -lt "$STEPS" ]; do
	i=$((i + 1))
	out=$(sh -c 'echo "step $0"' "$i")
	curl -sS --fail-with-body -X POST -H 'Content-Type: application/json' \
		-d "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"$out\"}]}" \
		"$OPENAI_BASE_URL/chat/completions" >/dev/null
done
SH
# The step count reaches the agent as its argument in the sandbox.
sed -i 's/"\$STEPS"/"$1"/' "$W/agent.sh"
jq -n --argjson n "$STEPS" '{turns: [range($n) | {text: "ok"}]}' \
	>"$TOP/script.json"

now() {
	date +%s.%N
}

bare() {
	"$RB" gateway --model-script "$TOP/script.json" \
		--port-file "$TOP/port" >/dev/null 2>&1 &
	gateway_pid=$!
	while [ ! -s "$TOP/port" ]; do sleep 0.01; done
	t0=$(now)
	(cd "$W" && OPENAI_BASE_URL="http://127.0.0.1:$(cat "$TOP/port")/v1" \
		sh ./agent.sh "$STEPS")
	t1=$(now)
	kill "$gateway_pid"
	wait "$gateway_pid" 2>/dev/null || true
	gateway_pid=
	rm -f "$TOP/port"
	echo "$t0 $t1" | awk '{ print $2 - $1 }'
}

record() {
	rm -f "$TOP/bundles/rec.rb"
	t0=$(now)
	(cd "$W" && "$RB" record -o "$TOP/bundles/rec.rb" \
		--model-script "$TOP/script.json" -- sh ./agent.sh "$STEPS" \
		</dev/null >/dev/null 2>"$TOP/record.err")
	t1=$(now)
	echo "$t0 $t1" | awk '{ print $2 - $1 }'
}

replay() {
	rm -f "$TOP/bundles/rep.rb"
	t0=$(now)
	"$RB" replay --timing fast -o "$TOP/bundles/rep.rb" \
		"$TOP/bundles/rec.rb" >"$TOP/replay.out" 2>"$TOP/replay.err" || {
		cat "$TOP/replay.out" "$TOP/replay.err" >&2
		echo "bench: the replay diverged or failed" >&2
		exit 1
	}
	t1=$(now)
	echo "$t0 $t1" | awk '{ print $2 - $1 }'
}

median() {
	sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

: >"$TOP/bare"
: >"$TOP/record"
: >"$TOP/replay"
r=0
while [ $r -lt "$RUNS" ]; do
	bare >>"$TOP/bare"
	record >>"$TOP/record"
	replay >>"$TOP/replay"
	r=$((r + 1))
done

b=$(median <"$TOP/bare")
c=$(median <"$TOP/record")
p=$(median <"$TOP/replay")
echo "steps $STEPS, median of $RUNS runs"
printf '%-8s %8s s %8s ms/step\n' bare "$b" \
	"$(echo "$b $STEPS" | awk '{ printf "%.2f", $1 * 1000 / $2 }')"
printf '%-8s %8s s %8s ms/step\n' record "$c" \
	"$(echo "$c $STEPS" | awk '{ printf "%.2f", $1 * 1000 / $2 }')"
printf '%-8s %8s s %8s ms/step\n' replay "$p" \
	"$(echo "$p $STEPS" | awk '{ printf "%.2f", $1 * 1000 / $2 }')"
echo "replay/record $(echo "$p $c" | awk '{ printf "%.2f", $1 / $2 }')" \
	"replay/bare $(echo "$p $b" | awk '{ printf "%.2f", $1 / $2 }')" \
	"record/bare $(echo "$c $b" | awk '{ printf "%.2f", $1 / $2 }')"
