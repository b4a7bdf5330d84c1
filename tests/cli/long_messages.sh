#!/bin/sh
# A message that names a long path keeps its reason: errors are not cut
# at a fixed length, neither in the libraries nor on the terminal.
. "$TESTS_DIR/lib.sh"

# deep_path N DIGIT: $TMP followed by N names of 200 DIGITs.
deep_path() {
	_path=$TMP
	_i=0
	while [ $_i -lt "$1" ]; do
		_path=$_path/$(printf "%0200d" "$2")
		_i=$((_i + 1))
	done
	echo "$_path"
}

# 30 names of 200 bytes: 6,000 bytes, longer than PATH_MAX (4,096).
long=$(deep_path 30 0)

expect_status 3 "$RUNBUNDLE" verify "$long/x.rb"
expect_grep "^runbundle: cannot open bundle: '$long/x.rb': File name too \
long$" "$TMP/err"

# The same message from another library, and its path as the command's
# operand.
expect_status 3 "$RUNBUNDLE" checkout "$TMP/missing.rb" latest "$long/dir"
expect_grep "^runbundle: cannot open bundle: '$TMP/missing.rb': No such \
file or directory$" "$TMP/err"
expect_status 3 "$RUNBUNDLE" snapshot "$long/s.rb" "$TMP"
expect_grep "'$long/s.rb'.*: File name too long$" "$TMP/err"

# A recording's own failure, kept while its threads stop, keeps its
# reason and its hint too: here 6 names of 200 bytes.
mid=$(deep_path 6 1)
mkdir -p "$mid" "$TMP/ws"
: >"$mid/r.rb-wal"
expect_status 3 "$RUNBUNDLE" record --workspace "$TMP/ws" --sandbox none \
	-o "$mid/r.rb" -- true
expect_grep "^runbundle: cannot create the bundle: '$mid/r.rb': a leftover \
'wal' file is beside it$" "$TMP/err"
expect_grep "^hint: remove '$mid/r.rb-wal', or choose another name with -o$" \
	"$TMP/err"

# A bundle path longer than SQLite opens: the reason is its length, not
# SQLite's "unable to open database file", for a new bundle and for one
# moved there.
sqlite=$(deep_path 3 2)
mkdir -p "$sqlite"
expect_status 3 "$RUNBUNDLE" snapshot "$sqlite/b.rb" "$TMP/ws"
expect_grep "^runbundle: cannot create bundle: '$sqlite/b.rb': its absolute \
path is [0-9]* bytes, more than SQLite opens" "$TMP/err"
expect_grep "^hint: give the bundle a shorter path" "$TMP/err"
expect_status 0 "$RUNBUNDLE" snapshot --finalize "$TMP/short.rb" "$TMP/ws"
mv "$TMP/short.rb" "$sqlite/moved.rb"
expect_status 3 "$RUNBUNDLE" verify "$sqlite/moved.rb"
expect_grep "^runbundle: cannot open bundle: '$sqlite/moved.rb': its \
absolute path is" "$TMP/err"
exit 0
