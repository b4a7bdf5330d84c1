#!/bin/sh
# A file added or deleted whole gets the hunk that diff -u prints
# against /dev/null, without running diff(1). Only a modified file runs
# it, as a diff on PATH that counts its runs shows. A process per file
# made a run that adds thousands of files slow to inspect and report.
. "$TESTS_DIR/lib.sh"

real_diff=$(command -v diff) || skip "diff is missing"
mkdir "$TMP/bin"
cat >"$TMP/bin/diff" <<SH
#!/bin/sh
echo run >>"$TMP/diff-runs"
exec "$real_diff" "\$@"
SH
chmod 755 "$TMP/bin/diff"

# Added and deleted files of every shape a hunk has: one line, many
# lines, no newline at the end, a lone newline, a blank line inside.
w=$TMP/w
mkdir -p "$w/gone"
printf 'a\nb\nc\n' >"$w/gone/lines"
printf 'x' >"$w/gone/nonl"
printf 'keep\n' >"$w/changed"
expect_status 0 "$RUNBUNDLE" snapshot "$TMP/b.rb" "$w"
rm -r "$w/gone"
printf 'keep\nmore\n' >"$w/changed"
mkdir "$w/deps"
n=0
while [ "$n" -lt 200 ]; do
	printf 'module %d\n\nend\n' "$n" >"$w/deps/m$n.txt"
	n=$((n + 1))
done
printf 'one\n' >"$w/deps/one"
printf '\n' >"$w/deps/newline"
printf 'first\nlast' >"$w/deps/nonl"
expect_status 0 "$RUNBUNDLE" snapshot --finalize "$TMP/b.rb" "$w"

rm -f "$TMP/diff-runs"
expect_status 0 env PATH="$TMP/bin:$PATH" "$RUNBUNDLE" patch "$TMP/b.rb"
expect_eq 1 "$(wc -l <"$TMP/diff-runs")" "the diff processes of patch"

# Each hunk is what diff -u prints.
hunk() {
	awk -v f="$1" '
		/^diff --git / { on = ($0 == "diff --git a/" f " b/" f); next }
		on && !/^(new|deleted) file mode|^---|^\+\+\+/' "$TMP/out"
}
for f in deps/m7.txt deps/one deps/newline deps/nonl; do
	want=$("$real_diff" -u /dev/null "$w/$f" | tail -n +3)
	expect_eq "$want" "$(hunk "$f")" "the hunk of added $f"
done
printf 'a\nb\nc\n' >"$TMP/lines"
printf 'x' >"$TMP/nonl"
for f in lines nonl; do
	want=$("$real_diff" -u "$TMP/$f" /dev/null | tail -n +3)
	expect_eq "$want" "$(hunk "gone/$f")" "the hunk of deleted gone/$f"
done

# The summary counts the same lines, again with one diff process.
rm -f "$TMP/diff-runs"
expect_status 0 env PATH="$TMP/bin:$PATH" "$RUNBUNDLE" inspect --json \
	"$TMP/b.rb"
expect_eq 1 "$(wc -l <"$TMP/diff-runs")" "the diff processes of inspect"
expect_eq '605 4' "$(jq -r '.files | "\(.lines_added) \(.lines_removed)"' \
	"$TMP/out")" "the lines counted by inspect"
