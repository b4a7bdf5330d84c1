#!/bin/sh
# A file whose object's size column records far more bytes than its tree
# entry, with a small zstd frame that really decompresses to that many.
# cat, export and checkout reject it by its size column before they
# allocate and decompress it, as content longer than its entry.
. "$TESTS_DIR/lib.sh"
command -v sqlite3 >/dev/null || skip "sqlite3 is missing"
command -v zstd >/dev/null || skip "zstd is missing"

mkdir "$TMP/ws"
printf 'print("hello")\n' >"$TMP/ws/a"
"$RUNBUNDLE" snapshot --finalize "$TMP/b.rb" "$TMP/ws" >/dev/null
id=$(sha256sum <"$TMP/ws/a" | cut -c1-64)

# 256 MiB of zeros compress to a frame of a few KiB.
truncate -s 268435456 "$TMP/zeros"
zstd -q -1 "$TMP/zeros" -o "$TMP/bomb.zst"
rm "$TMP/zeros"
sqlite3 "$TMP/b.rb" "UPDATE objects SET size = 268435456,
	encoding = 'zstd', data = readfile('$TMP/bomb.zst')
	WHERE id = x'$id'"

why="content longer than its entry"
expect_status 3 "$RUNBUNDLE" cat "$TMP/b.rb" latest a
expect_grep "^runbundle: cannot read file: 'a': $why" "$TMP/err"

expect_status 3 "$RUNBUNDLE" export --format tar -o "$TMP/x.tar" "$TMP/b.rb"
expect_grep "$why" "$TMP/err"
[ ! -e "$TMP/x.tar" ] || fail "export left '$TMP/x.tar' behind"

expect_status 3 "$RUNBUNDLE" checkout "$TMP/b.rb" latest "$TMP/co"
expect_grep "$why" "$TMP/err"

# verify names the same object.
expect_status 1 "$RUNBUNDLE" verify "$TMP/b.rb"
expect_grep "records 15 bytes of content, but its content $id" "$TMP/out"

# The same for one chunk of a large file: the chunk list records the
# size of each chunk, and a chunk that declares more is not decompressed.
mkdir "$TMP/big"
head -c 3000000 /dev/urandom >"$TMP/big/r"
"$RUNBUNDLE" snapshot --finalize "$TMP/c.rb" "$TMP/big" >/dev/null
chunk=$(sqlite3 "$TMP/c.rb" "SELECT hex(id) FROM objects WHERE kind = 'blob'
	LIMIT 1")
[ -n "$chunk" ] || fail "the large file has no chunk"
sqlite3 "$TMP/c.rb" "UPDATE objects SET size = 268435456,
	encoding = 'zstd', dict = NULL, data = readfile('$TMP/bomb.zst')
	WHERE id = x'$chunk'"
expect_status 3 "$RUNBUNDLE" cat "$TMP/c.rb" latest r
expect_grep "^runbundle: .*cannot read chunk: '$(echo "$chunk" |
	tr A-F a-f)': 268435456 bytes, its chunk list says [0-9]*" "$TMP/err"
