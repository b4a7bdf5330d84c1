#!/bin/sh
# A writer killed between its empty -wal and its bundle's name leaves
# the -wal and its BUNDLE.new-PID. Once PID belongs to a process that
# started after that file was written, the -wal is a leftover that the
# user must remove, not the file of another process creating the bundle.
. "$TESTS_DIR/lib.sh"

mkdir "$TMP/ws"
echo one >"$TMP/ws/a"
"$RUNBUNDLE" snapshot --finalize "$TMP/src.rb" "$TMP/ws" >/dev/null
"$RUNBUNDLE" export-bundle -o "$TMP/src.tar.zst" "$TMP/src.rb" >/dev/null

sleep 60 &
other=$!
trap 'kill $other 2>/dev/null || :; cleanup' EXIT
b=$TMP/b.rb
: >"$b-wal"
: >"$b.new-$other"
touch -d '1 hour ago' "$b.new-$other"
expect_status 3 "$RUNBUNDLE" import -o "$b" "$TMP/src.tar.zst"
expect_grep "^runbundle: cannot create bundle: '$b': '$b-wal' of an \
earlier bundle is still there\$" "$TMP/err"

# A file written after its process started may belong to a live creator.
touch "$b.new-$other"
expect_status 3 "$RUNBUNDLE" import -o "$b" "$TMP/src.tar.zst"
expect_grep "^runbundle: cannot create bundle: '$b': another process is \
creating it\$" "$TMP/err"
exit 0
