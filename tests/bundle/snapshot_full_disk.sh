#!/bin/sh
# snapshot on a full disk: into a new bundle it exits 3 and removes the
# bundle that it created, as record does, with a hint that does not
# claim that committed events stay. An existing bundle stays, with the events it had. The
# disk is a small tmpfs in a private mount namespace.
. "$TESTS_DIR/lib.sh"
command -v jq >/dev/null || skip "jq is missing"

mkdir "$TMP/small" "$TMP/big"
echo a >"$TMP/small/a"
head -c 4000000 /dev/urandom >"$TMP/big/r"

on_small_fs '
	fs=$1/small-fs
	"$2" snapshot "$fs/new.rb" "$1/big" >"$1/new.out" 2>"$1/new.err"
	echo $? >"$1/new.status"
	ls -A "$fs" >"$1/new.left"
	"$2" snapshot "$fs/old.rb" "$1/small" >/dev/null || exit 1
	"$2" snapshot "$fs/old.rb" "$1/big" >"$1/old.out" 2>"$1/old.err"
	echo $? >"$1/old.status"
	"$2" verify --allow-incomplete --json "$fs/old.rb" >"$1/old.json"
	' "$RUNBUNDLE"
expect_eq 0 "$status" "exit status of the full disk run"

expect_eq 3 "$(cat "$TMP/new.status")" "exit status into a new bundle"
expect_grep "^runbundle: .*'$TMP/small-fs/new.rb': .*full" "$TMP/new.err"
expect_grep "^hint: free space on the file system of \
'$TMP/small-fs/new.rb', or create the bundle on another one$" "$TMP/new.err"
grep -q 'stays intact' "$TMP/new.err" &&
	fail "the hint promises a bundle that snapshot removed"
expect_eq '' "$(cat "$TMP/new.left")" "files left by the failed snapshot"

expect_eq 3 "$(cat "$TMP/old.status")" "exit status into an existing bundle"
expect_grep '^hint: .*everything committed before stays intact' \
	"$TMP/old.err"
expect_eq true "$(jq .ok "$TMP/old.json")" "verify of the existing bundle"
expect_eq 1 "$(jq .events "$TMP/old.json")" "events of the existing bundle"
exit 0
