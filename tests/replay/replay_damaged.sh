#!/bin/sh
# runbundle diff rejects a damaged bundle, and names it, instead of
# comparing the events that remain readable.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"
command -v sqlite3 >/dev/null || skip "sqlite3 is missing"

new_workspace "$TMP/ws" 'echo one >one.txt' 'cat one.txt'
record_in "$TMP/ws" "$TMP/a.rb"
cp "$TMP/a.rb" "$TMP/b.rb"
expect_status 0 "$RUNBUNDLE" diff "$TMP/a.rb" "$TMP/b.rb"

# Alter every stored blob: their content no longer hashes to their ids.
sqlite3 "$TMP/b.rb" "UPDATE objects SET data = x'00' || data
	WHERE kind = 'blob'" || fail "cannot alter the bundle"
expect_status 3 "$RUNBUNDLE" diff "$TMP/a.rb" "$TMP/b.rb"
expect_grep "^runbundle: the bundle is damaged: '$TMP/b.rb': [0-9]* problem" \
	"$TMP/err"
expect_status 3 "$RUNBUNDLE" diff "$TMP/b.rb" "$TMP/a.rb"
