#!/bin/sh
# On a terminal, gate cuts a long line of non-ASCII paths by columns and
# between characters, so the line stays valid UTF-8 and fills 80 columns.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/inspect/gate_lib.sh"
command -v script >/dev/null || skip "script is missing"
command -v iconv >/dev/null || skip "iconv is missing"

# A cut that counts bytes ends inside a two-byte 'é' of the first name.
d=$TMP/run
mkdir -p "$d/before" "$d/after/.github"
for name in xéééééééééééé yààààààààààààà; do
	echo x >"$d/after/.github/$name"
done
run_spec "$d"
run_finish "$d"
forge "$d/b.rb" "$d/spec"

script -qec "env NO_COLOR=1 '$RUNBUNDLE' gate '$d/b.rb'" /dev/null \
	>"$TMP/tty" || true
line=$(grep -a '^protected-path' "$TMP/tty" | tr -d '\r')
expect_eq "protected-path   2 protected paths changed: \
'.github/xéééééééééééé', '.github..." "$line" "the cut line"
printf '%s\n' "$line" | iconv -f UTF-8 -t UTF-8 >/dev/null ||
	fail "the cut line is not UTF-8: $line"
exit 0
