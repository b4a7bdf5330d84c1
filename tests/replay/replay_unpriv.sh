#!/bin/sh
# A bundle recorded as root replays as an unprivileged user, and one
# recorded by that user replays as root: the sandbox takes the recorded
# uid and gid inside, so what the agent saw is the same.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root to switch users"
unpriv_setup

# Each step shows the model the ids and the owner of a new file. A
# setuid file keeps its bit in the other user's checkout.
steps() {
	new_workspace "$1" 'id -u; id -g' 'echo x >f; stat -c %u:%g f' \
		'ls -n --time-style=+'
	chmod -R a+rwX "$1"
	echo 'echo suid' >"$1/suid.sh"
	chmod 4755 "$1/suid.sh"
	chmod a+r "$1.script.json"
}

steps "$TMP/root"
record_in "$TMP/root" "$TMP/root.rb"
chmod a+r "$TMP/root.rb"
set +e
as_user "$UNPRIV_RUNBUNDLE" replay --json "$TMP/root.rb" >"$TMP/json" \
	2>"$TMP/replay.err"
status=$?
set -e
expect_replay_status 0
expect_eq identical "$(jqr .verdict)" "root's bundle replayed by a user"

# The user's workspace is the user's, as a user's own checkout would be.
steps "$TMP/user"
chown -R "$TEST_USER:$TEST_USER" "$TMP/user"
chmod 4755 "$TMP/user/suid.sh"
chmod 777 "$TMP"
set +e
(cd "$TMP/user" && as_user "$UNPRIV_RUNBUNDLE" record -o "$TMP/user.rb" \
	--model-script "$TMP/user.script.json" -- sh ./agent.sh \
	</dev/null >"$TMP/record.out" 2>"$TMP/record.err")
status=$?
set -e
[ "$status" = 0 ] || { cat "$TMP/record.err" >&2;
	fail "recording as the user exited $status"; }
replay_json "$TMP/user.rb"
expect_replay_status 0
expect_eq identical "$(jqr .verdict)" "the user's bundle replayed by root"
