#!/bin/sh
# The sandbox shows the agent this host's /etc/hosts, /etc/passwd and
# the like, from which programs take host, user and group names. A
# replay on a host whose file differs names it as a difference of the
# host, with the recorded and the present SHA-256.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root to bind another /etc/hosts"
command -v unshare >/dev/null || skip "unshare is missing"
unshare -m true 2>/dev/null || skip "cannot make a mount namespace"

new_workspace "$TMP/ws" 'getent hosts replay-probe || echo none'
record_in "$TMP/ws" "$TMP/run.rb"
replay_json "$TMP/run.rb"
expect_replay_status 0
expect_eq "" "$(jqr '.host[].field | select(startswith("files."))')" \
	"differences in the files of an unchanged host"

{ cat /etc/hosts; echo '127.0.0.1 replay-probe'; } >"$TMP/hosts"
set +e
unshare -m sh -c 'mount --bind "$1" /etc/hosts && shift && exec "$@"' sh \
	"$TMP/hosts" "$RUNBUNDLE" replay --json "$TMP/run.rb" >"$TMP/json" \
	2>"$TMP/replay.err"
status=$?
set -e
expect_replay_status 1
sum=$(sha256sum "$TMP/hosts" | cut -d' ' -f1)
expect_eq "$sum" "$(jqr '.host[] | select(.field == "files./etc/hosts") |
	.current')" "the present SHA-256 of /etc/hosts"
expect_grep "^files\./etc/hosts: recorded '[0-9a-f]\{64\}', now '$sum'" \
	"$TMP/replay.err"
