#!/bin/sh
# A usage error names the option as the user wrote it: an option
# without its value is missing one, not unknown, and an unknown short
# option in a cluster is named, not the word before it.
. "$TESTS_DIR/lib.sh"

mkdir "$TMP/dir"
echo x >"$TMP/dir/f"
expect_status 0 "$RUNBUNDLE" snapshot --finalize "$TMP/b.rb" "$TMP/dir"
B=$TMP/b.rb

for cmd in "log $B --step" "patch $B --to" "export $B -o" "ls $B --bogus" \
	   "gate --rules" "snapshot --level" "checkout --bogus" \
	   "gateway --listen" "sandbox --policy" "demo --output"; do
	# shellcheck disable=SC2086
	expect_status 2 "$RUNBUNDLE" $cmd
	case $cmd in
	*--bogus) expect_grep "^runbundle: unknown option: '--bogus'$" \
			      "$TMP/err" ;;
	*) expect_grep "^runbundle: missing value: '${cmd##* }'$" "$TMP/err" ;;
	esac
done

expect_status 2 "$RUNBUNDLE" ls -xr "$B"
expect_grep "^runbundle: unknown option: '-x'$" "$TMP/err"
expect_status 2 "$RUNBUNDLE" ls --json -rx "$B"
expect_grep "^runbundle: unknown option: '-x'$" "$TMP/err"
expect_status 2 "$RUNBUNDLE" cat -x "$B" f
expect_grep "^runbundle: unknown option: '-x'$" "$TMP/err"

# A long option written with one dash is named whole, with the fix.
# A cluster of short options that is no long option stays as it was.
while IFS='|' read -r cmd word fix; do
	# shellcheck disable=SC2086
	expect_status 2 "$RUNBUNDLE" $cmd
	expect_grep "^runbundle: unknown option: '$word': a long option \
starts with two dashes: '$fix'$" "$TMP/err"
done <<LIST
gate -rules r.json $B|-rules|--rules
inspect -json $B|-json|--json
log -kind=end $B|-kind=end|--kind
record -policy p.json -- true|-policy|--policy
LIST
expect_status 2 "$RUNBUNDLE" ls -rx "$B"
expect_grep "^runbundle: unknown option: '-x'$" "$TMP/err"

# The same slip with a short option that takes a value: "-json" is not
# -j with the value "son", nor "-output" -o with "utput", and nothing is
# written under such a name. A short option's glued value that starts
# with '=' is rejected with the fix.
mkdir "$TMP/cwd"
cd "$TMP/cwd"
while IFS='|' read -r cmd word fix; do
	# shellcheck disable=SC2086
	expect_status 2 "$RUNBUNDLE" $cmd
	expect_grep "^runbundle: unknown option: '$word': a long option \
starts with two dashes: '$fix'$" "$TMP/err"
done <<LIST
replay -json $B|-json|--json
replay -output x $B|-output|--output
report -output r.html $B|-output|--output
record -output x.rb -- true|-output|--output
export --format tar -output x.tar $B|-output|--output
export-bundle -output x.tar.zst $B|-output|--output
import -output x.rb x.tar.zst|-output|--output
trace -output t.json -- true|-output|--output
gateway -upstream a=http://127.0.0.1:9|-upstream|--upstream
LIST
while IFS='|' read -r cmd value fix; do
	# shellcheck disable=SC2086
	expect_status 2 "$RUNBUNDLE" $cmd
	expect_grep "^runbundle: invalid -o: '$value': a short option takes \
its value without '=': write '$fix'$" "$TMP/err"
done <<LIST
report -o=r.html $B|=r.html|-o r.html
export --format tar -o=x.tar $B|=x.tar|-o x.tar
export-bundle -o=x.tar.zst $B|=x.tar.zst|-o x.tar.zst
replay -o=x.rb $B|=x.rb|-o x.rb
record -o=x.rb -- true|=x.rb|-o x.rb
LIST
expect_eq '' "$(ls "$TMP/cwd")" "files written by the rejected commands"
expect_status 0 "$RUNBUNDLE" report -or.html "$B"
[ -f r.html ] || fail "report -or.html wrote no r.html"
expect_status 0 "$RUNBUNDLE" export --format tar -o =x.tar "$B"
[ -f =x.tar ] || fail "export -o =x.tar wrote no '=x.tar'"
cd "$TMP"

# A value that an option does not take is named with what it expects.
while IFS='|' read -r cmd message; do
	# shellcheck disable=SC2086
	expect_status 2 "$RUNBUNDLE" $cmd
	expect_grep "^runbundle: $message$" "$TMP/err"
done <<LIST
replay --repeat 0 $B|invalid --repeat: '0': expected a number from 1 to 100000
replay --timing slow $B|invalid --timing: 'slow': expected 'recorded' or 'fast'
replay --on-mismatch skip $B|invalid --on-mismatch: 'skip': expected 'stop', 'closest' or 'forward'
replay --sandbox full $B|invalid --sandbox: 'full': expected 'namespaces' or 'none'
replay --upstream openai $B|invalid --upstream: 'openai': expected NAME=URL
record --label ci -- true|invalid --label: 'ci': expected KEY=VALUE
record --upstream openai -- true|invalid --upstream: 'openai': expected NAME=URL
record --sandbox full -- true|invalid --sandbox: 'full': expected 'namespaces' or 'none'
LIST

# A value given to an option that takes none, and an option that does
# not apply to the format asked for.
expect_status 2 "$RUNBUNDLE" ls --json=x "$B"
expect_grep "^runbundle: unexpected value: '--json=x': the option takes \
none$" "$TMP/err"
expect_status 2 "$RUNBUNDLE" export --format tar --keep-setuid \
	-o "$TMP/x.tar" "$B"
expect_grep "^runbundle: invalid --keep-setuid: 'tar': it applies to \
--format dir only, and an archive keeps the bits$" "$TMP/err"
[ ! -e "$TMP/x.tar" ] || fail "export wrote an archive after the error"
