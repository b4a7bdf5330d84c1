#!/bin/sh
# A file or directory deleted between the walk's listing and its read is
# left out, as if it had been deleted before the walk: the snapshot is
# complete and counts only what it stored. A preloaded library deletes
# every entry named vanish-* just before runbundle opens it.
. "$TESTS_DIR/lib.sh"
PRELOAD=$1

# The sanitizers must come first among the preloaded libraries.
skip_if_sanitized "$RUNBUNDLE" \
	"the sanitizers do not run beside another preloaded library"

src=$TMP/src
mkdir -p "$src/vanish-dir"
echo kept >"$src/kept"
echo gone >"$src/vanish-file"
LD_PRELOAD=$PRELOAD expect_status 0 "$RUNBUNDLE" snapshot --json \
	--finalize "$TMP/b.rb" "$src"
[ ! -e "$src/vanish-file" ] || fail "the library did not delete the file"
[ ! -e "$src/vanish-dir" ] ||
	fail "the library did not delete the directory"
expect_eq "true 1 0 0" \
	"$(jq -r '"\(.complete) \(.files) \(.dirs) \(.errors)"' "$TMP/out")" \
	"complete, files, dirs and errors of the snapshot"
expect_status 0 "$RUNBUNDLE" ls "$TMP/b.rb"
expect_eq "-rw-r--r--            5  kept" "$(cat "$TMP/out")" \
	"entries of the snapshot"
exit 0
