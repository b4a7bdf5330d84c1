#!/bin/sh
# An agent that takes the read permission off its own workspace: the
# final snapshot stores the root as an empty tree with its mode and one
# error, and the recording is finalized, with the agent's status. Only
# a user without CAP_DAC_READ_SEARCH meets this, so as root the test
# runs as the test user.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/record/record_lib.sh"
runners_setup

runner=self
rb=$RUNBUNDLE
if [ "$(id -u)" -eq 0 ]; then
	runner=user
	rb=$UNPRIV_RUNBUNDLE
fi
ws=$TMP/ws
mkdir "$ws"
echo a >"$ws/a"
[ "$runner" = user ] && chown -R "$TEST_USER:" "$ws"

set +e
(cd "$ws" && run_as "$runner" "$rb" record -o "$TMP/r.rb" -- \
	sh -c 'chmod 0 .; exit 3' </dev/null >"$TMP/out" 2>"$TMP/err")
status=$?
set -e
chmod 755 "$ws"
[ "$status" = 3 ] || cat "$TMP/err" >&2
expect_eq 3 "$status" "the recording's status"
expect_grep "^runbundle: warning: cannot read: '\.': Permission denied" \
	"$TMP/err"
expect_grep '^root: [0-9a-f]\{64\}$' "$TMP/err"
expect_status 0 "$RUNBUNDLE" verify "$TMP/r.rb"

# The final snapshot: no entries, the root's mode 0, one error.
expect_status 0 "$RUNBUNDLE" ls "$TMP/r.rb" final
expect_eq "" "$(cat "$TMP/out")" "entries of the final snapshot"
seq=$($EVENTS "$TMP/r.rb" kinds | awk '$2 == "snapshot" { s = $1 } END {
	print s }')
expect_eq "0 1" "$($EVENTS "$TMP/r.rb" data "$seq" |
	jq -r '"\(.root_mode % 4096) \(.errors)"')" "root mode and errors"
exit 0
