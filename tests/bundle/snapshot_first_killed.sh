#!/bin/sh
# The first snapshot of a new bundle is written in rollback-journal mode.
# Killed with SIGKILL at any moment, it leaves a bundle that opens and
# verifies. Once it ends, the bundle is in rollback-journal mode again,
# with every commit in the file.
. "$TESTS_DIR/lib.sh"

src=$TMP/src
mkdir -p "$src"
/usr/bin/python3 "$TESTS_DIR/bundle/random_tree.py" "$src" 11 16000

# journal_mode BUNDLE: the journal mode that the file header records,
# "rollback" (bytes 18 and 19 are 1) or "wal" (both are 2).
journal_mode() {
	case $(od -An -tu1 -j18 -N2 "$1" | tr -s ' ') in
	" 1 1") echo rollback ;;
	" 2 2") echo wal ;;
	*) echo unknown ;;
	esac
}

# After the snapshot, neither a journal nor a -wal file is left.
expect_status 0 "$RUNBUNDLE" snapshot "$TMP/whole.rb" "$src"
expect_eq rollback "$(journal_mode "$TMP/whole.rb")" "mode after the snapshot"
[ ! -e "$TMP/whole.rb-journal" ] || fail "a journal is left after the snapshot"
[ ! -e "$TMP/whole.rb-wal" ] || fail "a -wal file is left after the snapshot"
expect_status 0 "$RUNBUNDLE" verify --allow-incomplete "$TMP/whole.rb"
expect_status 0 "$RUNBUNDLE" snapshot --finalize "$TMP/final.rb" "$src"
expect_eq rollback "$(journal_mode "$TMP/final.rb")" "mode when finalized"
expect_status 0 "$RUNBUNDLE" verify "$TMP/final.rb"

journals=0
for delay in 0.02 0.05 0.1 0.2 0.4 0.8; do
	bundle=$TMP/killed-$delay.rb
	"$RUNBUNDLE" snapshot "$bundle" "$src" >/dev/null 2>&1 &
	pid=$!
	sleep "$delay"
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	[ -e "$bundle" ] || continue
	[ -e "$bundle-journal" ] && journals=$((journals + 1))

	# Killed in the snapshot: no events. Killed after its commit: one,
	# with the whole tree. verify exits 1 for an unfinalized bundle with
	# no events and no -wal beside it, whose events could be in a lost
	# -wal, but not in rollback-journal mode, which has no -wal.
	mode=$(journal_mode "$bundle")
	set +e
	"$RUNBUNDLE" verify --allow-incomplete --json "$bundle" \
		>"$TMP/out" 2>"$TMP/err"
	status=$?
	set -e
	events=$(jq .events "$TMP/out")
	if [ "$status" != 0 ]; then
		[ "$mode" != rollback ] || fail "killed after $delay s in" \
			"rollback mode: verify $status"
		expect_eq 1 "$status" "killed after $delay s: verify status"
		expect_eq 0 "$events" "killed after $delay s: events"
		expect_eq true "$(jq .wal_missing "$TMP/out")" \
			"killed after $delay s: -wal missing"
	fi
	expect_eq 0 "$(jq '.problems | length' "$TMP/out")" \
		"killed after $delay s: problems"
	expect_eq "$events" "$(jq .verified_events "$TMP/out")" \
		"killed after $delay s: verified events"

	# The bundle takes the next snapshot, and is left with every
	# commit in the file.
	expect_status 0 "$RUNBUNDLE" snapshot "$bundle" "$src"
	expect_eq rollback "$(journal_mode "$bundle")" \
		"killed after $delay s: mode after the next snapshot"
	[ ! -e "$bundle-wal" ] ||
		fail "killed after $delay s: a -wal file is left"
	# A kill between the journal's creation and its header leaves an
	# empty journal, which SQLite ignores and leaves in place.
	[ ! -s "$bundle-journal" ] ||
		fail "killed after $delay s: the journal is left"
	expect_status 0 "$RUNBUNDLE" verify --allow-incomplete "$bundle"
	last=$bundle
done
echo "$journals of 6 kills left a rollback journal" >&2

# Checkout is slow, so only the last of those bundles is checked out.
expect_status 0 "$RUNBUNDLE" checkout "$last" latest "$TMP/dst"
diff -r "$src" "$TMP/dst" >&2 || fail "checkout after the kills differs"

# A killed first snapshot that an unprivileged reader may not roll back
# gets a message that names the journal. Only root has another user.
[ "$(id -u)" -eq 0 ] || exit 0
unpriv_setup
bundle=$TMP/unpriv.rb
"$RUNBUNDLE" snapshot "$bundle" "$src" >/dev/null 2>&1 &
pid=$!
# Kill it once pages were written to the bundle, past its empty 112 KiB:
# SQLite syncs the journal first, so then the journal is hot.
grown() {
	[ -e "$bundle-journal" ] && [ "$(stat -c %s "$bundle")" -gt 1048576 ]
}
for _ in $(seq 500); do
	grown && break
	sleep 0.01
done
grown || skip "the snapshot ended before the kill"
kill -KILL "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
chmod 0644 "$bundle" "$bundle-journal"
expect_status 3 as_user "$UNPRIV_RUNBUNDLE" verify --allow-incomplete \
	"$bundle"
expect_grep "rollback journal '.*unpriv.rb-journal'" "$TMP/err"
expect_grep '^hint: .*copy' "$TMP/err"
