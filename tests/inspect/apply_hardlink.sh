#!/bin/sh
# A file with several hardlinks is stored with its first link, and the
# others name that link. Writing through one link changes them all, so
# patch and apply must list and write every link, and apply must compare
# a link that the run deleted with the content of the file it names.
. "$TESTS_DIR/lib.sh"
command -v jq >/dev/null || skip "jq is missing"

# start NAME: a workspace $TMP/NAME/ws with a file of three links, its
# initial snapshot, and a checkout of it as the target.
start() {
	ws=$TMP/$1/ws
	mkdir -p "$ws/d"
	echo a >"$ws/a"
	ln "$ws/a" "$ws/b"
	ln "$ws/a" "$ws/d/c"
	"$RUNBUNDLE" snapshot "$TMP/$1.rb" "$ws" >/dev/null
	expect_status 0 "$RUNBUNDLE" checkout "$TMP/$1.rb" 1 "$TMP/$1/target"
}

finish() {
	"$RUNBUNDLE" snapshot --finalize "$TMP/$1.rb" "$TMP/$1/ws" >/dev/null
}

# check_applied NAME CHANGES: apply --json lists CHANGES (sorted
# "CODE path" pairs) and the target ends as the workspace.
check_applied() {
	expect_status 0 "$RUNBUNDLE" apply --dry-run --json \
		--to "$TMP/$1/target" "$TMP/$1.rb"
	expect_eq "$2" "$(jq -c '[.changes[] | "\(.change) \(.path)"] | sort' \
		"$TMP/out")" "$1: changes in JSON"
	expect_status 0 "$RUNBUNDLE" apply --to "$TMP/$1/target" "$TMP/$1.rb"
	diff -r "$TMP/$1/ws" "$TMP/$1/target" >&2 ||
		fail "$1: the target is not the final state"
	expect_status 0 "$RUNBUNDLE" apply --to "$TMP/$1/target" "$TMP/$1.rb"
	expect_grep '^already applied: the target has the final state' \
		"$TMP/out"
}

# Appending through the second link changes all three.
start append
echo more >>"$TMP/append/ws/b"
finish append
check_applied append '["M a","M b","M d/c"]'
expect_status 0 "$RUNBUNDLE" patch "$TMP/append.rb"
expect_eq 3 "$(grep -c '^+more$' "$TMP/out")" "patch of every link"

# A link that the run deleted is compared with the file it names.
start delete
rm "$TMP/delete/ws/d/c"
finish delete
check_applied delete '["D d/c"]'

# A target whose other link has local changes is refused.
start local
echo more >>"$TMP/local/ws/a"
finish local
echo local >"$TMP/local/target/d/c"
expect_status 1 "$RUNBUNDLE" apply --to "$TMP/local/target" "$TMP/local.rb"
expect_grep "'d/c': has other content than in the initial snapshot" \
	"$TMP/err"
