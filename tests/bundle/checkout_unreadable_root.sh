#!/bin/sh
# A snapshot whose root could not be read is an empty tree: checkout and
# export name the root as not recreated and exit with 1, rather than
# report an empty directory as complete. Run as the unprivileged test
# user, because root reads everything.
. "$TESTS_DIR/lib.sh"
unpriv_setup

unpriv_workdir
as_user sh -c '
	set -e
	mkdir "$1/src"
	printf "hidden\n" >"$1/src/file"
	chmod 300 "$1/src"
' sh "$work"
if as_user ls "$work/src" >/dev/null 2>&1; then
	skip "this user can list a directory of mode 0300"
fi

expect_status 1 as_user "$UNPRIV_RUNBUNDLE" snapshot --finalize \
	"$work/b.rb" "$work/src"
expect_grep "cannot read: '.': Permission denied" "$TMP/err"

expect_status 1 as_user "$UNPRIV_RUNBUNDLE" checkout "$work/b.rb" latest \
	"$work/dst"
expect_grep "not checked out: '.': could not be read when snapshotted" \
	"$TMP/err"

for format in dir tar; do
	expect_status 1 as_user "$UNPRIV_RUNBUNDLE" export --format $format \
		-o "$work/out.$format" "$work/b.rb"
	expect_grep "not exported: '.': its content was not stored" "$TMP/err"
done
