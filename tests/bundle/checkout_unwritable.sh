#!/bin/sh
# A checkout into an empty directory that the user cannot write, such as
# one made as root, fails at once with the reason and the fix, not with
# one "Can't create" line for each entry.
. "$TESTS_DIR/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root to make a directory of root's"
unpriv_setup

src=$TMP/src
mkdir -p "$src/sub"
echo a >"$src/a"
echo b >"$src/sub/b"
expect_status 0 "$RUNBUNDLE" snapshot --finalize "$TMP/b.rb" "$src"
chmod a+r "$TMP/b.rb"
mkdir "$TMP/roots"

# check_error WHAT: the command failed with the directory's error alone.
check_error() {
	expect_eq "runbundle: cannot check out into directory: '$TMP/roots': \
Permission denied" "$(head -n 1 "$TMP/err")" "the error of $1"
	expect_grep "^hint: name a directory that you can write" "$TMP/err"
	expect_eq 2 "$(wc -l <"$TMP/err")" "lines on stderr of $1"
}

expect_status 3 as_user "$UNPRIV_RUNBUNDLE" checkout "$TMP/b.rb" latest \
	"$TMP/roots"
check_error checkout
expect_status 3 as_user "$UNPRIV_RUNBUNDLE" export --format dir \
	-o "$TMP/roots" "$TMP/b.rb"
check_error export
