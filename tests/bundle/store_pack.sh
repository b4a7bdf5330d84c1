#!/bin/sh
# store_pack.sh - rows of a few KiB fill the objects table's leaf pages:
# the writer inserts the queued object that best fills the last page.
# Inserted in arrival order, these rows left 29% of the leaf pages
# unused, and packed about 10%.
. "$TESTS_DIR/lib.sh"

# 300 files of 8 to 24 KB of hex text, which zstd halves, so rows are
# 4 to 12 KB on 16 KiB pages.
/usr/bin/python3 - "$TMP/src" <<'PY'
import os, random, sys
rng = random.Random(3)
os.makedirs(sys.argv[1])
for f in range(300):
    with open(os.path.join(sys.argv[1], "f%03d" % f), "w") as out:
        out.write(rng.randbytes(rng.randrange(4000, 12000)).hex())
PY
expect_status 0 "$RUNBUNDLE" snapshot --finalize "$TMP/b.rb" "$TMP/src"
expect_status 0 "$RUNBUNDLE" verify "$TMP/b.rb"
unused=$(sqlite3 -readonly "$TMP/b.rb" "SELECT 100 * sum(unused) / sum(pgsize)
	FROM dbstat WHERE name = 'objects' AND pagetype = 'leaf'")
[ -n "$unused" ] || skip "this sqlite3 has no dbstat table"
[ "$unused" -lt 20 ] || fail "$unused% of the objects table's leaf pages unused"
exit 0
