#!/bin/sh
# A directory nested as deep as a snapshot goes checks out whole, and one
# level deeper is an error entry that checkout skips.
. "$TESTS_DIR/lib.sh"

# 512 levels below the root: the deepest that a snapshot stores.
/usr/bin/python3 - "$TMP/src" <<'PY'
import os, sys
os.mkdir(sys.argv[1])
os.chdir(sys.argv[1])
for _ in range(512):
    os.mkdir('d')
    os.chdir('d')
open('leaf', 'w').write('deep\n')
PY
leaf=$(printf 'd/%.0s' $(seq 512))leaf

expect_status 0 "$RUNBUNDLE" snapshot "$TMP/b.rb" "$TMP/src"
expect_status 0 "$RUNBUNDLE" checkout "$TMP/b.rb" latest "$TMP/dst"
expect_eq deep "$(cat "$TMP/dst/$leaf")" "content of the deepest file"

# One more level is recorded as an error, and the rest still checks out.
mkdir "$TMP/src/$(printf 'd/%.0s' $(seq 512))e"
expect_status 1 "$RUNBUNDLE" snapshot "$TMP/b.rb" "$TMP/src"
expect_status 1 "$RUNBUNDLE" checkout "$TMP/b.rb" latest "$TMP/dst2"
expect_grep "could not be read when snapshotted" "$TMP/err"
expect_eq deep "$(cat "$TMP/dst2/$leaf")" "content beside the error entry"
