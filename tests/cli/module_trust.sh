#!/bin/sh
# A copy of the executable loads the commands module beside it only
# when the module is of its own build, owned by root, the caller or the
# executable's owner, and not writable by every user. The module runs
# with the caller's privileges, and a copy may sit in a shared
# directory.
. "$TESTS_DIR/lib.sh"

build=$(dirname "$RUNBUNDLE")
id=$(sed -n 's/^#define RUNBUNDLE_BUILD_ID "\(.*\)"$/\1/p' \
	"$build/module_config.h")
[ -n "$id" ] || fail "no build id in '$build/module_config.h'"
mkdir "$TMP/bin" "$TMP/ws"
cp "$RUNBUNDLE" "$build/runbundle-commands.so" "$TMP/bin/"
module=$TMP/bin/runbundle-commands.so

expect_status 0 "$TMP/bin/runbundle" snapshot "$TMP/s.rb" "$TMP/ws"

# The module of another build: the same file with another id.
cp "$module" "$TMP/good.so"
python3 - "$module" "$id" <<'PY'
import sys
path, old = sys.argv[1], sys.argv[2].encode()
data = open(path, "rb").read()
assert data.count(old) == 1, data.count(old)
open(path, "wb").write(data.replace(old, b"0" * len(old)))
PY
expect_status 3 "$TMP/bin/runbundle" verify --allow-incomplete "$TMP/s.rb"
expect_grep "^runbundle: cannot load the commands module: '$module': \
it was built with another runbundle executable$" "$TMP/err"
expect_grep '^hint: runbundle loads only the module of its own build' \
	"$TMP/err"
cp "$TMP/good.so" "$module"

chmod o+w "$module"
expect_status 3 "$TMP/bin/runbundle" verify --allow-incomplete "$TMP/s.rb"
expect_grep "'$module': anyone may write it$" "$TMP/err"
chmod o-w "$module"
expect_status 0 "$TMP/bin/runbundle" verify --allow-incomplete "$TMP/s.rb"

# Another user's module beside root's executable.
if [ "$(id -u)" -eq 0 ]; then
	unpriv_setup
	chown "$TEST_USER" "$module"
	expect_status 3 "$TMP/bin/runbundle" verify --allow-incomplete "$TMP/s.rb"
	expect_grep "'$module': it belongs to uid [0-9]*, not to root, you \
or the owner of the executable$" "$TMP/err"
	# The owner of both is trusted, as the executable is.
	chown "$TEST_USER" "$TMP/bin/runbundle"
	expect_status 0 "$TMP/bin/runbundle" verify --allow-incomplete "$TMP/s.rb"
fi
