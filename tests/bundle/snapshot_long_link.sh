#!/bin/sh
# A hardlinked file whose first link lies deeper than PATH_MAX bytes is
# stored as a copy at its other links: a hardlink entry stores at most
# 65535 bytes of path, and checkout cannot link to a path that long.
. "$TESTS_DIR/lib.sh"

# deep ROOT LEVELS: ROOT/a...a/ (LEVELS names of 250 bytes) contains
# 'file', and ROOT/z is a second link to it.
deep() {
	/usr/bin/python3 - "$1" "$2" <<'PY'
import os, sys
os.mkdir(sys.argv[1])
top = fd = os.open(sys.argv[1], os.O_RDONLY)
for _ in range(int(sys.argv[2])):
    os.mkdir('a' * 250, dir_fd=fd)
    fd = os.open('a' * 250, os.O_RDONLY, dir_fd=fd)
f = os.open('file', os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
os.write(f, b'deep\n')
os.link('file', 'z', src_dir_fd=fd, dst_dir_fd=top)
PY
}

# Past 65535 bytes: no hardlink entry can name the first link.
deep "$TMP/longest" 280
expect_status 0 "$RUNBUNDLE" snapshot "$TMP/longest.rb" "$TMP/longest"
expect_status 0 "$RUNBUNDLE" checkout "$TMP/longest.rb" latest \
	"$TMP/longest.out"
expect_eq deep "$(cat "$TMP/longest.out/z")" "content of the second link"

# Past PATH_MAX: checkout could not make the link.
deep "$TMP/long" 20
expect_status 0 "$RUNBUNDLE" snapshot "$TMP/long.rb" "$TMP/long"
expect_status 0 "$RUNBUNDLE" checkout "$TMP/long.rb" latest "$TMP/long.out"
expect_eq deep "$(cat "$TMP/long.out/z")" "content of the second link"
