#!/bin/sh
# import onto a full disk: the error names the full disk, the bundle is
# removed, and the hint does not claim that committed events stay,
# because none do. The disk is a small tmpfs in a private mount namespace.
. "$TESTS_DIR/lib.sh"

mkdir "$TMP/ws"
head -c 4000000 /dev/urandom >"$TMP/ws/big"
"$RUNBUNDLE" snapshot --finalize "$TMP/b.rb" "$TMP/ws" >/dev/null
"$RUNBUNDLE" export-bundle -o "$TMP/b.tar.zst" "$TMP/b.rb" >/dev/null

on_small_fs '
	"$2" import -o "$1/small-fs/i.rb" "$1/b.tar.zst" 2>"$1/err"
	status=$?
	ls -A "$1/small-fs" >"$1/left"
	exit $status' "$RUNBUNDLE"
expect_eq 3 "$status" "exit status of import onto a full disk"
expect_grep "^runbundle: .*'$TMP/small-fs/i.rb': .*full" "$TMP/err"
expect_eq '' "$(cat "$TMP/left")" "files left on the full disk"
expect_grep "^hint: free space on the file system of '$TMP/small-fs/i.rb' \
and import again" "$TMP/err"
grep -q 'stays intact' "$TMP/err" &&
	fail "the hint promises a bundle that import removed"

# Past the file size limit, in KiB: the same, with the limit's hint.
set +e
(ulimit -f 2000; trap '' XFSZ; exec "$RUNBUNDLE" import -o "$TMP/f.rb" \
	"$TMP/b.tar.zst") 2>"$TMP/err"
status=$?
set -e
expect_eq 3 "$status" "exit status of import past the file size limit"
[ ! -e "$TMP/f.rb" ] || fail "import left the bundle past the limit"
expect_grep "^hint: raise the file size limit ('ulimit -f') and import \
again\$" "$TMP/err"
grep -q 'stays intact' "$TMP/err" &&
	fail "the hint past the limit promises a bundle that import removed"
exit 0
