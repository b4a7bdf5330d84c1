#!/bin/sh
# A run recorded with --sandbox none would replay its command on this
# host, as the user who replays, so replay rejects it unless that user
# passes --sandbox none too. The option never turns off the sandbox of
# a run recorded in one.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"

new_workspace "$TMP/host" "touch $TMP/ran-on-host"
record_in "$TMP/host" "$TMP/host.rb" --sandbox none
[ -e "$TMP/ran-on-host" ] || fail "the recording did not run on the host"
rm "$TMP/ran-on-host"

replay_json "$TMP/host.rb"
expect_replay_status 2
expect_grep "^runbundle: cannot replay without a sandbox: '$TMP/host.rb': " \
	"$TMP/replay.err"
expect_grep "^hint: .*--sandbox none" "$TMP/replay.err"
[ ! -e "$TMP/ran-on-host" ] || fail "the rejected replay ran the command"

# Each run's gateway listens on a free port of the host, which the
# agent passes to curl: the address of the gateway is no difference.
replay_json "$TMP/host.rb" --sandbox none
expect_replay_status 0
expect_eq identical "$(jqr .verdict)" "verdict of replay --sandbox none"
[ -e "$TMP/ran-on-host" ] || fail "the replay did not run the command"

new_workspace "$TMP/boxed" 'echo boxed'
record_in "$TMP/boxed" "$TMP/boxed.rb"
replay_json "$TMP/boxed.rb" --sandbox none
expect_replay_status 2
expect_grep "^runbundle: .*'$TMP/boxed.rb': .*recorded in the sandbox" \
	"$TMP/replay.err"
replay_json "$TMP/boxed.rb" --sandbox namespaces
expect_replay_status 0
