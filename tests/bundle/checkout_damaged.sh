#!/bin/sh
# checkout and export --format dir of content that cannot be written
# whole: a damaged object is reported by its id with a hint to verify,
# a full file system by its directory, and neither leaves a file that
# looks complete.
. "$TESTS_DIR/lib.sh"

src=$TMP/src
mkdir -p "$src"
text=$(printf 'print(%s)\n' $(seq 1 60))
printf '%s\n' "$text" >"$src/calc.py"
printf 'ok\n' >"$src/readme"
expect_status 0 "$RUNBUNDLE" snapshot "$TMP/good.rb" "$src"

# The object of calc.py gets other bytes of the same length, stored raw:
# it still decodes, but no longer hashes to its id.
size=$(stat -c %s "$src/calc.py")
id=$(sqlite3 "$TMP/good.rb" "SELECT lower(hex(id)) FROM objects
	WHERE kind = 'blob' AND size = $size")
[ -n "$id" ] || fail "no blob object of $size bytes"
cp "$TMP/good.rb" "$TMP/bad.rb"
sqlite3 "$TMP/bad.rb" "UPDATE objects SET encoding = 'raw',
	data = zeroblob($size) WHERE id = x'$id'"

# damaged COMMAND...: the command fails, names the file and the object,
# points at verify, and leaves no calc.py.
damaged() {
	dir=$1
	shift
	expect_status 3 "$@"
	expect_grep "cannot check out file: 'calc.py': cannot read object: \
'$id': content does not match its id" "$TMP/err"
	expect_grep "^hint: run 'runbundle verify $TMP/bad.rb'" "$TMP/err"
	[ ! -e "$dir/calc.py" ] || fail "$*: left a calc.py behind"
}
damaged "$TMP/co" "$RUNBUNDLE" checkout "$TMP/bad.rb" latest "$TMP/co"
damaged "$TMP/ex" "$RUNBUNDLE" export --format dir --allow-incomplete \
	-o "$TMP/ex" "$TMP/bad.rb"

# The good bundle checks out whole.
expect_status 0 "$RUNBUNDLE" checkout "$TMP/good.rb" latest "$TMP/co2"
cmp "$src/calc.py" "$TMP/co2/calc.py" || fail "calc.py differs"

# A full file system: a tmpfs of 64 KiB, and a file four times that.
[ "$(id -u)" = 0 ] || skip "mounting a tmpfs needs root"
mkdir "$TMP/mnt"
mount -t tmpfs -o size=64k tmpfs "$TMP/mnt" 2>/dev/null ||
	skip "cannot mount a tmpfs"
trap 'umount "$TMP/mnt"; cleanup' EXIT
head -c 262144 /dev/urandom >"$src/big.bin"
expect_status 0 "$RUNBUNDLE" snapshot "$TMP/good.rb" "$src"
expect_status 3 "$RUNBUNDLE" checkout "$TMP/good.rb" latest "$TMP/mnt/co"
expect_grep "cannot check out file: 'big.bin': No space left on device" \
	"$TMP/err"
expect_grep "^hint: free space on the file system of '$TMP/mnt/co'" \
	"$TMP/err"
[ ! -e "$TMP/mnt/co/big.bin" ] || fail "a full disk left big.bin behind"
