#!/bin/sh
# A missing operand is named, and so is the first extra argument, with
# the operands that the command expects, for every command that takes a
# fixed list of them. So is a missing -o where a command requires it.
. "$TESTS_DIR/lib.sh"

mkdir "$TMP/dir"
echo x >"$TMP/dir/f"
expect_status 0 "$RUNBUNDLE" snapshot --finalize "$TMP/b.rb" "$TMP/dir"
B=$TMP/b.rb
LS="expected BUNDLE \\[STEP\\] \\[PATH\\]"
ONE="the command reads one bundle"
mkdir "$TMP/cwd"
cd "$TMP/cwd"

while IFS='|' read -r cmd message; do
	# shellcheck disable=SC2086
	expect_status 2 "$RUNBUNDLE" $cmd
	expect_grep "^runbundle: $message$" "$TMP/err"
done <<LIST
show|missing BUNDLE: expected BUNDLE EVENT
show $B|missing EVENT: expected BUNDLE EVENT
show $B 1 x|unexpected argument: 'x': expected BUNDLE EVENT
ls|missing BUNDLE: $LS
ls $B final f x|unexpected argument: 'x': $LS
cat $B|missing PATH: expected BUNDLE \[STEP\] PATH
cat $B final f x|unexpected argument: 'x': expected BUNDLE \[STEP\] PATH
snapshot $B|missing DIR: expected BUNDLE DIR
snapshot $B $TMP/dir x|unexpected argument: 'x': expected BUNDLE DIR
checkout $B 1|missing DIR: expected BUNDLE SNAPSHOT DIR
checkout $B 1 out x|unexpected argument: 'x': expected BUNDLE SNAPSHOT DIR
diff $B|missing B: expected A B
diff $B $B x|unexpected argument: 'x': expected A B
import -o x.rb|missing FILE.tar.zst: expected FILE.tar.zst
import -o x.rb a.tar.zst x|unexpected argument: 'x': expected FILE.tar.zst
export-bundle -o x.tar.zst|missing bundle: none follows the options
export-bundle -o x.tar.zst $B x|unexpected argument: 'x': $ONE
gate|missing bundle: none follows the options
gate $B x|unexpected argument: 'x': $ONE
apply --dry-run|missing bundle: none follows the options
apply --dry-run $B x|unexpected argument: 'x': $ONE
report -o r.html|missing bundle: none follows the options
report -o r.html $B x|unexpected argument: 'x': $ONE
verify|missing bundle: none follows the options
verify $B x|unexpected argument: 'x': $ONE
replay|missing bundle: none follows the options
replay $B x|unexpected argument: 'x': $ONE
patch|missing bundle: none follows the options
export-bundle $B|missing -o: give the file to write
import a.tar.zst|missing -o: give the file to write
export --format tar $B|missing -o: give the file or directory to write
report $B|missing -o: give the file to write
LIST

# Nothing was written under any of the names above.
expect_status 0 test -z "$(ls -A "$TMP/cwd")"
