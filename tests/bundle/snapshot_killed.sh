#!/bin/sh
# A snapshot killed with SIGKILL at any moment leaves a bundle that
# verifies up to its last committed event, and takes the next snapshot.
. "$TESTS_DIR/lib.sh"

src=$TMP/src
mkdir -p "$src"
/usr/bin/python3 "$TESTS_DIR/bundle/random_tree.py" "$src" 7 20000

expect_status 0 "$RUNBUNDLE" snapshot "$TMP/b.rb" "$src"
for delay in 0.05 0.1 0.2 0.3 0.5; do
	touch "$src"/d0*/f0*	# new mtimes, so files are read again
	"$RUNBUNDLE" snapshot --no-cache "$TMP/b.rb" "$src" \
		>/dev/null 2>&1 &
	pid=$!
	sleep "$delay"
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true

	expect_status 0 "$RUNBUNDLE" verify --allow-incomplete "$TMP/b.rb"
done

# The bundle still takes snapshots, and the last one checks out whole.
expect_status 0 "$RUNBUNDLE" snapshot "$TMP/b.rb" "$src"
expect_status 0 "$RUNBUNDLE" checkout "$TMP/b.rb" latest "$TMP/dst"
diff -r "$src" "$TMP/dst" >&2 || fail "checkout after the kills differs"
