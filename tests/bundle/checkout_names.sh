#!/bin/sh
# How checkout names a snapshot, and where it refuses to write.
. "$TESTS_DIR/lib.sh"

src=$TMP/src
mkdir -p "$src"
printf 'one\n' >"$src/f"
expect_status 0 "$RUNBUNDLE" snapshot "$TMP/b.rb" "$src"
root1=$(sed -n 's/^snapshot 1 //p' "$TMP/out")
printf 'two\n' >"$src/f"
expect_status 0 "$RUNBUNDLE" snapshot "$TMP/b.rb" "$src"
root2=$(sed -n 's/^snapshot 2 //p' "$TMP/out")
[ "$root1" != "$root2" ] || fail "two contents gave one root"

check() { # NAME EXPECTED-CONTENT
	rm -rf "$TMP/dst"
	expect_status 0 "$RUNBUNDLE" checkout "$TMP/b.rb" "$1" "$TMP/dst"
	expect_eq "$2" "$(cat "$TMP/dst/f")" "content of snapshot '$1'"
}
check latest two
check 1 one
check 2 two
check "$(printf %.8s "$root1")" one
check "$(printf %.6s "$root2" | tr a-f A-F)" two
check "$root1" one

# Names that match nothing, or too much.
expect_status 3 "$RUNBUNDLE" checkout "$TMP/b.rb" 3 "$TMP/none"
expect_grep "^runbundle: cannot find snapshot: '3': the bundle has 2 \
events$" "$TMP/err"
expect_grep "^hint: 'runbundle log --kind snapshot BUNDLE' lists the \
snapshots" "$TMP/err"
expect_status 3 "$RUNBUNDLE" checkout "$TMP/b.rb" abc "$TMP/none"
expect_grep "^hint: a root tree id prefix needs at least 4 hex digits" \
	"$TMP/err"
other=0000
[ "${root1#0000}" = "$root1" ] && [ "${root2#0000}" = "$root2" ] ||
	other=ffff
expect_status 3 "$RUNBUNDLE" checkout "$TMP/b.rb" "$other" "$TMP/none"
expect_grep "no snapshot has that root tree id" "$TMP/err"
expect_status 3 "$RUNBUNDLE" checkout "$TMP/b.rb" "latest$(printf '\033')" \
	"$TMP/none"
expect_grep "cannot find snapshot: 'latest\\\\x1b'" "$TMP/err"
[ ! -e "$TMP/none" ] || fail "a failed lookup created the directory"

# A directory that is not empty needs --force, which overwrites.
mkdir -p "$TMP/full"
printf 'mine\n' >"$TMP/full/f"
expect_status 3 "$RUNBUNDLE" checkout "$TMP/b.rb" 1 "$TMP/full"
expect_grep "not empty" "$TMP/err"
expect_grep "^hint: .*--force" "$TMP/err"
expect_eq mine "$(cat "$TMP/full/f")" "file after a refused checkout"
expect_status 0 "$RUNBUNDLE" checkout --force "$TMP/b.rb" 1 "$TMP/full"
expect_eq one "$(cat "$TMP/full/f")" "file after a forced checkout"

# Usage errors and a missing bundle.
expect_status 2 "$RUNBUNDLE" checkout "$TMP/b.rb" latest
expect_grep '^usage: runbundle checkout' "$TMP/err"
expect_status 3 "$RUNBUNDLE" checkout "$TMP/missing.rb" latest "$TMP/x"
