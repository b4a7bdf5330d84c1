#!/bin/sh
# A change of permission bits that git's modes do not show (0644 to
# 0600, or to 0400) has no line in runbundle patch, as in git diff.
# There is no bare "diff --git" header, which git apply and patch(1)
# reject, and no "Binary files differ" for a binary file whose bytes
# stayed the same. --json still lists and counts these changes.
. "$TESTS_DIR/lib.sh"
command -v git >/dev/null || skip "git is missing"

w=$TMP/w
mkdir "$w"
echo text >"$w/text"
printf 'a\000b\n' >"$w/blob"
echo old >"$w/edited"
expect_status 0 "$RUNBUNDLE" snapshot "$TMP/b.rb" "$w"
cp -a "$w" "$TMP/initial"
chmod 600 "$w/text"
chmod 400 "$w/blob"
expect_status 0 "$RUNBUNDLE" snapshot "$TMP/b.rb" "$w"
echo new >"$w/edited"
expect_status 0 "$RUNBUNDLE" snapshot --finalize "$TMP/b.rb" "$w"

expect_status 0 "$RUNBUNDLE" patch --to 1 "$TMP/b.rb"
expect_eq '' "$(cat "$TMP/out")" "the diff of the mode changes alone"
expect_status 0 "$RUNBUNDLE" patch --json --to 1 "$TMP/b.rb"
expect_eq 'T blob,T text' "$(jq -r '[.files[] | "\(.change) \(.path)"] |
	join(",")' "$TMP/out")" "the files of --json"
expect_eq 2 "$(jq .stats.mode "$TMP/out")" "the mode changes of --json"
expect_eq 0 "$(jq .stats.binary "$TMP/out")" "the binary files of --json"

# With a change of content beside them, the diff has that change only,
# and git apply applies it.
expect_status 0 "$RUNBUNDLE" patch "$TMP/b.rb"
cp "$TMP/out" "$TMP/p.diff"
expect_eq 'diff --git a/edited b/edited' \
	"$(grep -v '^[-+@ ]' "$TMP/p.diff")" "the lines outside the hunks"
(cd "$TMP/initial" && git apply "$TMP/p.diff") || fail "git apply failed"
expect_eq new "$(cat "$TMP/initial/edited")" "edited after git apply"
exit 0
