#!/bin/sh
# What checkout needs privilege for: device nodes, which an unprivileged
# user's checkout skips and reports, and file owners, which only
# --owner restores.
. "$TESTS_DIR/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root to make a device node"
unpriv_setup

src=$TMP/src
mkdir -p "$src"
mknod "$src/null-device" c 1 3
printf 'owned\n' >"$src/owned"
chown 1234:5678 "$src/owned"
expect_status 0 "$RUNBUNDLE" snapshot "$TMP/b.rb" "$src"
chmod 644 "$TMP/b.rb"

# Root: --owner restores the owner, and without it root owns the file.
expect_status 0 "$RUNBUNDLE" checkout --owner "$TMP/b.rb" latest "$TMP/own"
expect_eq 1234:5678 "$(stat -c %u:%g "$TMP/own/owned")" "restored owner"
expect_status 0 "$RUNBUNDLE" checkout "$TMP/b.rb" latest "$TMP/root"
expect_eq 0:0 "$(stat -c %u:%g "$TMP/root/owned")" "owner without --owner"

# An unprivileged user gets everything but the device node.
work=$TMP/work
mkdir -p "$work"
chown "$TEST_USER" "$work"
expect_status 1 as_user "$UNPRIV_RUNBUNDLE" checkout "$TMP/b.rb" latest \
	"$work/dst"
expect_grep "^runbundle: not checked out: 'null-device': " "$TMP/err"
expect_eq owned "$(cat "$work/dst/owned")" "file beside the device"
[ ! -e "$work/dst/null-device" ] || fail "device node was created"

# --owner needs root, and an unprivileged user's checkout with it stops
# before it writes anything.
expect_status 3 as_user "$UNPRIV_RUNBUNDLE" checkout --owner "$TMP/b.rb" \
	latest "$work/owner"
expect_grep "^runbundle: cannot restore owners: '--owner': only root can \
give files to other users$" "$TMP/err"
expect_grep "^hint: run as root, or leave out --owner$" "$TMP/err"
[ ! -e "$work/owner" ] || fail "checkout --owner wrote files first"
