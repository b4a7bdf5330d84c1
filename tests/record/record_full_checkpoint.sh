#!/bin/sh
# A disk that fills between the commit that finalizes a bundle and the
# checkpoint that moves the -wal file into it. The bundle is final, so
# record prints its root and exits with the agent's status. Its warning
# names the full disk, not a reader, as the cause of the kept -wal file.
# The disk is a small tmpfs in a private mount namespace, which needs
# root. Its sizes leave room for every commit but not for the copy that
# the checkpoint makes.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/record/record_lib.sh"

[ "$(id -u)" -eq 0 ] || skip "mounting a tmpfs needs root"
mkdir "$TMP/ws"
unshare -m true 2>/dev/null || skip "cannot create a mount namespace"

cd "$TMP/ws"
kept='^runbundle: warning: the bundle is finalized, but its last commits'
kept="$kept stay in "
final=0
for disk_size in 1800k 2200k 2600k; do
	rm -rf "$TMP/disk" "$TMP/ws/blob" "$TMP"/full.rb*
	mkdir "$TMP/disk"
	set +e
	unshare -m --propagation private sh -c '
		mount -t tmpfs -o size="$1" tmpfs "$0" || exit 77
		shift
		"$@"
		status=$?
		cp "$0"/full.rb* "$0/../" 2>/dev/null
		exit $status' "$TMP/disk" "$disk_size" \
		"$RB" record -o "$TMP/disk/full.rb" -- \
		sh -c 'head -c 700000 /dev/urandom >blob
		       head -c 300000 /dev/urandom; exit 9' \
		>/dev/null 2>"$TMP/err"
	status=$?
	set -e
	[ "$status" -ne 77 ] || skip "cannot mount a tmpfs"
	[ -f "$TMP/full.rb" ] || fail "$disk_size: the bundle was not kept"
	"$RB" verify --allow-incomplete "$TMP/full.rb" >"$TMP/verify" 2>&1 ||
		{
			cat "$TMP/verify" >&2
			fail "$disk_size: verify failed"
		}
	if grep -q 'root digest' "$TMP/verify"; then
		# Finalized: the status and the output of record must agree.
		[ "$status" = 9 ] || {
			cat "$TMP/err" >&2
			fail "$disk_size: finalized bundle, exit status $status"
		}
		expect_grep '^root: [0-9a-f]\{64\}$' "$TMP/err"
		if [ -e "$TMP/full.rb-wal" ]; then
			final=$((final + 1))
			expect_grep "$kept'.*full.rb-wal': database or disk" \
				"$TMP/err"
		fi
	else
		expect_eq 125 "$status" "$disk_size: exit status, not finalized"
		expect_grep '(incomplete: [0-9]* events committed)$' \
			"$TMP/err"
		! grep -q 'another process' "$TMP/err" ||
			fail "$disk_size: the warning blames another process"
	fi
done
[ "$final" -gt 0 ] || fail "no size filled the disk at the checkpoint"
exit 0
