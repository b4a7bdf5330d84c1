#!/bin/sh
# A process that tries one path twice and is refused both times made
# two attempts, not a PATH lookup and one attempt: inspect counts two
# failed execs, and gate's denied-command rule two violations.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/inspect/gate_lib.sh"
command -v jq >/dev/null || skip "jq is missing"

d=$TMP/run
mkdir -p "$d/before" "$d/after"
run_spec "$d"
for try in 1 2; do
	jq -cn '{kind: "exec", data: {index: 0, pid: 10,
		path: "/usr/bin/su", error: "EACCES", argv: ["su"],
		time_us: 1}}' >>"$d/spec"
	jq -cn '{kind: "violation", data: {source: "exec", index: 0,
		pid: 10, command: "/usr/bin/su"}}' >>"$d/spec"
done
run_finish "$d"
forge "$d/b.rb" "$d/spec"

expect_status 0 "$RUNBUNDLE" inspect --json "$d/b.rb"
expect_eq '2 0' "$(jq -r '"\(.processes.failed_execs) " +
	"\(.processes.path_lookups)"' "$TMP/out")" "failed execs and lookups"
expect_status 1 "$RUNBUNDLE" gate --json "$d/b.rb"
expect_eq 2 "$(jq '[.rules[] | select(.rule == "denied-command")][0].count' \
	"$TMP/out")" "denied commands"
exit 0
