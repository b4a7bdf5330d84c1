#!/bin/sh
# apply writes a run that changed the type of a path: a directory that
# became a file or a symlink, a file or a symlink that became a
# directory. It deletes nothing that the run did not delete, never
# writes through a symlink of the target, and a second apply of the same
# run says that the changes are there already.
. "$TESTS_DIR/lib.sh"
command -v jq >/dev/null || skip "jq is missing"

# start NAME: a workspace $TMP/NAME/ws and its initial snapshot.
start() {
	ws=$TMP/$1/ws
	mkdir -p "$ws/sub/deep" "$ws/empty"
	echo a >"$ws/sub/a"
	echo b >"$ws/sub/deep/b"
	echo f >"$ws/f"
	mkdir -p "$TMP/$1/out"
	ln -s "$TMP/$1/out" "$ws/link"
	"$RUNBUNDLE" snapshot "$TMP/$1.rb" "$ws" >/dev/null
	cp -a "$ws" "$TMP/$1/target"
}

# finish NAME: the final snapshot of $TMP/NAME/ws.
finish() {
	"$RUNBUNDLE" snapshot --finalize "$TMP/$1.rb" "$TMP/$1/ws" >/dev/null
}

# check_applied NAME CHANGES: apply --json lists CHANGES (sorted
# "CODE path" pairs), the target ends as the workspace, and a second
# apply reports it as applied already.
check_applied() {
	expect_status 0 "$RUNBUNDLE" apply --dry-run --json \
		--to "$TMP/$1/target" "$TMP/$1.rb"
	expect_eq "$2" "$(jq -c '[.changes[] | "\(.change) \(.path)"] | sort' \
		"$TMP/out")" "$1: changes in JSON"
	expect_eq '[]' "$(jq -c '.conflicts' "$TMP/out")" "$1: conflicts"
	expect_status 0 "$RUNBUNDLE" apply --to "$TMP/$1/target" "$TMP/$1.rb"
	diff -r --no-dereference "$TMP/$1/ws" "$TMP/$1/target" >&2 ||
		fail "$1: the target is not the final state"
	expect_status 0 "$RUNBUNDLE" apply --to "$TMP/$1/target" "$TMP/$1.rb"
	expect_grep '^already applied: the target has the final state' \
		"$TMP/out"
	expect_status 0 "$RUNBUNDLE" apply --json --to "$TMP/$1/target" \
		"$TMP/$1.rb"
	expect_eq 'true false' "$(jq -r '"\(.already_applied) \(.applied)"' \
		"$TMP/out")" "$1: a second apply in JSON"
}

# A directory with entries becomes a file.
start tofile
rm -r "$TMP/tofile/ws/sub"
echo now-a-file >"$TMP/tofile/ws/sub"
finish tofile
check_applied tofile '["A sub","D sub/a","D sub/deep/b"]'

# A directory becomes a symlink, and an empty one becomes a file.
start tolink
rm -r "$TMP/tolink/ws/sub"
ln -s f "$TMP/tolink/ws/sub"
rmdir "$TMP/tolink/ws/empty"
echo x >"$TMP/tolink/ws/empty"
finish tolink
check_applied tolink '["A empty","A sub","D empty","D sub/a","D sub/deep/b"]'

# A file becomes a directory.
start todir
rm "$TMP/todir/ws/f"
mkdir -p "$TMP/todir/ws/f/g"
echo x >"$TMP/todir/ws/f/g/x"
finish todir
check_applied todir '["A f/g/x","D f"]'

# A symlink to a directory outside becomes a directory: the symlink is
# replaced, and nothing is written where it pointed.
start linkdir
rm "$TMP/linkdir/ws/link"
mkdir "$TMP/linkdir/ws/link"
echo x >"$TMP/linkdir/ws/link/x"
finish linkdir
check_applied linkdir '["A link/x","D link"]'
[ -e "$TMP/linkdir/out/x" ] && fail "apply wrote through a symlink"

# A file in the target's directory that the initial snapshot lacks (an
# ignored build output): the directory is not replaced, and the message
# names the file.
start untracked
rm -r "$TMP/untracked/ws/sub"
echo now-a-file >"$TMP/untracked/ws/sub"
finish untracked
echo built >"$TMP/untracked/target/sub/deep/built.o"
cp -a "$TMP/untracked/target" "$TMP/untracked/before"
expect_status 1 "$RUNBUNDLE" apply --to "$TMP/untracked/target" \
	"$TMP/untracked.rb"
expect_grep "^runbundle: target differs from the initial snapshot: 'sub': \
.*'sub/deep/built.o' in it is not in the initial snapshot" "$TMP/err"
diff -r --no-dereference "$TMP/untracked/before" "$TMP/untracked/target" ||
	fail "a refused apply wrote"

# A file the run replaced by a directory, edited in the target: a
# conflict on that file, and nothing below it is blamed.
start edited
rm "$TMP/edited/ws/f"
mkdir "$TMP/edited/ws/f"
echo x >"$TMP/edited/ws/f/x"
finish edited
echo local >"$TMP/edited/target/f"
expect_status 1 "$RUNBUNDLE" apply --json --to "$TMP/edited/target" \
	"$TMP/edited.rb"
expect_eq '["f"]' "$(jq -c '[.conflicts[].path]' "$TMP/out")" \
	"conflicts of an edited file"
expect_eq 'false' "$(jq -r '.already_applied' "$TMP/out")" \
	"already_applied of a conflict"
exit 0
