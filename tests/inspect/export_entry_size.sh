#!/bin/sh
# export --format tar, cat and checkout on a tree whose file entry
# records another size than its content has: each fails with the entry's
# name, and the tar is neither padded with zeros up to the recorded size
# nor kept.
. "$TESTS_DIR/lib.sh"
command -v sqlite3 >/dev/null || skip "sqlite3 is missing"

# resize BUNDLE SIZE: set the size of the only entry of the last
# snapshot's root tree to SIZE, with every hash made to match
# (resize_entry.py).
resize() {
	/usr/bin/python3 "$TESTS_DIR/bundle/resize_entry.py" "$1" "$2" \
		>/dev/null
}

mkdir "$TMP/src"
printf 'small\n' >"$TMP/src/f"

# check SIZE LONGER_OR_SHORTER: the entry records SIZE bytes for the
# 6 bytes of content.
check() {
	b="$TMP/b-$1.rb"
	expect_status 0 "$RUNBUNDLE" snapshot --finalize "$b" "$TMP/src"
	resize "$b" "$1"
	# A tebibyte of zeros would take minutes; the check takes less.
	expect_status 3 timeout 60 "$RUNBUNDLE" export --format tar \
		-o "$TMP/out-$1.tar" "$b"
	expect_grep "^runbundle: cannot read file: 'f': content $2 than its \
entry\$" "$TMP/err"
	for f in "$TMP"/out-"$1".tar*; do
		[ -e "$f" ] && fail "export left '$f' behind"
	done
	expect_status 3 "$RUNBUNDLE" cat "$b" f
	expect_grep "^runbundle: cannot read file: 'f': content $2 than its \
entry\$" "$TMP/err"
	expect_status 3 timeout 60 "$RUNBUNDLE" checkout "$b" latest \
		"$TMP/co-$1"
	expect_grep "^runbundle: cannot check out file: 'f': content $2 \
than its entry\$" "$TMP/err"
	[ ! -e "$TMP/co-$1/f" ] || fail "checkout kept the damaged 'f'"
}

check 7 shorter
check 1099511627776 shorter
check 5 longer
check 0 longer
