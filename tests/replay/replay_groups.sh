#!/bin/sh
# The agent keeps the supplementary groups of the user who runs
# runbundle, because the sandbox's user namespace cannot drop them, and
# a group still grants its access to host files. A replay by a user of
# other groups names them as a difference of the sandbox.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root to set supplementary groups"
command -v setpriv >/dev/null || skip "setpriv is missing"

new_workspace "$TMP/ws" 'grep ^Groups: /proc/self/status'
(cd "$TMP/ws" && setpriv --groups 0,4242 "$RUNBUNDLE" record \
	-o "$TMP/run.rb" --model-script "$TMP/ws.script.json" -- \
	sh ./agent.sh </dev/null >"$TMP/record.out" 2>"$TMP/record.err") ||
	{ cat "$TMP/record.err" >&2; fail "the recording failed"; }

set +e
setpriv --groups 0,4242 "$RUNBUNDLE" replay --json "$TMP/run.rb" \
	>"$TMP/json" 2>"$TMP/replay.err"
status=$?
set -e
expect_replay_status 0
expect_eq null "$(jqr .sandbox)" "the sandbox's differences, same groups"

set +e
setpriv --clear-groups "$RUNBUNDLE" replay --json "$TMP/run.rb" \
	>"$TMP/json" 2>"$TMP/replay.err"
status=$?
set -e
expect_replay_status 1
overflow=$(cat /proc/sys/kernel/overflowgid)
expect_grep "^gid_map\.supplementary\[0\]: recorded 0, present missing$" \
	"$TMP/replay.err"
expect_grep "^gid_map\.supplementary\[1\]: recorded $overflow, present \
missing$" "$TMP/replay.err"
