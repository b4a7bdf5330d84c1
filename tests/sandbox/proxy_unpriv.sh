#!/bin/sh
# proxy_unpriv.sh TEST_PROXY - run the egress proxy tests again as the
# unprivileged test user, because the proxy must serve its tunnels
# without privilege. The program then isolates itself in a user and
# network namespace of its own. Skips when not run as root, because the
# plain run already covers an unprivileged caller then.
. "$TESTS_DIR/lib.sh"

program=${1:?usage: proxy_unpriv.sh TEST_PROXY}
[ "$(id -u)" -eq 0 ] || skip "not root: the plain run is unprivileged"

unpriv_setup
cp "$program" "$TMP/bin/test_proxy"
chmod 755 "$TMP/bin/test_proxy"

cd "$TMP"
as_user "$TMP/bin/test_proxy" >"$TMP/out" 2>&1 || {
	cat "$TMP/out" >&2
	fail "test_proxy failed as $TEST_USER"
}
expect_grep '^\[  PASSED  \]' "$TMP/out"
if grep -q 'SKIPPED\|FAILED' "$TMP/out"; then
	cat "$TMP/out" >&2
	fail "test_proxy skipped or failed cases as $TEST_USER"
fi
cat "$TMP/out"
