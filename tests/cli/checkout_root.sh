#!/bin/sh
# checkout gives the target directory the mode and mtime that the
# snapshot recorded for the snapshotted directory itself.
. "$TESTS_DIR/lib.sh"

mkdir -p "$TMP/src/sub"
chmod 0710 "$TMP/src"
touch -d '2020-01-02 03:04:05' "$TMP/src"
expect_status 0 "$RUNBUNDLE" snapshot "$TMP/a.rb" "$TMP/src"
expect_status 0 "$RUNBUNDLE" checkout "$TMP/a.rb" latest "$TMP/dest"
expect_eq "$(stat -c '%a %Y' "$TMP/src")" "$(stat -c '%a %Y' "$TMP/dest")" \
	"mode and mtime of the checked-out directory"
