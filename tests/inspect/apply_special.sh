#!/bin/sh
# apply makes no FIFO, socket or device of the final snapshot: it names
# them as left out, applies the rest and exits with 0, as git leaves such
# files out. A FIFO that the run deleted is deleted.
. "$TESTS_DIR/lib.sh"
command -v jq >/dev/null || skip "jq is missing"

ws=$TMP/ws
mkdir -p "$ws"
echo one >"$ws/a"
echo file >"$ws/was-file"
mkfifo "$ws/old-pipe"
"$RUNBUNDLE" snapshot "$TMP/b.rb" "$ws" >/dev/null
cp -a "$ws" "$TMP/target"
echo two >"$ws/a"
mkfifo "$ws/pipe"
rm "$ws/was-file" "$ws/old-pipe"
mkfifo "$ws/was-file"
"$RUNBUNDLE" snapshot --finalize "$TMP/b.rb" "$ws" >/dev/null

expect_status 0 "$RUNBUNDLE" apply --dry-run --json --to "$TMP/target" \
	"$TMP/b.rb"
expect_eq '[]' "$(jq -c '.conflicts' "$TMP/out")" "conflicts"
expect_eq '[{"path":"pipe","type":"FIFO"},{"path":"was-file","type":"FIFO"}]' \
	"$(jq -c '.special | sort_by(.path)' "$TMP/out")" "special files"
expect_eq '["D old-pipe","M a"]' \
	"$(jq -c '[.changes[] | "\(.change) \(.path)"] | sort' "$TMP/out")" \
	"changes"

expect_status 0 "$RUNBUNDLE" apply --to "$TMP/target" "$TMP/b.rb"
expect_grep "^runbundle: not applied: 'pipe': is a FIFO in the final \
snapshot" "$TMP/err"
expect_grep "^hint: 2 special files left out" "$TMP/err"
if grep -q 'target differs' "$TMP/err"; then
	cat "$TMP/err" >&2
	fail "a special file is reported as a conflict"
fi
expect_eq two "$(cat "$TMP/target/a")" "the applied file"
[ ! -e "$TMP/target/pipe" ] || fail "apply made the FIFO"
[ ! -e "$TMP/target/old-pipe" ] || fail "apply left the deleted FIFO"
expect_eq file "$(cat "$TMP/target/was-file")" \
	"the file that the run replaced by a FIFO"

# The second apply finds the changes that it writes in place.
expect_status 0 "$RUNBUNDLE" apply --to "$TMP/target" "$TMP/b.rb"
expect_grep '^already applied: the target has the final state of all 2 ' \
	"$TMP/out"
exit 0
