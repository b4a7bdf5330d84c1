#!/bin/sh
# apply needs only search permission on the target's directories, as
# git does, and names a path that it cannot read as unreadable, not as
# changed or missing. Run as the unprivileged test user, because root
# reads everything.
. "$TESTS_DIR/lib.sh"
unpriv_setup

unpriv_workdir
as_user sh -c '
	set -e
	mkdir -p "$2/ws/d"
	echo a >"$2/ws/a"
	echo x >"$2/ws/d/x"
	"$1" snapshot "$2/b.rb" "$2/ws" >/dev/null
	echo more >>"$2/ws/a"
	echo y >"$2/ws/d/x"
	"$1" snapshot --finalize "$2/b.rb" "$2/ws" >/dev/null
	"$1" checkout "$2/b.rb" 1 "$2/t"
	chmod 000 "$2/t/a"
	chmod 300 "$2/t/d"
' sh "$UNPRIV_RUNBUNDLE" "$work"
if as_user cat "$work/t/a" >/dev/null 2>&1; then
	skip "this user can read a file of mode 000"
fi

# A directory of mode 0300 can be searched and written: only 'a' is in
# the way.
expect_status 1 as_user "$UNPRIV_RUNBUNDLE" apply --to "$work/t" \
	"$work/b.rb"
expect_grep "'a': cannot be read: Permission denied" "$TMP/err"
if grep -q "'d/x'" "$TMP/err"; then
	fail "d/x below a directory of mode 0300 was named"
fi

# A directory of mode 0600 cannot be searched.
as_user chmod 600 "$work/t/d"
expect_status 1 as_user "$UNPRIV_RUNBUNDLE" apply --to "$work/t" \
	"$work/b.rb"
expect_grep "'d/x': cannot be read: Permission denied" "$TMP/err"

as_user chmod 644 "$work/t/a"
as_user chmod 300 "$work/t/d"
expect_status 0 as_user "$UNPRIV_RUNBUNDLE" apply --to "$work/t" \
	"$work/b.rb"
as_user chmod 700 "$work/t/d"
diff -r "$work/ws" "$work/t" >&2 || fail "the target is not the final state"
