#!/bin/sh
# --on-mismatch forward sends the replayer's API key upstream, so it
# never forwards to a URL taken from the bundle: the replay's command
# line must name each recorded upstream with --upstream NAME=URL, and
# the replay prints where the key goes before it starts. Both upstreams
# run on loopback, started by this test.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"
upstreams_setup

# The recorded upstream plays the part of a server of the bundle's author.
start_upstream recorded
recorded=$url
start_upstream mine
mine=$url

# Random letters: the replay's second request matches no recording.
new_workspace "$TMP/ws" 'echo start' \
	'head -c 64 /dev/urandom | base64 | tr -dc g-z | head -c 12'
(cd "$TMP/ws" && "$RUNBUNDLE" record -o "$TMP/run.rb" \
	--upstream "openai=$recorded" -- sh ./agent.sh \
	</dev/null >"$TMP/record.out" 2>"$TMP/record.err") ||
	{ cat "$TMP/record.err" >&2; fail "recording with an upstream failed"; }
expect_eq 2 "$(wc -l <"$TMP/recorded.log")" "requests while recording"

export OPENAI_API_KEY=sk-replayer-0123456789abcdef
replay_json "$TMP/run.rb" --on-mismatch forward
expect_replay_status 2
expect_grep "^runbundle: cannot forward to an upstream of the bundle: \
'openai=$recorded': " "$TMP/replay.err"
expect_grep "^hint: .*--upstream openai=URL" "$TMP/replay.err"
expect_eq 2 "$(wc -l <"$TMP/recorded.log")" \
	"requests to the bundle's upstream after the rejected replay"

replay_json "$TMP/run.rb" --upstream "openai=$mine"
expect_replay_status 2
expect_grep "^runbundle: invalid option: '--upstream openai=$mine': .*\
--on-mismatch forward" "$TMP/replay.err"
replay_json "$TMP/run.rb" --on-mismatch forward --upstream "openai=$mine" \
	--upstream "other=$mine"
expect_replay_status 2
expect_grep "^runbundle: .*'other=$mine': the recording has no upstream" \
	"$TMP/replay.err"

replay_json "$TMP/run.rb" --on-mismatch forward --upstream "openai=$mine"
expect_replay_status 1
expect_grep "^note: .*'openai' .*'$mine'.*OPENAI_API_KEY" "$TMP/replay.err"
expect_eq 2 "$(wc -l <"$TMP/recorded.log")" \
	"requests to the bundle's upstream after the replay"
expect_eq 1 "$(wc -l <"$TMP/mine.log")" "requests to the named upstream"
expect_eq "Bearer $OPENAI_API_KEY" "$(jq -r .auth "$TMP/mine.log")" \
	"the key that the named upstream received"
