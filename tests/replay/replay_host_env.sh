#!/bin/sh
# The agent gets its recorded environment, so the replayer's locale and
# TZ variables never reach it: the replay notes no difference of this
# host for them, and the agent prints what it printed when recorded.
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

