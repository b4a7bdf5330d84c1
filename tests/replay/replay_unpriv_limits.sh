#!/bin/sh
# Root records a run whose process limit is a cgroup, and a user, who
# cannot create one, replays it. The note on the sandbox names the
# difference with its cause and its fix, in the text and in the JSON
# report.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root to switch users"
unpriv_setup

new_workspace "$TMP/ws" 'ulimit -u'
jq -n '{version: 1, limits: {processes: 200}}' >"$TMP/policy.json"
record_in "$TMP/ws" "$TMP/r.rb" --policy "$TMP/policy.json"
chmod a+r "$TMP/r.rb"

set +e
as_user "$UNPRIV_RUNBUNDLE" replay --json "$TMP/r.rb" >"$TMP/json" \
	2>"$TMP/replay.err"
status=$?
set -e
grep -q '^limits.processes.via: recorded "cgroup' "$TMP/replay.err" ||
	skip "root gets no cgroup for the process limit on this host"
# The recorded agent inherited the soft limit of this shell.
nproc=$(awk '/^Max processes/ { print $3 }' /proc/self/limits)
hint="hint: limits.processes: the recording enforced it with a cgroup, \
which this replay, as uid $(id -u "$TEST_USER"), cannot create, so it is \
an rlimit of each process: the agent's nproc is 200, where the recorded \
agent's was $nproc; replay as root, or in a cgroup v2 that this \
user may manage, such as a systemd scope with Delegate=yes \
(docs/policy.md, \"The sandbox\")"
grep -qxF "$hint" "$TMP/replay.err" || {
	cat "$TMP/replay.err" >&2
	fail "no hint on the cgroup that the replay could not create"
}
jq -r .sandbox "$TMP/json" | grep -qxF "$hint" ||
	fail "the JSON report's sandbox member lacks the hint"
