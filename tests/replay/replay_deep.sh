#!/bin/sh
# A chain of 600 processes, each the child of the one before, nests the
# recorded process tree deeper than cJSON parses by default (1,000
# levels, two a process). The replay reads the agent's environment from
# its exec event, not from the tree, so such a run replays like any
# other.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"

new_workspace "$TMP/deep" 'sh ./chain.sh 599'
cat >"$TMP/deep/chain.sh" <<'EOF'
[ "$1" -gt 0 ] && sh "$0" $(($1 - 1))
exit 0
EOF
record_in "$TMP/deep" "$TMP/deep.rb"
expect_status 0 "$RUNBUNDLE" inspect --json "$TMP/deep.rb"
count=$(jq .processes.count "$TMP/out")
[ "$count" -gt 600 ] || fail "the recording has $count processes"

replay_json "$TMP/deep.rb"
expect_replay_status 0
expect_eq identical "$(jqr .verdict)" "verdict of the deep chain"
exit 0
