#!/bin/sh
# The agent inherits a umask and rlimits from the user who runs
# runbundle, and may depend on them as on its environment. A replay gives it
# the recorded ones, whatever the replayer's are. A hard limit that this
# host has lower than recorded cannot be raised: the replay then names
# it, with both values, as a difference of the sandbox.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"
# AddressSanitizer sets runbundle's soft core limit to 0 at start, which
# the sandbox would then record as inherited.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}disable_coredump=0"

new_workspace "$TMP/ws" 'umask; ulimit -Ss; ulimit -Sc; ulimit -Hc' \
	'mkdir d; : >d/f; stat -c "%a %n" d d/f'
(cd "$TMP/ws" && umask 022 && ulimit -Ss 8192 && ulimit -Hc 2048 &&
	ulimit -Sc 1024 && "$RUNBUNDLE" record -o "$TMP/run.rb" \
	--model-script "$TMP/ws.script.json" -- sh ./agent.sh \
	</dev/null >"$TMP/record.out" 2>"$TMP/record.err") ||
	{ cat "$TMP/record.err" >&2; fail "the recording failed"; }
# sh counts the core limit in blocks of 512 bytes.
n=$("$RUNBUNDLE" log "$TMP/run.rb" | awk '$3 == "sandbox" { print $1 }')
"$RUNBUNDLE" show --json "$TMP/run.rb" "$n" >"$TMP/sandbox.json"
expect_eq '"0022" 524288 1048576' "$(jq -r '[.. | objects |
	.inherited? // empty | .umask, .rlimits.core.soft,
	.rlimits.core.hard] | map(tojson) | join(" ")' "$TMP/sandbox.json")" \
	"the recorded umask and core limits"

set +e
(umask 077 && ulimit -Ss 4096 && ulimit -Sc 0 &&
	"$RUNBUNDLE" replay --json "$TMP/run.rb" >"$TMP/json" \
	2>"$TMP/replay.err")
status=$?
set -e
expect_replay_status 0
expect_eq identical "$(jqr .verdict)" "a replay under another umask"
expect_eq null "$(jqr .sandbox)" "the sandbox's differences"

set +e
(ulimit -Hc 512 && "$RUNBUNDLE" replay --json "$TMP/run.rb" \
	>"$TMP/json" 2>"$TMP/replay.err")
status=$?
set -e
expect_replay_status 1
for which in 'soft: recorded 524288' 'hard: recorded 1048576'; do
	expect_grep "^inherited\.rlimits\.core\.$which, present 262144$" \
		"$TMP/replay.err"
done
