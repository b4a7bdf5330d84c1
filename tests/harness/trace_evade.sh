#!/bin/sh
# runbundle trace against programs that try to run a command out of its
# sight. A seccomp filter of the program's own, whose user notification
# lets execve continue, skips the tracer's seccomp stop. The exec is
# recorded from its exec event all the same. A child made with
# CLONE_UNTRACED, through clone or clone3, would not be attached at all,
# so both calls fail.
. "$TESTS_DIR/lib.sh"
EVADE=${2:?usage: trace_evade.sh TRACE_HELPER EVADE_HELPER}
. "$TESTS_DIR/harness/trace_lib.sh"

echo_path=$(readlink -f /bin/echo)
echo_hash=$(sha256sum "$echo_path" | cut -d' ' -f1)

trace_json "$TMP/notify.json" "$EVADE" notify /bin/echo
expect_eq 0 "$status" "notify exit status"
if grep -q '^blocked: seccomp listener' "$TMP/cmd.out"; then
	skip "no seccomp user notification here"
fi
expect_grep '^unseen$' "$TMP/cmd.out"
jq_eq "$TMP/notify.json" '.execs | length' 2
jq_eq "$TMP/notify.json" '.execs[1].argv | join(" ")' '/bin/echo unseen'
jq_eq "$TMP/notify.json" '.execs[1].path' /bin/echo
jq_eq "$TMP/notify.json" '.execs[1].error' null
jq_eq "$TMP/notify.json" '.execs[1].exe.path' "$echo_path"
jq_eq "$TMP/notify.json" '.execs[1].exe.sha256' "$echo_hash"

trace_json "$TMP/untraced.json" "$EVADE" untraced /bin/echo
expect_eq 0 "$status" "untraced exit status"
expect_grep '^blocked: clone: Operation not permitted$' "$TMP/cmd.out"

trace_json "$TMP/untraced3.json" "$EVADE" untraced3 /bin/echo
expect_eq 0 "$status" "untraced3 exit status"
expect_grep '^blocked: clone3: Function not implemented$' "$TMP/cmd.out"
exit 0
