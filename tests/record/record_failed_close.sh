#!/bin/sh
# A recording that fails after its first events closes its unfinalized
# bundle with every commit in the file, so verify does not warn that a
# -wal file is missing.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/record/record_lib.sh"

mkdir "$TMP/ws"
cd "$TMP/ws"

# The agent moves its own workspace away, so the final snapshot fails.
record "$TMP/moved.rb" --sandbox none -- sh -c 'mv "$PWD" "$PWD.moved"'
expect_eq 125 "$status" "exit status of the failed recording"
expect_grep "cannot snapshot directory: '.*/ws'" "$TMP/err"
[ ! -e "$TMP/moved.rb-wal" ] || fail "a -wal file stayed beside the bundle"
mode=$(od -An -tu1 -j18 -N2 "$TMP/moved.rb" | tr -s ' ' | sed 's/^ //')
expect_eq "1 1" "$mode" "SQLite's read and write versions"

set +e
"$RB" verify --allow-incomplete "$TMP/moved.rb" >"$TMP/verify" 2>&1
vstatus=$?
set -e
[ "$vstatus" -eq 0 ] || {
	cat "$TMP/verify" >&2
	fail "verify --allow-incomplete of the failed recording failed"
}
if grep -q -- '-wal' "$TMP/verify"; then
	cat "$TMP/verify" >&2
	fail "verify warned about a -wal file that record removed itself"
fi
exit 0
