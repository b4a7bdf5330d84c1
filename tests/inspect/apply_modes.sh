#!/bin/sh
# apply writes modes as git checkout does: the owner's executable bit
# from the final snapshot, the rest 0777 or 0666 less the caller's
# umask. A world-writable or setuid file of the run is neither in the
# target, and a mode change that keeps the executable bit is no change.
. "$TESTS_DIR/lib.sh"
command -v jq >/dev/null || skip "jq is missing"

ws=$TMP/ws
mkdir -p "$ws"
echo a >"$ws/a"
echo s >"$ws/s"
echo w >"$ws/w"
chmod 644 "$ws/a" "$ws/s" "$ws/w"
"$RUNBUNDLE" snapshot "$TMP/b.rb" "$ws" >/dev/null
cp -a "$ws" "$TMP/target"
cp -a "$ws" "$TMP/target077"
chmod 777 "$ws/a"
chmod 4755 "$ws/s"
chmod 666 "$ws/w"
echo new >"$ws/new"
chmod 666 "$ws/new"
mkdir "$ws/dir"
chmod 700 "$ws/dir"
echo x >"$ws/dir/x"
chmod 777 "$ws/dir/x"
"$RUNBUNDLE" snapshot --finalize "$TMP/b.rb" "$ws" >/dev/null

expect_status 0 "$RUNBUNDLE" apply --json --dry-run --to "$TMP/target" \
	"$TMP/b.rb"
expect_eq '["A dir/x","A new","T a","T s"]' \
	"$(jq -c '[.changes[] | "\(.change) \(.path)"] | sort' "$TMP/out")" \
	"changes: w keeps its executable bit"

umask 022
expect_status 0 "$RUNBUNDLE" apply --to "$TMP/target" "$TMP/b.rb"
for want in a:755 s:755 w:644 new:644 dir:755 dir/x:755; do
	expect_eq "${want#*:}" "$(stat -c %a "$TMP/target/${want%%:*}")" \
		"mode of ${want%%:*} under umask 022"
done

umask 077
expect_status 0 "$RUNBUNDLE" apply --to "$TMP/target077" "$TMP/b.rb"
for want in a:700 s:700 new:600 dir:700 dir/x:700; do
	expect_eq "${want#*:}" "$(stat -c %a "$TMP/target077/${want%%:*}")" \
		"mode of ${want%%:*} under umask 077"
done

# The second apply finds the executable bits in place.
umask 022
expect_status 0 "$RUNBUNDLE" apply --to "$TMP/target" "$TMP/b.rb"
expect_grep '^already applied: the target has the final state of all 4 ' \
	"$TMP/out"

# A file with the final content but not the final executable bit is not
# in its final state, so it is no change that counts as applied: it is
# neither the initial file nor the final one.
m=$TMP/mix
mkdir -p "$m/initial" "$m/final"
echo one >"$m/initial/f"
echo two >"$m/final/f"
chmod 755 "$m/final/f"
"$RUNBUNDLE" snapshot "$m/b.rb" "$m/initial" >/dev/null
"$RUNBUNDLE" snapshot --finalize "$m/b.rb" "$m/final" >/dev/null
cp -a "$m/initial" "$m/target"
echo two >"$m/target/f"
set +e
"$RUNBUNDLE" apply --json --to "$m/target" "$m/b.rb" >"$TMP/out" \
	2>"$TMP/err"
set -e
expect_eq '[]' "$(jq -c .already_final "$TMP/out")" \
	"already final without the executable bit"
expect_eq '["f"]' "$(jq -c '[.conflicts[].path]' "$TMP/out")" \
	"the conflict of a file without its executable bit"
exit 0
