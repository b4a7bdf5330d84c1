#!/bin/sh
# A recorded run that the policy's wall-clock limit ends: inspect and log
# print that it timed out, not only that SIGKILL ended it, and gate fails
# it. record and env(1) search PATH with execvp(3): the failed attempts
# before /usr/bin/sh and /usr/bin/true are PATH lookups, and only the
# last attempt for a missing command is a failed exec.
. "$TESTS_DIR/lib.sh"
command -v jq >/dev/null || skip "jq is missing"

mkdir "$TMP/ws"
cat >"$TMP/ws/agent.sh" <<'SH'
#!/bin/sh
env nosuch-command 2>/dev/null
env true
sleep 30
SH
echo '{"version": 1, "limits": {"timeout_seconds": 1}}' >"$TMP/policy.json"
cd "$TMP/ws"
set +e
"$RUNBUNDLE" record -o "$TMP/run.rb" --policy "$TMP/policy.json" \
	-- sh ./agent.sh >"$TMP/out" 2>"$TMP/err"
status=$?
set -e
[ "$status" -ne 0 ] || fail "record of a timed-out run exited 0"
[ "$status" -ne 125 ] || fail "record failed: $(cat "$TMP/err")"
expect_grep "^stopped: timed out after 1 s \
(the policy's limits.timeout_seconds)\$" "$TMP/err"

expect_status 0 "$RUNBUNDLE" inspect --json "$TMP/run.rb"
expect_eq 'true KILL 1' \
	"$(jq -r '"\(.run.timed_out) \(.run.signal) " +
	"\(.sandbox.timeout_seconds)"' "$TMP/out")" \
	"timed_out, signal and limit"
expect_eq 1 "$(jq .processes.failed_execs "$TMP/out")" "failed execs"
lookups=$(jq .processes.path_lookups "$TMP/out")
[ "$lookups" -ge 2 ] || fail "PATH lookups of sh and true: $lookups"

expect_status 0 "$RUNBUNDLE" inspect "$TMP/run.rb"
expect_grep "^exit  *timed out after [0-9.]* s (policy limit 1 s), \
killed by SIGKILL\$" "$TMP/out"
expect_grep "^processes  *[0-9]*, [0-9]* execs, 1 failed execs, \
$lookups PATH lookups\$" "$TMP/out"

expect_status 0 "$RUNBUNDLE" log "$TMP/run.rb"
expect_grep ' end  *agent timed out after [0-9.]* s (policy limit)$' \
	"$TMP/out"
expect_grep ' exec  *\[0\] ENOENT /.*/sh (PATH lookup)$' "$TMP/out"
expect_grep ' exec  *\[[0-9]*\] ENOENT /.*/nosuch-command$' "$TMP/out"
expect_status 0 "$RUNBUNDLE" log --json --kind exec "$TMP/run.rb"
expect_eq "$lookups" "$(jq '[.steps[].events[] | select(.path_lookup)] |
	length' "$TMP/out")" "PATH lookups in log --json"
expect_eq 1 "$(jq '[.steps[].events[] | select(.data.error and
	(.path_lookup | not))] | length' "$TMP/out")" \
	"failed execs in log --json"

expect_status 1 "$RUNBUNDLE" gate "$TMP/run.rb"
expect_grep "^timed-out  *the run timed out after [0-9.]* s \
(policy limit 1 s)\$" "$TMP/out"
exit 0
