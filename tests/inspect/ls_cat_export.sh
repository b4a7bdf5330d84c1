#!/bin/sh
# runbundle ls, cat and export on a two-step bundle: listings, file
# content byte for byte, and the workspace of either step as tar,
# tar.zst and a directory, each equal to the tree that was snapshotted.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/inspect/inspect_lib.sh"
command -v jq >/dev/null || skip "jq is missing"

make_tree "$TMP/w"
expect_status 0 "$RUNBUNDLE" snapshot "$TMP/b.rb" "$TMP/w"
cp -a "$TMP/w" "$TMP/initial"
change_tree "$TMP/w"
head -c 3000000 /dev/urandom >"$TMP/w/sub/large"
expect_status 0 "$RUNBUNDLE" snapshot --finalize "$TMP/b.rb" "$TMP/w"

expect_status 0 "$RUNBUNDLE" ls "$TMP/b.rb" initial
expect_eq '-rw-r--r--            7  blob.bin
-rw-r--r--            5  del me.txt
-rw-r--r--            0  empty_del
-rw-r--r--           14  keep.txt
lrwxrwxrwx            8  link -> keep.txt
-rw-r--r--            2  modeonly
-rw-r--r--           10  nonl.txt
-rw-r--r--            2  qu"ote
-rw-r--r--           18  run.sh
drwxr-xr-x            0  sub/
-rw-r--r--            5  tolink' "$(cat "$TMP/out")" "ls of step 0"
expect_status 0 "$RUNBUNDLE" ls "$TMP/b.rb" sub
expect_eq '-rw-r--r--      3000000  sub/large
-rw-r--r--            2  sub/new' "$(cat "$TMP/out")" "ls of the final sub"
cp "$TMP/out" "$TMP/ls.sub"
expect_status 0 "$RUNBUNDLE" ls "$TMP/b.rb" final ./sub//
expect_eq "$(cat "$TMP/ls.sub")" "$(cat "$TMP/out")" "ls of ./sub//"
expect_status 0 "$RUNBUNDLE" ls "$TMP/b.rb" final
cp "$TMP/out" "$TMP/ls.root"
expect_status 0 "$RUNBUNDLE" ls "$TMP/b.rb" final .
expect_eq "$(cat "$TMP/ls.root")" "$(cat "$TMP/out")" "ls of ."
expect_status 0 "$RUNBUNDLE" ls --json -r "$TMP/b.rb" 1
expect_eq 'sub/large file 0644 3000000' "$(jq -r '.entries[] |
	select(.path == "sub/large") | "\(.path) \(.kind) \(.mode) \(.size)"' \
	"$TMP/out")" "ls --json of a chunked file"
expect_status 3 "$RUNBUNDLE" ls "$TMP/b.rb" final nosuch
expect_grep "^runbundle: no such path: 'nosuch': not in the snapshot$" \
	"$TMP/err"
expect_status 3 "$RUNBUNDLE" ls "$TMP/b.rb" final ../etc
expect_grep "'..' is not allowed" "$TMP/err"

# cat writes the bytes as stored: a chunked file, one without a final
# newline, and a file of the initial step that no longer exists.
"$RUNBUNDLE" cat "$TMP/b.rb" sub/large | cmp -s - "$TMP/w/sub/large" ||
	fail "cat of a chunked file differs"
expect_eq 'no newline' "$("$RUNBUNDLE" cat "$TMP/b.rb" 0 nonl.txt)" \
	"cat of step 0"
"$RUNBUNDLE" cat "$TMP/b.rb" initial 'del me.txt' |
	cmp -s - "$TMP/initial/del me.txt" || fail "cat of a deleted file"
expect_status 0 "$RUNBUNDLE" cat --json "$TMP/b.rb" blob.bin
jq -r .base64 "$TMP/out" | base64 -d | cmp -s - "$TMP/w/blob.bin" ||
	fail "cat --json of a binary file"
expect_status 3 "$RUNBUNDLE" cat "$TMP/b.rb" sub
expect_grep "^runbundle: cannot print: 'sub': it is a directory$" "$TMP/err"
expect_grep "^hint: 'runbundle ls' lists a directory$" "$TMP/err"

# export of each format equals the tree; an existing OUT is refused.
final_tree=$(tree_listing "$TMP/w")
expect_status 0 "$RUNBUNDLE" export --format dir -o "$TMP/dir" "$TMP/b.rb"
expect_eq "$final_tree" "$(tree_listing "$TMP/dir")" "export --format dir"
for f in tar tar.zst; do
	expect_status 0 "$RUNBUNDLE" export --format "$f" -o "$TMP/w.$f" \
		"$TMP/b.rb"
	mkdir "$TMP/x.$f"
	tar -xf "$TMP/w.$f" -C "$TMP/x.$f"
	expect_eq "$final_tree" "$(tree_listing "$TMP/x.$f")" \
		"export --format $f"
done
expect_status 0 "$RUNBUNDLE" export --json --format tar --step initial \
	-o "$TMP/i.tar" "$TMP/b.rb"
expect_eq '0 10 1 1' "$(jq -r '"\(.step) \(.files) \(.dirs) \(.symlinks)"' \
	"$TMP/out")" "export --json"
mkdir "$TMP/x.i"
tar -xf "$TMP/i.tar" -C "$TMP/x.i"
expect_eq "$(tree_listing "$TMP/initial")" "$(tree_listing "$TMP/x.i")" \
	"export of the initial step"
expect_status 3 "$RUNBUNDLE" export --format tar -o "$TMP/i.tar" "$TMP/b.rb"
expect_grep "^runbundle: cannot create archive: '.*i.tar': it exists$" \
	"$TMP/err"
# A failed open of the archive names the system's error.
for format in tar tar.zst; do
	expect_status 3 "$RUNBUNDLE" export --format $format \
		-o "$TMP/nodir/x.$format" "$TMP/b.rb"
	expect_grep "^runbundle: cannot create archive: \
'$TMP/nodir/x.$format': No such file or directory\$" "$TMP/err"
done
expect_status 3 "$RUNBUNDLE" export-bundle -o "$TMP/nodir/b.tar.zst" \
	"$TMP/b.rb"
expect_grep "^runbundle: cannot create archive: '$TMP/nodir/b.tar.zst': \
No such file or directory\$" "$TMP/err"
expect_status 2 "$RUNBUNDLE" export --format zip -o "$TMP/z" "$TMP/b.rb"
expect_grep "^runbundle: --format must be tar, tar.zst or dir: 'zip'\$" \
	"$TMP/err"
expect_status 2 "$RUNBUNDLE" export -o "$TMP/z" "$TMP/b.rb"
expect_grep "^runbundle: missing --format: give tar, tar.zst or dir\$" \
	"$TMP/err"
# A dangling symlink at OUT exists, for a directory as for an archive.
ln -s "$TMP/nowhere" "$TMP/dangling"
expect_status 3 "$RUNBUNDLE" export --format dir -o "$TMP/dangling" \
	"$TMP/b.rb"
expect_grep "^runbundle: cannot check out into directory: '.*dangling': \
it exists, as a dangling symlink\$" "$TMP/err"
expect_grep "^hint: remove it or name another directory\$" "$TMP/err"
[ ! -e "$TMP/nowhere" ] || fail "export wrote through a dangling symlink"
for format in tar tar.zst; do
	expect_status 3 "$RUNBUNDLE" export --format $format \
		-o "$TMP/dangling" "$TMP/b.rb"
	expect_grep "^runbundle: cannot create archive: '.*dangling': \
it exists\$" "$TMP/err"
	[ ! -e "$TMP/nowhere" ] ||
		fail "export --format $format wrote through a dangling symlink"
done
# A directory that is not empty, as a failed export leaves it. The hint
# names a fix that export has, since it has no --force.
mkdir "$TMP/full"
echo x >"$TMP/full/x"
expect_status 3 "$RUNBUNDLE" export --format dir -o "$TMP/full" "$TMP/b.rb"
expect_grep "^runbundle: cannot check out into directory: '.*full': \
not empty\$" "$TMP/err"
expect_grep "^hint: remove it or name another directory with -o\$" \
	"$TMP/err"

# A hardlink lists its first link, and cat follows it to the content.
# A name that is not UTF-8 is listed escaped and exported as it is.
mkdir "$TMP/h"
printf 'linked\n' >"$TMP/h/a"
ln "$TMP/h/a" "$TMP/h/b"
printf 'raw\n' >"$TMP/h/$(printf 'not\377utf8')"
expect_status 0 "$RUNBUNDLE" snapshot --finalize "$TMP/h.rb" "$TMP/h"
expect_status 0 "$RUNBUNDLE" ls "$TMP/h.rb"
expect_grep '^-rw-r--r--            7  b => a$' "$TMP/out"
expect_grep '^-rw-r--r--            4  not\\xffutf8$' "$TMP/out"
expect_eq linked "$("$RUNBUNDLE" cat "$TMP/h.rb" b)" "cat of a hardlink"
LC_ALL=C expect_status 0 "$RUNBUNDLE" export --format tar -o "$TMP/h.tar" \
	"$TMP/h.rb"
mkdir "$TMP/x.h"
tar -xf "$TMP/h.tar" -C "$TMP/x.h" 2>/dev/null
expect_eq "$(tree_listing "$TMP/h")" "$(tree_listing "$TMP/x.h")" \
	"export of a name that is not UTF-8"
