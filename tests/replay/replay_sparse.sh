#!/bin/sh
# A sparse file whose data moved to another offset keeps its content id,
# which names the data bytes only, so a replay that wrote the same bytes
# elsewhere in the file diverges by the file's layout.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"

# The offset comes from outside the workspace, bound read-only, where
# the test changes it between record and replay.
control_dir
echo 0 >"$ctl/offset"
# The command reads it itself, so that its argv stays the same.
write="import os; f = os.open('disk.img', os.O_WRONLY); "
write=$write"os.pwrite(f, b'data', 4096 * int(open('$ctl/offset').read()))"
new_workspace "$TMP/ws" "truncate -s 1M disk.img; python3 -c \"$write\""
record_in "$TMP/ws" "$TMP/run.rb" --policy "$TMP/policy.json"

replay_json "$TMP/run.rb" --trust-policy
expect_replay_status 0

echo 128 >"$ctl/offset"
replay_json "$TMP/run.rb" --trust-policy
expect_replay_status 1
expect_eq "disk.img content" \
	"$(jqr '.first_divergence.files[0] | "\(.path) \(.change)"')" \
	"the moved data"
exit 0
