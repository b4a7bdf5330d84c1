#!/bin/sh
# Checkout and export to a directory clear the setuid and setgid bits of
# files, which a bundle could otherwise use to make a program that runs
# as root in a checkout as root. --keep-setuid restores them. A
# directory keeps its setgid bit, which only passes its group on.
. "$TESTS_DIR/lib.sh"

src=$TMP/src
mkdir -p "$src/shared"
cp /bin/true "$src/suid"
cp /bin/true "$src/sgid"
chmod 4755 "$src/suid"
chmod 2755 "$src/sgid" "$src/shared"
expect_status 0 "$RUNBUNDLE" snapshot --finalize "$TMP/b.rb" "$src"

expect_status 0 "$RUNBUNDLE" checkout "$TMP/b.rb" latest "$TMP/plain"
expect_eq 755 "$(stat -c %a "$TMP/plain/suid")" "mode of the setuid file"
expect_eq 755 "$(stat -c %a "$TMP/plain/sgid")" "mode of the setgid file"
expect_eq 2755 "$(stat -c %a "$TMP/plain/shared")" \
	"mode of the setgid directory"
expect_grep "^runbundle: warning: setuid and setgid bits not restored: \
'2 files': " "$TMP/err"
expect_grep "^hint: pass --keep-setuid to restore them$" "$TMP/err"

expect_status 0 "$RUNBUNDLE" checkout --keep-setuid "$TMP/b.rb" latest \
	"$TMP/kept"
expect_eq 4755 "$(stat -c %a "$TMP/kept/suid")" "mode with --keep-setuid"
expect_eq 2755 "$(stat -c %a "$TMP/kept/sgid")" \
	"setgid mode with --keep-setuid"
if grep -q warning "$TMP/err"; then
	fail "checkout --keep-setuid warned"
fi

expect_status 0 "$RUNBUNDLE" export --format dir -o "$TMP/export" "$TMP/b.rb"
expect_eq 755 "$(stat -c %a "$TMP/export/suid")" "mode of the exported file"
expect_status 0 "$RUNBUNDLE" export --format dir --keep-setuid \
	-o "$TMP/export-kept" "$TMP/b.rb"
expect_eq 4755 "$(stat -c %a "$TMP/export-kept/suid")" \
	"exported mode with --keep-setuid"
exit 0
