#!/bin/sh
# On a file system without RENAME_NOREPLACE and without hard links, an
# export still renames its finished archive to the name given, and still
# rejects a name that exists. A preloaded library makes both calls fail
# as such a file system does.
. "$TESTS_DIR/lib.sh"
PRELOAD=$1

# The sanitizers must come first among the preloaded libraries.
skip_if_sanitized "$RUNBUNDLE" \
	"the sanitizers do not run beside another preloaded library"

mkdir "$TMP/ws"
echo content >"$TMP/ws/file"
expect_status 0 "$RUNBUNDLE" snapshot --finalize "$TMP/b.rb" "$TMP/ws"

expect_status 0 env LD_PRELOAD="$PRELOAD" "$RUNBUNDLE" export \
	--format tar -o "$TMP/out.tar" "$TMP/b.rb"
expect_eq content "$(tar -xOf "$TMP/out.tar" file)" "the exported file"

expect_status 3 env LD_PRELOAD="$PRELOAD" "$RUNBUNDLE" export \
	--format tar -o "$TMP/out.tar" "$TMP/b.rb"
expect_grep "^runbundle: .*'$TMP/out.tar'.*exists" "$TMP/err"
left=$(find "$TMP" -maxdepth 1 -name 'out.tar.tmp-*' | wc -l)
expect_eq 0 "$left" "temporary archives left"
exit 0
