#!/bin/sh
# store_full.sh - a full file system: the write that does not fit fails
# with a clear message, and every event committed before stays intact.
. "$TESTS_DIR/lib.sh"
WRITER=$1

[ "$(id -u)" -eq 0 ] || skip "mounting a small tmpfs needs root"
command -v unshare >/dev/null || skip "unshare is not installed"

head -c 500000 /dev/urandom >"$TMP/fits"
head -c 4000000 /dev/urandom >"$TMP/too-big"
mkdir "$TMP/small-fs"

# A private mount namespace, so the tmpfs is gone with the shell.
unshare --mount --propagation private sh -eu -c '
	mount -t tmpfs -o size=2m tmpfs "$1/small-fs"
	"$2" put "$1/small-fs/b.rb" "$1/fits" >/dev/null
	if "$2" put "$1/small-fs/b.rb" "$1/too-big" >"$1/out" 2>"$1/err"
	then
		echo "storing 4 MB on a 2 MiB file system succeeded" >&2
		exit 1
	fi
	"$3" verify --allow-incomplete --json "$1/small-fs/b.rb" \
		>"$1/verify.json"
	cp "$1/small-fs/b.rb" "$1/copy.rb"
	[ ! -e "$1/small-fs/b.rb-wal" ] ||
		cp "$1/small-fs/b.rb-wal" "$1/copy.rb-wal"
' sh "$TMP" "$WRITER" "$RUNBUNDLE" || fail "the full file system run failed"

expect_grep "full" "$TMP/err"
expect_grep "^hint: free space on the file system" "$TMP/err"
expect_eq true "$(jq -r .ok "$TMP/verify.json")" "verify after the failure"
expect_eq 1 "$(jq .events "$TMP/verify.json")" "events after the failure"
expect_eq 1 "$(jq .verified_events "$TMP/verify.json")" "verified events"

# With space again, the same bundle takes the file and finalizes.
"$WRITER" put "$TMP/copy.rb" "$TMP/too-big" >/dev/null
"$WRITER" finalize "$TMP/copy.rb" >/dev/null
expect_status 0 "$RUNBUNDLE" verify "$TMP/copy.rb"
expect_grep "^OK: .* 2 events" "$TMP/out"
exit 0
