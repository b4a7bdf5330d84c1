#!/bin/sh
# A replay that the policy's timeout ends names the timeout in the
# report, in --json and in --repeat. Its agent is killed with SIGKILL,
# which alone would read like any other kill.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"

# The command of the only step sleeps for the seconds in $TMP/ctl, which
# the runs without a sandbox read on the host.
echo 0 >"$TMP/ctl"
printf '{"version": 1, "limits": {"timeout_seconds": 2}}\n' \
	>"$TMP/policy.json"
new_workspace "$TMP/ws" "sleep \$(cat $TMP/ctl)"
record_in "$TMP/ws" "$TMP/run.rb" --sandbox none --policy "$TMP/policy.json"

echo 0 >"$TMP/ctl"
replay_json "$TMP/run.rb" --sandbox none
expect_replay_status 0
expect_eq identical "$(jqr .verdict)" "the verdict of a replay in time"
expect_eq false "$(jqr .timed_out.other)" "timed_out.other of a replay \
in time"

echo 5 >"$TMP/ctl"
replay_json "$TMP/run.rb" --sandbox none
expect_replay_status 1
expect_eq true "$(jqr .timed_out.other)" "timed_out.other of a replay \
that timed out"
expect_eq false "$(jqr .timed_out.recorded)" "timed_out.recorded of a \
recording in time"
expect_eq 137 "$(jqr '.differences[-1].exit.other')" \
	"the exit status of the replay that timed out"

# The first divergence is the step that the timeout cut short, not the
# final step, and its explanation names the timeout.
expect_status 1 "$RUNBUNDLE" replay --sandbox none "$TMP/run.rb"
expect_grep "^first divergence: step 1: .*(the other run timed out: the \
policy's limits.timeout_seconds)\$" "$TMP/out"

expect_status 1 "$RUNBUNDLE" replay --sandbox none --repeat 1 "$TMP/run.rb"
expect_grep "^  1 time: step 1: .*(the other run timed out: the policy's \
limits.timeout_seconds)\$" "$TMP/out"
exit 0
