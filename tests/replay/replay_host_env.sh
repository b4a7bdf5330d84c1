#!/bin/sh
# The agent gets its recorded environment, so the replayer's locale and
# TZ variables never reach it: the replay notes no difference of this
# host for them, and the agent prints what it printed when recorded.
# Likewise, the sandbox's host name is the policy's, so this host's is
# a difference only for a run without the sandbox.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"

new_workspace "$TMP/ws" 'echo "$LANG $LC_ALL $TZ"; date +%Z'
(cd "$TMP/ws" && LANG=C.UTF-8 LC_ALL=C.UTF-8 TZ=UTC "$RUNBUNDLE" record \
	-o "$TMP/run.rb" --model-script "$TMP/ws.script.json" -- sh ./agent.sh \
	</dev/null >"$TMP/record.out" 2>"$TMP/record.err") ||
	{ cat "$TMP/record.err" >&2; fail "the recording failed"; }

set +e
LANG=C LC_ALL=C TZ=Asia/Tokyo "$RUNBUNDLE" replay --json "$TMP/run.rb" \
	>"$TMP/json" 2>"$TMP/replay.err"
status=$?
set -e
expect_replay_status 0
expect_eq identical "$(jqr .verdict)" "the verdict under another locale"
expect_eq "" "$(jqr '.host[].field | select(startswith("locale.") or
	. == "timezone.TZ")')" "locale and TZ differences of this host"
if grep -q 'locale\.\|timezone\.TZ' "$TMP/replay.err"; then
	cat "$TMP/replay.err" >&2
	fail "the replay notes the replayer's locale or TZ"
fi


[ "$(id -u)" -eq 0 ] || exit 0
command -v unshare >/dev/null || exit 0
# replay_in_uts OPTION...: replay in a UTS namespace of another name.
replay_in_uts() {
	set +e
	unshare --uts sh -c 'hostname replayer-host && exec "$@"' sh \
		"$RUNBUNDLE" replay --json "$@" >"$TMP/json" 2>"$TMP/replay.err"
	status=$?
	set -e
}
replay_in_uts "$TMP/run.rb"
expect_replay_status 0
expect_eq "" "$(jqr '.host[].field | select(. == "hostname")')" \
	"the host name of this host, for a run in the sandbox"

(cd "$TMP/ws" && "$RUNBUNDLE" record -o "$TMP/none.rb" --sandbox none \
	--model-script "$TMP/ws.script.json" -- sh ./agent.sh \
	</dev/null >"$TMP/record.out" 2>"$TMP/record.err") ||
	{ cat "$TMP/record.err" >&2; fail "the recording without sandbox"; }
replay_in_uts --sandbox none "$TMP/none.rb"
expect_eq replayer-host "$(jqr '.host[] | select(.field == "hostname") |
	.current')" "the host name of this host, for a run without sandbox"
