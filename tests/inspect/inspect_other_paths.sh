#!/bin/sh
# Directories, symlinks and fifos that a run adds or removes: record's
# summary counts every changed path, and inspect's files line, which
# counts files and symlinks, is followed by the other entries, so that
# the two add up.
. "$TESTS_DIR/lib.sh"

mkdir -p "$TMP/ws/sub"
echo a >"$TMP/ws/a"
echo x >"$TMP/ws/sub/f"
mkdir "$TMP/ws/gone"
(cd "$TMP/ws" && "$RUNBUNDLE" record -o "$TMP/r.rb" -- \
	sh -c 'mkdir e1 e2; ln -s a l; echo b >a; echo y >sub/f;
		rmdir gone; mkfifo p') >"$TMP/rec.out" 2>"$TMP/rec.err" ||
	fail "record failed: $(cat "$TMP/rec.err")"
expect_grep ', 7 files changed,' "$TMP/rec.err"

expect_status 0 "$RUNBUNDLE" inspect "$TMP/r.rb"
expect_grep '^files  *3 changed: 1 added, 2 modified' "$TMP/out"
expect_grep '^  others  *4 directories, fifos or other entries changed$' \
	"$TMP/out"
exit 0
