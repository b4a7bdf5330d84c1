#!/bin/sh
# Workspace snapshots. The final one, checked out, equals the real
# workspace byte for byte with its metadata. Each step lists what
# changed.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/record/record_lib.sh"

ws=$TMP/ws
mkdir -p "$ws/src/deep" "$ws/empty"
cd "$ws"
printf 'one\n' >src/one.txt
printf 'two\n' >src/two.txt
printf '#!/bin/sh\necho run\n' >src/run.sh
chmod 755 src/run.sh
: >src/deep/empty-file
head -c 300000 /dev/urandom >src/deep/large.bin
ln src/one.txt src/one-hardlink.txt
ln -s ../src/one.txt src/deep/link
printf 'doomed\n' >doomed.txt
printf 'mode\n' >mode.txt
touch -d '2001-02-03 04:05:06.123456789' src/two.txt

record "$TMP/s.rb" -- sh -c '
	echo changed >>src/one.txt
	rm doomed.txt
	chmod 600 mode.txt
	mkdir new && echo new >new/file
	touch -d "2010-01-01 00:00:00.5" new/file'
expect_recorded 0
expect_grep ' 5 files changed, ' "$TMP/err"

final=$(last_data "$TMP/s.rb" workspace .snapshot)
"$RB" checkout "$TMP/s.rb" "$final" "$TMP/out-ws" >"$TMP/co" 2>&1 || {
	cat "$TMP/co" >&2
	fail "checkout of snapshot $final failed"
}
/usr/bin/python3 "$TESTS_DIR/record/tree_compare.py" "$ws" "$TMP/out-ws" ||
	fail "the final snapshot differs from the workspace"

# The changes of the final step, in tree order. A write through one link
# of a hardlinked pair changes both paths.
paths='[["D","doomed.txt"],["T","mode.txt"],["A","new/file"],'
paths=$paths'["M","src/one-hardlink.txt"],["M","src/one.txt"]]'
expect_eq "$paths" \
	"$(last_data "$TMP/s.rb" workspace .changes.paths | jq -c .)" \
	"changed paths"

# The initial snapshot is the state before the agent ran.
first=$($EVENTS "$TMP/s.rb" data 4 | jq -r .snapshot)
"$RB" checkout "$TMP/s.rb" "$first" "$TMP/first" >/dev/null 2>&1 ||
	fail "checkout of the initial snapshot failed"
[ -f "$TMP/first/doomed.txt" ] || fail "the initial snapshot lacks doomed.txt"
expect_eq "one" "$(cat "$TMP/first/src/one.txt")" "initial src/one.txt"

# A HOME seed that the policy names is snapshotted once, before the
# agent starts.
mkdir -p "$TMP/seed/.config"
printf 'model = "x"\n' >"$TMP/seed/.config/agent.toml"
printf '{"version": 1, "home": {"path": "/home/agent", "seed": "%s"}}\n' \
	"$TMP/seed" >"$TMP/home-policy.json"
record "$TMP/home.rb" --policy "$TMP/home-policy.json" -- true
expect_recorded 0
expect_eq "$TMP/seed" "$(last_data "$TMP/home.rb" home .path)" "home.path"
"$RB" checkout "$TMP/home.rb" "$(last_data "$TMP/home.rb" home .snapshot)" \
	"$TMP/home-out" >/dev/null 2>&1 ||
	fail "checkout of the HOME seed failed"
/usr/bin/python3 "$TESTS_DIR/record/tree_compare.py" "$TMP/seed" \
	"$TMP/home-out" || fail "the HOME seed snapshot differs from the seed"

exit 0
