#!/bin/sh
# Snapshot a directory with every entry kind, check it out, and compare
# the two byte for byte with their metadata: modes, mtimes, link targets,
# hardlink identity and the allocated blocks of a sparse file.
. "$TESTS_DIR/lib.sh"

src=$TMP/src
mkdir -p "$src/dir/sub" "$src/empty" "$src/ro" "$src/sticky"

printf 'hello\n' >"$src/dir/sub/file"
: >"$src/empty-file"
printf '#!/bin/sh\n' >"$src/exec"
chmod 755 "$src/exec"
printf 'secret' >"$src/private"
chmod 600 "$src/private"
printf 'x' >"$src/caf$(printf '\351')"		# Latin-1, not UTF-8
printf 'y' >"$src/new
line"
head -c 300000 /dev/urandom >"$src/dir/random"	# chunked content
ln "$src/dir/sub/file" "$src/hardlink"
ln "$src/dir/sub/file" "$src/dir/hardlink2"
ln -s ../loop-b "$src/dir/loop-a"		# a symlink loop
ln -s loop-a "$src/dir/../loop-b"
ln -s /nonexistent/target "$src/dangling"
ln -s dir/sub/file "$src/relative-link"
mkfifo "$src/fifo"
# Enough entries that the walk splits their lstat calls across threads.
mkdir "$src/many"
i=0
while [ $i -lt 150 ]; do
	printf '%s\n' $i >"$src/many/f$i"
	[ $((i % 10)) -ne 0 ] || ln -s "f$i" "$src/many/l$i"
	i=$((i + 1))
done
if [ "$(id -u)" -eq 0 ]; then
	mknod "$src/null-device" c 1 3
fi

# A 5 GiB sparse file: two data blocks with holes around them.
truncate -s 5G "$src/sparse"
head -c 4096 /dev/urandom |
	dd of="$src/sparse" bs=4096 seek=1000 conv=notrunc 2>/dev/null
head -c 8192 /dev/urandom |
	dd of="$src/sparse" bs=4096 seek=1000000 conv=notrunc 2>/dev/null
# A file that is one hole.
truncate -s 1M "$src/all-hole"

touch -h -d '2001-02-03 04:05:06.123456789' "$src/dir/loop-a"
touch -d '1999-12-31 23:59:59.5' "$src/private"
chmod 555 "$src/ro"
chmod 1777 "$src/sticky"
touch -d '2010-01-01 00:00:00.25' "$src/dir/sub"

expect_status 0 "$RUNBUNDLE" snapshot "$TMP/b.rb" "$src"
expect_grep '^snapshot 1 [0-9a-f]\{64\}$' "$TMP/out"
expect_grep '^digest [0-9a-f]\{64\}$' "$TMP/out"
cp "$TMP/out" "$TMP/snap1.out"

expect_status 0 "$RUNBUNDLE" checkout "$TMP/b.rb" latest "$TMP/dst"

# Everything but directory sizes, which depend on the directory's
# history, and the root itself, whose metadata a snapshot does not keep.
listing() {
	(cd "$1" && find . -mindepth 1 \
		\( -type d -printf '%P|%y|%m|%T@\n' \) -o \
		\( -printf '%P|%y|%m|%T@|%s|%l|%U|%G|%D\n' \)) | sort
}
listing "$src" | sed 's/|[0-9]*$//' >"$TMP/src.list"
listing "$TMP/dst" | sed 's/|[0-9]*$//' >"$TMP/dst.list"
diff "$TMP/src.list" "$TMP/dst.list" >&2 ||
	fail "checkout differs from the source in metadata"

for f in dir/sub/file empty-file exec private "caf$(printf '\351')" \
	dir/random all-hole; do
	cmp "$src/$f" "$TMP/dst/$f" || fail "content differs: $f"
done

# Reading 5 GiB of holes takes seconds, so the sparse file is compared
# by its data extents (SEEK_DATA and SEEK_HOLE) and their bytes.
extents() {
	/usr/bin/python3 - "$1" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
size, off = os.fstat(fd).st_size, 0
while off < size:
    try:
        data = os.lseek(fd, off, os.SEEK_DATA)
    except OSError:
        break
    hole = os.lseek(fd, data, os.SEEK_HOLE)
    print(data, hole - data)
    off = hole
PY
}
extents "$src/sparse" >"$TMP/src.extents"
extents "$TMP/dst/sparse" >"$TMP/dst.extents"
diff "$TMP/src.extents" "$TMP/dst.extents" >&2 ||
	fail "sparse checkout has other data extents than the source"
while read -r offset length; do
	cmp -i "$offset" -n "$length" "$src/sparse" "$TMP/dst/sparse" ||
		fail "sparse data differs at $offset"
done <"$TMP/src.extents"

# Hardlinks: the same three names share one inode.
[ "$TMP/dst/hardlink" -ef "$TMP/dst/dir/sub/file" ] ||
	fail "hardlink is not a link to dir/sub/file"
[ "$TMP/dst/dir/hardlink2" -ef "$TMP/dst/dir/sub/file" ] ||
	fail "dir/hardlink2 is not a link to dir/sub/file"
expect_eq 3 "$(stat -c %h "$TMP/dst/dir/sub/file")" "link count"

# Symlinks are recreated, not followed.
expect_eq ../loop-b "$(readlink "$TMP/dst/dir/loop-a")" "loop target"
expect_eq /nonexistent/target "$(readlink "$TMP/dst/dangling")" \
	"dangling target"

# Sparse files stay sparse: no more blocks allocated than in the source.
src_blocks=$(stat -c %b "$src/sparse")
dst_blocks=$(stat -c %b "$TMP/dst/sparse")
[ "$dst_blocks" -le "$src_blocks" ] ||
	fail "sparse checkout allocates $dst_blocks blocks, source $src_blocks"
expect_eq 5368709120 "$(stat -c %s "$TMP/dst/sparse")" "sparse size"
expect_eq 0 "$(stat -c %b "$TMP/dst/all-hole")" "blocks of a hole"

if [ "$(id -u)" -eq 0 ]; then
	expect_eq "character special file 1 3" \
		"$(stat -c '%F %t %T' "$TMP/dst/null-device")" "device"
fi

# A snapshot of the checkout has the same root tree as the source:
# names, content and metadata all survived.
root1=$(sed -n 's/^snapshot 1 //p' "$TMP/snap1.out")
expect_status 0 "$RUNBUNDLE" snapshot "$TMP/b.rb" "$TMP/dst"
expect_grep "^snapshot 2 $root1\$" "$TMP/out"
