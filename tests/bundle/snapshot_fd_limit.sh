#!/bin/sh
# A walk that runs out of file descriptors fails and names the limit,
# instead of recording readable directories as unreadable ones.
. "$TESTS_DIR/lib.sh"

# The walk keeps a descriptor open for each level it is in.
deep=$TMP/src$(printf '/d%.0s' $(seq 100))
mkdir -p "$deep"
echo leaf >"$deep/leaf"

expect_status 3 sh -c 'ulimit -Sn 40 && exec "$@"' sh \
	"$RUNBUNDLE" snapshot "$TMP/low.rb" "$TMP/src"
expect_grep "^runbundle: cannot snapshot: 'd/d/.*': Too many open files$" \
	"$TMP/err"
expect_grep "^hint: raise the limit of open files (ulimit -n)" "$TMP/err"

expect_status 0 "$RUNBUNDLE" snapshot "$TMP/b.rb" "$TMP/src"
