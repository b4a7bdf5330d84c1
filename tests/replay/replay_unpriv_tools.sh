#!/bin/sh
# Root records a run that executes two programs of the host, and a user
# replays it where one is gone and the other is root's alone. The host
# note names the one that is missing and the one that the user cannot
# read, each with its fix, not "did not run or is missing" for both.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root to switch users"
unpriv_setup
control_dir

printf '#!/bin/sh\necho private\n' >"$ctl/private-tool"
printf '#!/bin/sh\necho gone\n' >"$ctl/gone-tool"
chmod 700 "$ctl/private-tool"
chmod 755 "$ctl/gone-tool"
new_workspace "$TMP/ws" "$ctl/private-tool" "$ctl/gone-tool"
record_in "$TMP/ws" "$TMP/r.rb" --policy "$TMP/policy.json"
chmod a+r "$TMP/r.rb"
rm "$ctl/gone-tool"

set +e
as_user "$UNPRIV_RUNBUNDLE" replay --json --trust-policy "$TMP/r.rb" \
	>"$TMP/json" 2>"$TMP/replay.err"
status=$?
set -e
expect_replay_status 1
reason() {
	jq -r --arg f "executables.$ctl/$1" \
		'.host[] | select(.field == $f) | .reason' "$TMP/json"
}
uid=$(id -u "$TEST_USER")
expect_eq "this executable cannot be read here (Permission denied), so \
the replay cannot tell whether it is the recorded one, and the agent, as \
uid $uid on this host, may not run it; make it readable for this user, \
or replay as a user who can read it" "$(reason private-tool)" \
	"the reason for root's own program"
expect_eq "this executable is missing on this host, so a run that needs \
it diverges; install it at that path" "$(reason gone-tool)" \
	"the reason for a removed program"
expect_grep "^executables\.$ctl/gone-tool: recorded '[0-9a-f]*', now \
'unset': this executable is missing on this host" "$TMP/replay.err"
