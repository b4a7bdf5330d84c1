#!/bin/sh
# Under a file size limit (ulimit -f) that a write crosses, runbundle
# reports the file and the limit, where SIGXFSZ would end it without a
# word, and keeps what it committed. The programs it runs still get
# SIGXFSZ, as they would outside.
. "$TESTS_DIR/lib.sh"

mkdir "$TMP/big"
echo small >"$TMP/big/a"
head -c 3000000 /dev/urandom >"$TMP/big/z"
expect_status 0 "$RUNBUNDLE" snapshot --finalize "$TMP/ok.rb" "$TMP/big"

# 1,000 blocks of 1,024 bytes: the snapshot's 3 MB cross it.
limited() {
	(ulimit -f 1000 && exec "$@")
}

# A new bundle that stored nothing is removed, so the hint promises no
# commits. An existing one keeps its events.
expect_status 3 limited "$RUNBUNDLE" snapshot "$TMP/new.rb" "$TMP/big"
expect_grep "^runbundle: .*'$TMP/new.rb': File too large$" "$TMP/err"
expect_grep "^hint: raise the file size limit ('ulimit -f')$" "$TMP/err"
[ -z "$(ls "$TMP" | grep new.rb)" ] || fail "the new bundle is left"
mkdir "$TMP/small"
echo small >"$TMP/small/a"
expect_status 0 "$RUNBUNDLE" snapshot "$TMP/f.rb" "$TMP/small"
expect_status 3 limited "$RUNBUNDLE" snapshot "$TMP/f.rb" "$TMP/big"
expect_grep "^runbundle: .*'$TMP/f.rb': File too large$" "$TMP/err"
expect_grep "^hint: raise the file size limit ('ulimit -f'); everything \
committed before stays intact$" "$TMP/err"
expect_status 0 "$RUNBUNDLE" verify --allow-incomplete "$TMP/f.rb"
expect_grep "events 1 to 1 of 1 are intact" "$TMP/out"

expect_status 3 limited "$RUNBUNDLE" export --format tar -o "$TMP/e.tar" \
	"$TMP/ok.rb"
expect_grep "^runbundle: cannot write archive: '$TMP/e.tar': File too \
large$" "$TMP/err"
expect_grep "^hint: raise the file size limit" "$TMP/err"
[ ! -e "$TMP/e.tar" ] || fail "a partial archive is left as '$TMP/e.tar'"

# A checkout or a directory export that fails after its first file
# reports that the directory is not the whole tree.
expect_status 3 limited "$RUNBUNDLE" checkout "$TMP/ok.rb" latest "$TMP/co"
expect_grep "^runbundle: cannot check out file: 'z': File too large$" \
	"$TMP/err"
expect_grep "^hint: raise the file size limit" "$TMP/err"
expect_grep "^runbundle: the tree is incomplete: '$TMP/co': " "$TMP/err"
expect_grep "^hint: remove '$TMP/co' before" "$TMP/err"
expect_status 3 limited "$RUNBUNDLE" export --format dir -o "$TMP/ex" \
	"$TMP/ok.rb"
expect_grep "^runbundle: the tree is incomplete: '$TMP/ex': " "$TMP/err"

# A directory that is not empty is rejected before any write, so it is
# not reported as incomplete.
expect_status 3 "$RUNBUNDLE" checkout "$TMP/ok.rb" latest "$TMP/co"
if grep -q "incomplete" "$TMP/err"; then
	fail "a rejected checkout called the directory incomplete"
fi

# --force into a new or an empty directory leaves only the part written,
# as without it. Into one that had entries, the tree is mixed with them,
# which the note would not describe.
expect_status 3 limited "$RUNBUNDLE" checkout --force "$TMP/ok.rb" latest \
	"$TMP/forced"
expect_grep "^runbundle: the tree is incomplete: '$TMP/forced': " "$TMP/err"
mkdir "$TMP/empty"
expect_status 3 limited "$RUNBUNDLE" checkout --force "$TMP/ok.rb" latest \
	"$TMP/empty"
expect_grep "^runbundle: the tree is incomplete: '$TMP/empty': " "$TMP/err"
expect_status 3 limited "$RUNBUNDLE" checkout --force "$TMP/ok.rb" latest \
	"$TMP/co"
if grep -q "incomplete" "$TMP/err"; then
	fail "a forced checkout called a directory with entries incomplete"
fi

# The traced command is killed by SIGXFSZ (128 + 25), as outside.
expect_status 0 limited "$RUNBUNDLE" trace -o "$TMP/trace.txt" -- \
	sh -c 'head -c 2000000 /dev/zero >"$1"; echo "status $?"' sh \
	"$TMP/zeros"
expect_grep '^status 153$' "$TMP/out"
exit 0
