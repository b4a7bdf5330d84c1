#!/bin/sh
# ls shows the setuid, setgid and sticky bits as ls(1) does: s or t
# where the execute bit is set too, S or T where it is not.
. "$TESTS_DIR/lib.sh"

src=$TMP/src
mkdir -p "$src/open" "$src/shut"
: >"$src/suid"
: >"$src/sgid"
chmod 4755 "$src/suid"
chmod 2644 "$src/sgid"
chmod 1777 "$src/open"
chmod 1770 "$src/shut"
expect_status 0 "$RUNBUNDLE" snapshot --finalize "$TMP/b.rb" "$src"
expect_status 0 "$RUNBUNDLE" ls "$TMP/b.rb"
expect_eq 'drwxrwxrwt            0  open/
-rw-r-Sr--            0  sgid
drwxrwx--T            0  shut/
-rwsr-xr-x            0  suid' "$(cat "$TMP/out")" "ls of the special bits"
