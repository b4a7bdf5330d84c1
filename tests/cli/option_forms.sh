#!/bin/sh
# Every command reads its options the same way: "--name=VALUE" as well
# as "--name VALUE", options after the operands, and "--" before them.
. "$TESTS_DIR/lib.sh"

mkdir "$TMP/ws"
cd "$TMP/ws"
expect_status 0 "$RUNBUNDLE" record --sandbox=none --label=ci=yes \
	--output="$TMP/run.rb" -- sh -c 'echo hi >note'
R=$TMP/run.rb

# Options after the bundle.
expect_status 0 "$RUNBUNDLE" verify "$R" --json
expect_grep '"ok":	true' "$TMP/out"
expect_status 0 "$RUNBUNDLE" gate "$R" --json
expect_grep '"passed"' "$TMP/out"
mkdir "$TMP/initial"
expect_status 0 "$RUNBUNDLE" apply "$R" --dry-run --to="$TMP/initial"
expect_grep '^would apply' "$TMP/out"
expect_status 0 "$RUNBUNDLE" report "$R" -o "$TMP/report.html"
expect_status 0 "$RUNBUNDLE" checkout "$R" latest "$TMP/co" --force
expect_status 0 "$RUNBUNDLE" snapshot "$TMP/s.rb" "$TMP/co" --json
expect_grep '"event":1,' "$TMP/out"

# "--" before the operands, and "--name=VALUE".
expect_status 0 "$RUNBUNDLE" verify -- "$R"
expect_status 0 "$RUNBUNDLE" diff --match-rule=path:x -- "$R" "$R"
expect_grep '^identical' "$TMP/out"
expect_status 0 "$RUNBUNDLE" replay --sandbox=none --timing=fast -- "$R"
expect_grep '^identical' "$TMP/out"
expect_status 0 "$RUNBUNDLE" trace -o "$TMP/tree.json" --json true
expect_grep '"argv"' "$TMP/tree.json"

# Every -o is also --output.
expect_status 0 "$RUNBUNDLE" trace --output="$TMP/tree2.json" -- true
[ -s "$TMP/tree2.json" ] || fail "trace --output wrote nothing"
expect_status 0 "$RUNBUNDLE" export --format tar --output "$TMP/x.tar" "$R"
[ -s "$TMP/x.tar" ] || fail "export --output wrote nothing"
expect_status 0 "$RUNBUNDLE" export-bundle --output="$TMP/x.tar.zst" "$R"
expect_status 0 "$RUNBUNDLE" import --output "$TMP/x.rb" "$TMP/x.tar.zst"
expect_status 0 "$RUNBUNDLE" verify "$TMP/x.rb"
expect_status 3 "$RUNBUNDLE" fingerprint --compare="$TMP/none.json"
expect_grep "^runbundle: cannot open fingerprint: '$TMP/none.json'" \
	"$TMP/err"

# An option without its value is missing one, not unknown.
for cmd in "record --policy" "replay $R --step" "diff $R $R --match-rule" \
	   "trace -o" "fingerprint --compare"; do
	# shellcheck disable=SC2086
	expect_status 2 "$RUNBUNDLE" $cmd
	expect_grep "^runbundle: missing value: '${cmd##* }'$" "$TMP/err"
done
