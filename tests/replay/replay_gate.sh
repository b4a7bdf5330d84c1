#!/bin/sh
# A replay whose request matched no recording stores a divergence event
# in its own bundle, so gate rejects that bundle without the original,
# and passes the bundle of an identical replay.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"

new_workspace "$TMP/same" 'echo steady'
record_in "$TMP/same" "$TMP/same.rb"
replay_json "$TMP/same.rb" -o "$TMP/same-replay.rb"
expect_replay_status 0
expect_status 0 "$RUNBUNDLE" gate "$TMP/same-replay.rb"

# Random lowercase letters: no normalizer takes them for an id, a time
# or a path, so the request of every replay differs from the recording.
new_workspace "$TMP/random" \
	'head -c 64 /dev/urandom | base64 | tr -dc g-z | head -c 12'
record_in "$TMP/random" "$TMP/random.rb"
replay_json "$TMP/random.rb" -o "$TMP/random-replay.rb"
expect_replay_status 1
expect_status 1 "$RUNBUNDLE" gate "$TMP/random-replay.rb"
expect_grep '^diverged ' "$TMP/out"
expect_status 0 "$RUNBUNDLE" gate "$TMP/random.rb"
