#!/bin/sh
# An exchange event stores its start and duration in microseconds as
# integers. cJSON's %g wrote a start time that ended in a zero in
# exponent form (1.79649123474821e+15), which a reader that decodes the
# field as an integer rejects. One time in ten ends in a zero, so 100
# requests miss such a time once in about 38000 runs (0.9^100).
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/record/record_lib.sh"
command -v curl >/dev/null || skip "curl is missing"
command -v jq >/dev/null || skip "jq is missing"
command -v sqlite3 >/dev/null || skip "sqlite3 is missing"

n=100
ws=$TMP/ws
mkdir "$ws"
cd "$ws"
jq -n --argjson n "$n" '{turns: [range($n) | {text: "ok"}]}' \
	>"$TMP/script.json"
cat >agent.sh <<'SH'
i=0
while [ "$i" -lt "$1" ]; do
	curl -sS -o /dev/null -d '{"model": "m", "messages": []}' \
		"$OPENAI_BASE_URL/chat/completions" || exit 1
	i=$((i + 1))
done
SH
record "$TMP/run.rb" --model-script "$TMP/script.json" -- \
	sh ./agent.sh "$n"
expect_recorded 0

sqlite3 -readonly "$TMP/run.rb" "SELECT event FROM events
	WHERE json_extract(event, '\$.kind') = 'exchange'" >"$TMP/ex"
expect_eq "$n" "$(wc -l <"$TMP/ex" | tr -d ' ')" "exchange events"
for f in started_unix_us duration_us; do
	bad=$(grep -v "\"$f\":[0-9]*[,}]" "$TMP/ex" | head -n 1)
	[ -z "$bad" ] || fail "$f is not written as digits: $bad"
done
