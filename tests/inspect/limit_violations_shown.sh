#!/bin/sh
# The limits that the run's cgroup enforces, as a recording stores them:
# forks that the process limit rejected, and processes that the OOM
# killer ended at the memory limit. inspect, log and show name the limit
# and what it stopped. gate has no rule for limits, so it passes.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/inspect/gate_lib.sh"
command -v jq >/dev/null || skip "jq is missing"

d=$TMP/run
mkdir -p "$d/before" "$d/after"
run_spec "$d"
jq -cn '{kind: "violation", data: {source: "limit", limit: "processes",
	value: 64, refused: 3}}' >>"$d/spec"
jq -cn '{kind: "violation", data: {source: "limit",
	limit: "memory_bytes", value: 67108864, killed: 1}}' >>"$d/spec"
run_finish "$d"
forge "$d/b.rb" "$d/spec"
b=$d/b.rb
procs='limits.processes (64) reached: 3 forks refused'
memory='limits.memory_bytes (67108864) reached: 1 process killed by'
memory="$memory the OOM killer"

expect_status 0 "$RUNBUNDLE" inspect "$b"
expect_grep '^violations  2$' "$TMP/out"
expect_grep "^  limit: $procs$" "$TMP/out"
expect_grep "^  limit: $memory$" "$TMP/out"
expect_status 0 "$RUNBUNDLE" inspect --json "$b"
expect_eq "$memory" "$(jq -r '.violations[1].what' "$TMP/out")" \
	"the memory limit's text"
seq=$(jq -r '.violations[1].event' "$TMP/out")

expect_status 0 "$RUNBUNDLE" log "$b"
expect_grep "violation  *$procs$" "$TMP/out"
expect_grep "violation  *$memory$" "$TMP/out"
expect_status 0 "$RUNBUNDLE" show "$b" "$seq"
expect_eq "violation: $memory" "$(head -1 "$TMP/out")" "show's first line"

expect_status 0 "$RUNBUNDLE" gate "$b"
expect_grep '^gate: all [0-9]* rules passed$' "$TMP/out"
exit 0
