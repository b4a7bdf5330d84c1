#!/bin/sh
# apply on a checkout in the initial state writes the final state:
# content, modes, symlinks, additions and deletions; --dry-run writes
# nothing. The bundle is made with runbundle snapshot, as a CI job could.
. "$TESTS_DIR/lib.sh"
command -v jq >/dev/null || skip "jq is missing"
# The modes that apply writes depend on the umask (apply_modes.sh).
umask 022

ws=$TMP/ws
mkdir -p "$ws/src/old" "$ws/bin"
printf 'int main(void) { return 1; }\n' >"$ws/src/main.c"
echo keep >"$ws/README"
echo gone >"$ws/src/old/gone.c"
echo '#!/bin/sh' >"$ws/bin/run"
ln -s README "$ws/link"
"$RUNBUNDLE" snapshot "$TMP/b.rb" "$ws" >/dev/null
cp -a "$ws" "$TMP/target"

printf 'int main(void) { return 0; }\n' >"$ws/src/main.c"
rm -r "$ws/src/old"
chmod 755 "$ws/bin/run"
ln -sfn src/main.c "$ws/link"
mkdir "$ws/src/new" "$ws/empty"
printf 'new\0binary' >"$ws/src/new/blob.bin"
"$RUNBUNDLE" snapshot --finalize "$TMP/b.rb" "$ws" >/dev/null

expect_status 0 "$RUNBUNDLE" apply --dry-run --to "$TMP/target" "$TMP/b.rb"
expect_grep '^would apply: 2 added, 2 modified, 1 deleted, 1 mode changed' \
	"$TMP/out"
[ -d "$TMP/target/src/old" ] || fail "--dry-run changed the target"

"$RUNBUNDLE" apply --json --dry-run --to "$TMP/target" "$TMP/b.rb" \
	>"$TMP/json"
changes='[["T","bin/run"],["A","empty"],["M","link"],["M","src/main.c"],'
changes=$changes'["A","src/new/blob.bin"],["D","src/old/gone.c"]]'
expect_eq "$changes" \
	"$(jq -c '[.changes[] | [.change, .path]] | sort_by(.[1])' \
	"$TMP/json")" "changes in JSON"
expect_eq 'false []' "$(jq -r '"\(.applied) \(.conflicts)"' "$TMP/json" |
	tr -d '\n')" "applied and conflicts of a dry run"

expect_status 0 "$RUNBUNDLE" apply --to "$TMP/target" "$TMP/b.rb"
expect_grep '^applied: ' "$TMP/out"
diff -r --no-dereference "$ws" "$TMP/target" ||
	fail "the target differs from the final state"
expect_eq 755 "$(stat -c %a "$TMP/target/bin/run")" "mode of bin/run"
expect_eq src/main.c "$(readlink "$TMP/target/link")" "the symlink"
[ -e "$TMP/target/src/old" ] && fail "the emptied directory is left"
ls -a "$TMP/target/src" | grep -q runbundle && fail "a temporary file is left"

# Applied twice: the target has the final state already, which apply
# reports, and a path edited since then makes it a conflict again.
expect_status 0 "$RUNBUNDLE" apply --to "$TMP/target" "$TMP/b.rb"
expect_grep '^already applied: the target has the final state of all 6 ' \
	"$TMP/out"
echo local >"$TMP/target/README"
echo local >"$TMP/target/src/main.c"
expect_status 1 "$RUNBUNDLE" apply --to "$TMP/target" "$TMP/b.rb"
expect_grep "'src/main.c': has other content" "$TMP/err"
exit 0
