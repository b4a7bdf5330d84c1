#!/bin/sh
# verify reports a tree whose file entry records another size than its
# content has, which checkout would fail on, for a blob and a chunk list.
. "$TESTS_DIR/lib.sh"
command -v sqlite3 >/dev/null || skip "sqlite3 is missing"

# resize BUNDLE: add one to the size of the only entry of the last
# snapshot's root tree, with every hash made to match, and print the old
# size (resize_entry.py).
resize() {
	/usr/bin/python3 "$TESTS_DIR/bundle/resize_entry.py" "$1"
}

check() { # NAME: a bundle of src-NAME, damaged and verified
	expect_status 0 "$RUNBUNDLE" snapshot "$TMP/$1.rb" "$TMP/src-$1"
	size=$(resize "$TMP/$1.rb")
	expect_status 1 "$RUNBUNDLE" verify --allow-incomplete "$TMP/$1.rb"
	expect_grep "entry 'f' records $((size + 1)) bytes of content, but \
its content [0-9a-f]\{64\} has $size\$" "$TMP/out"
	expect_status 3 "$RUNBUNDLE" checkout "$TMP/$1.rb" latest "$TMP/co-$1"
}

mkdir "$TMP/src-blob" "$TMP/src-chunks"
printf 'small\n' >"$TMP/src-blob/f"
head -c 1500000 /dev/urandom >"$TMP/src-chunks/f"
check blob
check chunks
