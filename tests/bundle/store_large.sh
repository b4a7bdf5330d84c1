#!/bin/sh
# store_large.sh - storing and reading back a 512 MiB file stays within
# 100 MiB of address space, so memory does not grow with the file size.
. "$TESTS_DIR/lib.sh"
WRITER=$1

# The sanitizers reserve terabytes of address space, which no limit
# allows.
skip_if_sanitized "$WRITER" \
	"the sanitizers need more address space than the limit"

# glibc reserves 64 MiB of address space for each extra malloc arena,
# and a worker thread gets one or not by timing (2 of 20 runs failed).
MALLOC_ARENA_MAX=1
export MALLOC_ARENA_MAX

# Mostly holes, with random data at a few offsets, so some chunks differ.
truncate -s 512M "$TMP/large"
for mib in 1 200 400 510; do
	head -c 3000000 /dev/urandom |
		dd of="$TMP/large" bs=1M seek="$mib" conv=notrunc \
			status=none
done
truncate -s 512M "$TMP/large"

(
	ulimit -v 102400
	"$WRITER" put "$TMP/b.rb" "$TMP/large" >"$TMP/refs"
) || fail "storing 512 MiB within 100 MiB of address space failed"
ref=$(cut -d' ' -f1 "$TMP/refs")
mkfifo "$TMP/back.fifo"
kind=$(sqlite3 -readonly "$TMP/b.rb" \
	"SELECT kind FROM objects WHERE id = x'$ref'")
expect_eq chunks "$kind" "kind of the stored file"

(
	ulimit -v 102400
	"$WRITER" cat "$TMP/b.rb" "$ref" >"$TMP/back.fifo" &
	cmp "$TMP/large" "$TMP/back.fifo" || exit 1
	wait $! || exit 2
)
case $? in
0) ;;
1) fail "the content read back differs" ;;
*) fail "reading 512 MiB back within 100 MiB of address space failed" ;;
esac
exit 0
