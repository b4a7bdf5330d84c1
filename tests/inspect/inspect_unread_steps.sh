#!/bin/sh
# inspect names the steps whose snapshot misses unreadable entries,
# which gate's incomplete rule fails on, in its text and its JSON. Run
# as the unprivileged test user, because root reads everything.
. "$TESTS_DIR/lib.sh"
unpriv_setup

unpriv_workdir
as_user sh -c '
	set -e
	mkdir "$2/ws"
	echo a >"$2/ws/a"
	echo s >"$2/ws/secret"
	chmod 000 "$2/ws/secret"
	"$1" snapshot "$2/b.rb" "$2/ws" >/dev/null 2>&1 || :
	echo b >"$2/ws/a"
	"$1" snapshot --finalize "$2/b.rb" "$2/ws" >/dev/null 2>&1 || :
' sh "$UNPRIV_RUNBUNDLE" "$work"
if as_user cat "$work/ws/secret" >/dev/null 2>&1; then
	skip "this user can read a file of mode 000"
fi

expect_status 0 as_user "$UNPRIV_RUNBUNDLE" inspect "$work/b.rb"
line='unread    steps 0, 1: unreadable or changing entries, see runbundle'
expect_grep "^  $line log\$" "$TMP/out"
expect_status 0 as_user "$UNPRIV_RUNBUNDLE" inspect --json "$work/b.rb"
expect_eq '[0,1]' "$(jq -c .files.incomplete_steps "$TMP/out")" \
	"incomplete steps in the JSON"
exit 0
