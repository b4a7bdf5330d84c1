#!/bin/sh
# The executable links only the sandbox and help; every other command is
# loaded from the commands module. Each command must still be found,
# from the build tree and from an installed prefix, and a missing module
# must be named with the fix.
. "$TESTS_DIR/lib.sh"

# The light commands work without the module.
mkdir -p "$TMP/alone"
cp "$RUNBUNDLE" "$TMP/alone/runbundle"
expect_status 0 "$TMP/alone/runbundle" --version
expect_grep '^runbundle [0-9]' "$TMP/out"
expect_status 0 "$TMP/alone/runbundle" help
expect_grep '^  record ' "$TMP/out"
expect_status 0 "$TMP/alone/runbundle" help record
expect_status 0 "$TMP/alone/runbundle" record --help
expect_status 0 "$TMP/alone/runbundle" sandbox --workspace "$TMP" -- true

# libcrypto is opened only for the seccomp filter's digest, which only a
# description needs, so a plain run does not load it at all. libseccomp
# is linked into the executable, and cJSON shows that LD_DEBUG works.
expect_status 0 env LD_DEBUG=files "$TMP/alone/runbundle" sandbox \
	--workspace "$TMP" -- true
expect_grep 'file=libcjson' "$TMP/err"
if grep -q 'file=libcrypto' "$TMP/err"; then
	fail "a run without --description loaded libcrypto"
fi
if grep -q 'file=libseccomp' "$TMP/err"; then
	fail "the executable loaded libseccomp, which it links statically"
fi
expect_status 0 env LD_DEBUG=files "$TMP/alone/runbundle" sandbox \
	--workspace "$TMP" --description "$TMP/described.json" -- true
expect_grep 'file=libcrypto' "$TMP/err"
expect_grep '"sha256":[[:space:]]*"[0-9a-f]\{64\}"' "$TMP/described.json"

# The other commands name the missing file and the fix.
expect_status 3 "$TMP/alone/runbundle" verify "$TMP/none.rb"
expect_grep "^runbundle: cannot load the commands module: '$TMP/alone/../" \
	"$TMP/err"
expect_grep '^hint: build it with ninja' "$TMP/err"
expect_grep 'needs runbundle-commands\.so beside it$' "$TMP/err"

# Every command of the table is found, in the build tree and after
# meson install: an unknown option is a usage error from the command
# itself, not a failure to load it.
every_command() {
	for cmd in $("$1" help | awk '/^  [a-z]/ { print $1 }'); do
		[ "$cmd" = help ] && continue
		expect_status 2 "$1" "$cmd" --no-such-option
		if grep -q 'commands module' "$TMP/err"; then
			cat "$TMP/err" >&2
			fail "$cmd: not found in the commands module"
		fi
	done
}

every_command "$RUNBUNDLE"
meson install -C "$BUILD_DIR" --no-rebuild --quiet --destdir "$TMP/dest" \
	>"$TMP/install.log" 2>&1 || { cat "$TMP/install.log" >&2;
				      fail "meson install failed"; }
installed=$(find "$TMP/dest" -path '*/bin/runbundle' -type f)
[ -n "$installed" ] || fail "meson install put no bin/runbundle in $TMP/dest"
every_command "$installed"
expect_status 2 "$installed" verify
expect_grep '^runbundle: missing bundle' "$TMP/err"
