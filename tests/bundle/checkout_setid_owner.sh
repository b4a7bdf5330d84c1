#!/bin/sh
# --keep-setuid keeps the setuid and setgid bits of a file that another
# user owned when it was snapshotted: a bundle recorded as root and
# checked out by a user, and the reverse. The files belong to the user
# who checks out, as without the option.
. "$TESTS_DIR/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root to switch users"
unpriv_setup

src=$TMP/src
mkdir -p "$src"
cp /bin/true "$src/suid"
cp /bin/true "$src/sgid"
chmod 4755 "$src/suid"
chmod 2755 "$src/sgid"
expect_status 0 "$RUNBUNDLE" snapshot --finalize "$TMP/root.rb" "$src"
chmod a+r "$TMP/root.rb"
unpriv_workdir
expect_status 0 as_user "$UNPRIV_RUNBUNDLE" checkout --keep-setuid \
	"$TMP/root.rb" latest "$work/kept"
expect_eq "4755 $TEST_USER" "$(stat -c '%a %U' "$work/kept/suid")" \
	"root's setuid file checked out by a user"
expect_eq 2755 "$(stat -c %a "$work/kept/sgid")" \
	"root's setgid file checked out by a user"
expect_status 0 as_user "$UNPRIV_RUNBUNDLE" export --format dir \
	--keep-setuid -o "$work/export" "$TMP/root.rb"
expect_eq 4755 "$(stat -c %a "$work/export/suid")" \
	"root's setuid file exported by a user"

chown -R "$TEST_USER:$TEST_USER" "$src"
chmod 4755 "$src/suid"
chmod 2755 "$src/sgid"
expect_status 0 "$RUNBUNDLE" snapshot --finalize "$TMP/user.rb" "$src"
expect_status 0 "$RUNBUNDLE" checkout --keep-setuid "$TMP/user.rb" latest \
	"$TMP/root-kept"
expect_eq "4755 root" "$(stat -c '%a %U' "$TMP/root-kept/suid")" \
	"the user's setuid file checked out by root"
expect_eq 2755 "$(stat -c %a "$TMP/root-kept/sgid")" \
	"the user's setgid file checked out by root"
exit 0
