#!/bin/sh
# open_readonly.sh - verify and inspect open an unfinalized bundle as a
# user who cannot write its folder or the file, and leave no file behind.
# A writer in such a folder is rejected with the folder as the reason,
# and a -wal that SQLite finds malformed is named as damaged.
. "$TESTS_DIR/lib.sh"
WRITER=$1

[ "$(id -u)" -eq 0 ] || skip "needs root to make a folder the user cannot write"
unpriv_setup
chmod 755 "$TMP"

# A bundle closed by its writer: back in rollback-journal mode, with no
# -wal file.
mkdir "$TMP/dir" "$TMP/ro" "$TMP/rw"
echo hello >"$TMP/dir/a"
"$RUNBUNDLE" snapshot "$TMP/ro/closed.rb" "$TMP/dir" >/dev/null ||
	fail "snapshot failed"
# Bytes 18 and 19 of the header are 1 in rollback-journal mode.
expect_eq "1 1" "$(od -An -j18 -N2 -tu1 "$TMP/ro/closed.rb" | xargs)" \
	"journal mode of an unfinalized bundle"
[ ! -e "$TMP/ro/closed.rb-wal" ] || fail "snapshot left a WAL file"

# A bundle whose writer was killed: its -wal and -shm stay beside it.
: >"$TMP/committed"
"$WRITER" loop "$TMP/ro/killed.rb" 7 >"$TMP/committed" 2>"$TMP/writer.err" &
pid=$!
while [ "$(wc -l <"$TMP/committed")" -lt 3 ]; do sleep 0.05; done
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
[ -s "$TMP/ro/killed.rb-wal" ] || fail "the killed writer left no WAL"
committed=$(tail -n 1 "$TMP/committed")

chmod 444 "$TMP/ro/closed.rb"
chmod 644 "$TMP/ro/killed.rb" "$TMP/ro/killed.rb-wal" "$TMP/ro/killed.rb-shm"
ls -A "$TMP/ro" >"$TMP/before"

# As a user who can write neither the folder nor the files.
for name in closed killed; do
	expect_status 0 as_user "$UNPRIV_RUNBUNDLE" verify --allow-incomplete \
		"$TMP/ro/$name.rb"
	expect_grep '^OK: ' "$TMP/out"
done
expect_status 0 as_user "$UNPRIV_RUNBUNDLE" verify --allow-incomplete --json \
	"$TMP/ro/killed.rb"
verified=$(jq .verified_events "$TMP/out")
[ "$verified" -ge "$committed" ] ||
	fail "$committed events committed, $verified verified"
expect_status 0 as_user "$UNPRIV_RUNBUNDLE" log --allow-incomplete \
	"$TMP/ro/closed.rb"
ls -A "$TMP/ro" >"$TMP/after"
cmp -s "$TMP/before" "$TMP/after" ||
	fail "a read left files behind: $(comm -13 "$TMP/before" "$TMP/after")"

# The WAL cannot be read without its -shm or a folder to create it in:
# rejected with the fix, never read without its committed events.
rm "$TMP/ro/killed.rb-shm"
expect_status 3 as_user "$UNPRIV_RUNBUNDLE" verify --allow-incomplete \
	"$TMP/ro/killed.rb"
expect_grep "cannot open bundle: '$TMP/ro/killed.rb': .*killed.rb-wal" \
	"$TMP/err"
expect_grep '^hint: copy ' "$TMP/err"

# A -wal whose one commit is a page 1 with no valid b-tree, with valid
# checksums: SQLite reads it and finds the bundle malformed, which a
# copy in a writable folder would not fix.
mkdir "$TMP/bad"
cp "$TMP/ro/closed.rb" "$TMP/bad/b.rb"
/usr/bin/python3 - "$TMP/bad/b.rb" <<'PY'
import struct, sys
path = sys.argv[1]
data = open(path, "rb").read()
size = struct.unpack(">H", data[16:18])[0]
page = bytearray(data[:size])
page[100] = 0xff  # not a b-tree page type

def checksum(buf, s0, s1):
	for i in range(0, len(buf), 8):
		x0, x1 = struct.unpack(">II", buf[i:i + 8])
		s0 = (s0 + x0 + s1) & 0xffffffff
		s1 = (s1 + x1 + s0) & 0xffffffff
	return s0, s1

head = struct.pack(">IIIIII", 0x377f0683, 3007000, size, 0, 1, 2)
sums = checksum(head, 0, 0)
head += struct.pack(">II", *sums)
frame = struct.pack(">II", 1, len(data) // size)
sums = checksum(frame + bytes(page), *sums)
frame += struct.pack(">IIII", 1, 2, *sums)
open(path + "-wal", "wb").write(head + frame + bytes(page))
PY
expect_status 3 "$RUNBUNDLE" verify --allow-incomplete "$TMP/bad/b.rb"
expect_grep "^runbundle: cannot open bundle: '$TMP/bad/b.rb': its \
write-ahead log '$TMP/bad/b.rb-wal' is damaged or belongs to another file" \
	"$TMP/err"
expect_grep "^hint: move '$TMP/bad/b.rb-wal' away if another file" \
	"$TMP/err"

# As root, or any reader who can write the folder, a bundle without a
# -wal file leaves nothing behind either.
cp "$TMP/ro/closed.rb" "$TMP/rw/closed.rb"
chmod 444 "$TMP/rw/closed.rb"
expect_status 0 "$RUNBUNDLE" verify --allow-incomplete "$TMP/rw/closed.rb"
expect_eq closed.rb "$(ls -A "$TMP/rw")" "files after a read-only verify"

# A writer needs to create the -wal file in the folder. A writable
# bundle in a folder the user cannot write is rejected for that reason.
mkdir "$TMP/locked"
cp "$TMP/ro/closed.rb" "$TMP/locked/mine.rb"
chown "$TEST_USER" "$TMP/locked/mine.rb"
chmod 644 "$TMP/locked/mine.rb"
expect_status 3 as_user "$UNPRIV_RUNBUNDLE" snapshot "$TMP/locked/mine.rb" \
	"$TMP/dir"
expect_grep "^runbundle: cannot open bundle for writing: \
'$TMP/locked/mine.rb': its folder is not writable, and a writer creates \
'$TMP/locked/mine.rb-wal' beside it\$" "$TMP/err"
expect_grep '^hint: make the folder writable' "$TMP/err"
exit 0
