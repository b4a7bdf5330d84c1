#!/bin/sh
# Concurrent streams on separate connections: each agent gets its own
# bytes, and the record numbers the exchanges in the order their
# requests started, with their overlap in time preserved.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/harness/gateway_lib.sh"

n=8
start_upstream
start_gateway rec --upstream test="$UPSTREAM"
pids=""
i=1
while [ "$i" -le "$n" ]; do
	curl -sS -N "$GATEWAY/slow?events=10&delay_ms=100&agent=$i" \
		-o "$TMP/agent.$i" &
	pids="$pids $!"
	i=$((i + 1))
done
for pid in $pids; do
	wait "$pid" || fail "a concurrent request failed"
done
stop_gateway "$GATEWAY_PID"

i=1
while [ "$i" -le "$n" ]; do
	expect_eq 10 "$(grep -c '^data: ' "$TMP/agent.$i")" "events of agent $i"
	i=$((i + 1))
done

"$PYTHON" - "$TMP/rec.jsonl" "$n" <<'PY' || fail "the record lost the overlap"
import json, sys
exchanges = [json.loads(line) for line in open(sys.argv[1])]
n = int(sys.argv[2])
assert len(exchanges) == n, len(exchanges)
by_seq = sorted(exchanges, key=lambda e: e["seq"])
assert [e["seq"] for e in by_seq] == list(range(1, n + 1)), by_seq
starts = [e["started_unix_us"] for e in by_seq]
assert starts == sorted(starts), "seq does not follow the start order"
# Every request ran a second or so; they all overlap when the last one
# started before the first one ended.
first_end = min(e["started_unix_us"] + e["duration_us"] for e in by_seq)
assert max(starts) < first_end, (starts, first_end)
agents = sorted(e["request"]["query"] for e in by_seq)
assert agents == sorted("events=10&delay_ms=100&agent=%d" % i
                        for i in range(1, n + 1)), agents
for e in by_seq:
    assert e["outcome"] == "complete", e["outcome"]
PY
