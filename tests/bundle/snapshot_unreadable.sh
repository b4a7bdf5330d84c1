#!/bin/sh
# Files and directories that cannot be read become error entries: the
# snapshot is stored, marked incomplete, and names each of them. Run as
# the unprivileged test user, because root reads everything.
. "$TESTS_DIR/lib.sh"
unpriv_setup

unpriv_workdir
as_user sh -c '
	set -e
	mkdir -p "$1/src/locked"
	printf "visible\n" >"$1/src/readable"
	printf "hidden\n" >"$1/src/unreadable"
	printf "inside\n" >"$1/src/locked/file"
	chmod 000 "$1/src/unreadable"
	chmod 000 "$1/src/locked"
' sh "$work"
if as_user cat "$work/src/unreadable" >/dev/null 2>&1; then
	skip "this user can read a file of mode 000"
fi

expect_status 1 as_user "$UNPRIV_RUNBUNDLE" snapshot "$work/b.rb" \
	"$work/src"
expect_grep "cannot read: 'unreadable': Permission denied" "$TMP/err"
expect_grep "cannot read: 'locked': Permission denied" "$TMP/err"
expect_grep '^snapshot 1 ' "$TMP/out"

data() {
	sqlite3 "$work/b.rb" \
		"SELECT json_extract(event, '\$.data.$1') FROM events"
}
expect_eq 0 "$(data complete)" "complete flag"
expect_eq 2 "$(data errors)" "error count"

expect_status 1 as_user "$UNPRIV_RUNBUNDLE" checkout "$work/b.rb" latest \
	"$work/dst"
expect_grep "not checked out: 'unreadable': could not be read" "$TMP/err"
expect_eq visible "$(cat "$work/dst/readable")" "readable file"
[ ! -e "$work/dst/unreadable" ] || fail "unreadable file was created"
