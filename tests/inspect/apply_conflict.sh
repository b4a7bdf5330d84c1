#!/bin/sh
# apply rejects a target that is not in the initial state, naming every
# path that differs and writing nothing. A path that has the final state
# already is no conflict. It never writes through a symlink that the
# target has where the run wrote a directory.
. "$TESTS_DIR/lib.sh"
command -v jq >/dev/null || skip "jq is missing"

ws=$TMP/ws
mkdir -p "$ws/src"
echo one >"$ws/src/a.c"
echo two >"$ws/src/b.c"
echo three >"$ws/c.txt"
"$RUNBUNDLE" snapshot "$TMP/b.rb" "$ws" >/dev/null
cp -a "$ws" "$TMP/target"
echo ONE >"$ws/src/a.c"
rm "$ws/src/b.c"
echo new >"$ws/d.txt"
mkdir "$ws/out"
echo result >"$ws/out/r.txt"
"$RUNBUNDLE" snapshot --finalize "$TMP/b.rb" "$ws" >/dev/null

# Two paths differ: edited, and present with other content. A third
# one, deleted already as the run deleted it, has the final state.
echo local >"$TMP/target/src/a.c"
rm "$TMP/target/src/b.c"
echo mine >"$TMP/target/d.txt"
cp -a "$TMP/target" "$TMP/before"
expect_status 1 "$RUNBUNDLE" apply --to "$TMP/target" "$TMP/b.rb"
expect_grep "^runbundle: target differs from the initial snapshot: \
'src/a.c': has other content" "$TMP/err"
expect_grep "'d.txt': exists in the target" "$TMP/err"
if grep -q "'src/b.c'" "$TMP/err"; then
	cat "$TMP/err" >&2
	fail "a path deleted as the run deleted it is named as a conflict"
fi
expect_grep '^hint: ' "$TMP/err"
diff -r "$TMP/before" "$TMP/target" || fail "a refused apply wrote"
"$RUNBUNDLE" apply --json --to "$TMP/target" "$TMP/b.rb" >"$TMP/json" &&
	fail "apply --json accepted a differing target"
expect_eq '["d.txt","src/a.c"]' \
	"$(jq -c '[.conflicts[].path] | sort' "$TMP/json")" "conflicts"
expect_eq '["src/b.c"]' "$(jq -c '.already_final' "$TMP/json")" \
	"paths with the final state"

# A symlink where the run made a directory: refused (the symlink is not
# in the initial state), and nothing appears where it points.
rm -r "$TMP/target"
mkdir -p "$TMP/elsewhere"
"$RUNBUNDLE" checkout "$TMP/b.rb" 1 "$TMP/target" >/dev/null
ln -s "$TMP/elsewhere" "$TMP/target/out"
expect_status 1 "$RUNBUNDLE" apply --to "$TMP/target" "$TMP/b.rb"
expect_grep "'out/r.txt': is below a symlink or a file" "$TMP/err"
[ -e "$TMP/elsewhere/r.txt" ] && fail "apply wrote through a symlink"

# Usage and errors.
expect_status 3 "$RUNBUNDLE" apply --to "$TMP/nowhere" "$TMP/b.rb"
expect_status 2 "$RUNBUNDLE" apply --bogus "$TMP/b.rb"
exit 0
