#!/bin/sh
# store_dedup.sh - content addressing and chunking: the same content
# twice adds no object, and bytes inserted at the front of a 50 MiB file
# add only a handful of chunks.
. "$TESTS_DIR/lib.sh"
WRITER=$1

count() {
	sqlite3 -readonly "$TMP/b.rb" "SELECT count(*) FROM objects"
}

head -c 52428800 /dev/urandom >"$TMP/big"
echo small >"$TMP/small"
"$WRITER" put "$TMP/b.rb" "$TMP/big" "$TMP/small" >/dev/null
first=$(count)
[ "$first" -ge 50 ] || fail "a 50 MiB file was stored as $first objects"

# The same content again, under another name: nothing new.
cp "$TMP/big" "$TMP/big2"
cp "$TMP/small" "$TMP/small2"
"$WRITER" put "$TMP/b.rb" "$TMP/big2" "$TMP/small2" >/dev/null
expect_eq "$first" "$(count)" "objects after storing the same files"

# 100 bytes at the front: the first chunk changes, plus the chunk list.
{ head -c 100 /dev/urandom; cat "$TMP/big"; } >"$TMP/front"
"$WRITER" put "$TMP/b.rb" "$TMP/front" >/dev/null
added=$(( $(count) - first ))
[ "$added" -ge 2 ] && [ "$added" -le 4 ] ||
	fail "front insertion added $added objects, expected 2 to 4"

# One byte changed in the middle: one or two chunks, plus the list.
before=$(count)
/usr/bin/python3 - "$TMP/big" "$TMP/middle" <<'PY'
import sys
data = bytearray(open(sys.argv[1], 'rb').read())
data[len(data) // 2] ^= 0xff
open(sys.argv[2], 'wb').write(data)
PY
"$WRITER" put "$TMP/b.rb" "$TMP/middle" >/dev/null
added=$(( $(count) - before ))
[ "$added" -ge 2 ] && [ "$added" -le 3 ] ||
	fail "a one-byte change added $added objects, expected 2 or 3"

"$WRITER" finalize "$TMP/b.rb" >/dev/null
expect_status 0 "$RUNBUNDLE" verify "$TMP/b.rb"
exit 0
