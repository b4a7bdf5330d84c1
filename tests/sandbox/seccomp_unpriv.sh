#!/bin/sh
# seccomp_unpriv.sh TEST_SECCOMP - run the seccomp unit tests again as
# the unprivileged test user, who loads the filter under no_new_privs
# without CAP_SYS_ADMIN. Skips when not run as root, because the plain
# run already covers an unprivileged caller then.
. "$TESTS_DIR/lib.sh"

program=${1:?usage: seccomp_unpriv.sh TEST_SECCOMP}
[ "$(id -u)" -eq 0 ] || skip "not root: the plain run is unprivileged"

unpriv_setup
cp "$program" "$TMP/bin/test_seccomp"
chmod 755 "$TMP/bin/test_seccomp"

cd "$TMP"
as_user "$TMP/bin/test_seccomp" >"$TMP/out" 2>&1 || {
	cat "$TMP/out" >&2
	fail "test_seccomp failed as $TEST_USER"
}
expect_grep '^\[  PASSED  \]' "$TMP/out"
if grep -q '^\[  FAILED  \]' "$TMP/out"; then
	cat "$TMP/out" >&2
	fail "test_seccomp reported failures as $TEST_USER"
fi
cat "$TMP/out"
