#!/bin/sh
# export --format tar and tar.zst keep every mtime to the nanosecond:
# of files, directories and FIFOs with short names as well as of an
# entry whose long name needs a pax header anyway. Extracted with GNU
# tar, the archive equals the snapshotted tree.
. "$TESTS_DIR/lib.sh"
command -v tar >/dev/null || skip "tar is missing"
command -v zstd >/dev/null || skip "zstd is missing"

w=$TMP/w
mkdir -p "$w/dir/sub"
echo a >"$w/a"
echo b >"$w/dir/sub/b"
mkfifo "$w/fifo"
long=$(printf 'n%.0s' $(seq 200))
echo long >"$w/$long"
touch -d '2001-02-03 04:05:06.123456789' "$w/a" "$w/fifo" "$w/$long"
touch -d '2002-02-03 04:05:06.5' "$w/dir/sub/b" "$w/dir/sub"
touch -d '2003-02-03 04:05:06.000000001' "$w/dir"
expect_status 0 "$RUNBUNDLE" snapshot --finalize "$TMP/b.rb" "$w"

for f in tar tar.zst; do
	expect_status 0 "$RUNBUNDLE" export --format "$f" -o "$TMP/w.$f" \
		"$TMP/b.rb"
	mkdir "$TMP/x.$f"
	tar -xf "$TMP/w.$f" -C "$TMP/x.$f" 2>"$TMP/tar-err" || {
		cat "$TMP/tar-err" >&2
		fail "tar cannot extract the $f export"
	}
	touch -r "$w" "$TMP/x.$f"
	/usr/bin/python3 "$TESTS_DIR/record/tree_compare.py" "$w" \
		"$TMP/x.$f" || fail "the $f export differs from the tree"
done
exit 0
