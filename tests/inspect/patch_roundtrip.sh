#!/bin/sh
# runbundle patch between two snapshots applies with git apply and with
# patch -p1, and git apply -R reverts it. The changes cover added,
# deleted and renamed files (a rename is a deletion plus an addition),
# mode changes, a file without a trailing newline, names with spaces and
# quotes, a retargeted symlink and a file turned into a symlink. A
# binary file is noted, and both tools leave it alone.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/inspect/inspect_lib.sh"
command -v git >/dev/null || skip "git is missing"
command -v patch >/dev/null || skip "patch is missing"

make_tree "$TMP/w"
expect_status 0 "$RUNBUNDLE" snapshot "$TMP/b.rb" "$TMP/w"
cp -a "$TMP/w" "$TMP/initial"
change_tree "$TMP/w"
expect_status 0 "$RUNBUNDLE" snapshot --finalize "$TMP/b.rb" "$TMP/w"
expect_status 0 "$RUNBUNDLE" patch "$TMP/b.rb"
cp "$TMP/out" "$TMP/p.diff"
expect_grep '^Binary files a/blob.bin and b/blob.bin differ$' "$TMP/p.diff"
expect_grep '^+++ b/new file.txt	$' "$TMP/p.diff"
expect_grep '^diff --git "a/qu\\"ote" "b/qu\\"ote"$' "$TMP/p.diff"
expect_grep '^new file mode 120000$' "$TMP/p.diff"
expect_grep '^old mode 100644$' "$TMP/p.diff"

# The final tree without the binary file, which neither tool changes.
restore_binary() {
	cp "$TMP/w/blob.bin" "$1/blob.bin"
}
final_tree=$(tree_listing "$TMP/w")

cp -a "$TMP/initial" "$TMP/git"
(cd "$TMP/git" && git apply "$TMP/p.diff") || fail "git apply failed"
restore_binary "$TMP/git"
expect_eq "$final_tree" "$(tree_listing "$TMP/git")" "the tree after git apply"

(cd "$TMP/git" && git apply -R "$TMP/p.diff") || fail "git apply -R failed"
cp "$TMP/initial/blob.bin" "$TMP/git/blob.bin"
expect_eq "$(tree_listing "$TMP/initial")" "$(tree_listing "$TMP/git")" \
	"the tree after git apply -R"

# GNU patch does not delete a file that was already empty (it prompts
# whether the patch is reversed), so that one file is removed by hand.
cp -a "$TMP/initial" "$TMP/patch"
(cd "$TMP/patch" && patch -p1 -s -f <"$TMP/p.diff" >/dev/null) || true
[ -s "$TMP/patch/empty_del" ] && fail "patch left content in empty_del"
rm -f "$TMP/patch/empty_del"
restore_binary "$TMP/patch"
expect_eq "$final_tree" "$(tree_listing "$TMP/patch")" \
	"the tree after patch -p1"

# Paths limit the diff; --json counts what the diff holds.
expect_status 0 "$RUNBUNDLE" patch "$TMP/b.rb" sub keep.txt
expect_eq 'diff --git a/keep.txt b/keep.txt
diff --git a/sub/new b/sub/new
diff --git a/sub/old b/sub/old' "$(grep '^diff --git' "$TMP/out")" \
	"the files of a limited diff"
expect_status 0 "$RUNBUNDLE" patch --json "$TMP/b.rb"
expect_eq '3 6 3 2 1 8 7' "$(jq -r '.stats |
	"\(.added) \(.modified) \(.deleted) \(.mode) \(.binary) " +
	"\(.lines_added) \(.lines_removed)"' "$TMP/out")" \
	"the counts of --json"
jq -j .diff "$TMP/out" | cmp -s - "$TMP/p.diff" ||
	fail "the diff in --json differs from the text output"

# The same diff backwards, and nothing between a step and itself.
expect_status 0 "$RUNBUNDLE" patch --from final --to 0 "$TMP/b.rb"
expect_grep '^deleted file mode 100644$' "$TMP/out"
expect_status 0 "$RUNBUNDLE" patch --from 1 --to 1 "$TMP/b.rb"
expect_eq '' "$(cat "$TMP/out")" "the diff of a step with itself"
expect_status 3 "$RUNBUNDLE" patch --from 2 "$TMP/b.rb"
expect_grep "^runbundle: no such step: '2': the bundle has steps 0 to 1$" \
	"$TMP/err"

# A diff that is not UTF-8 comes in --json as the base64 of its exact
# bytes, never as text that a literal "\x0a" in a file could mimic.
mkdir "$TMP/u1" "$TMP/u2"
printf 'a\\x0a\n' >"$TMP/u1/f"
printf 'caf\351\n' >"$TMP/u2/f"
"$RUNBUNDLE" snapshot "$TMP/u.rb" "$TMP/u1" >/dev/null
"$RUNBUNDLE" snapshot --finalize "$TMP/u.rb" "$TMP/u2" >/dev/null
expect_status 0 "$RUNBUNDLE" patch "$TMP/u.rb"
cp "$TMP/out" "$TMP/u.diff"
expect_status 0 "$RUNBUNDLE" patch --json "$TMP/u.rb"
jq -r .diff.base64 "$TMP/out" | base64 -d | cmp -s - "$TMP/u.diff" ||
	fail "the base64 diff in --json differs from the text output"
