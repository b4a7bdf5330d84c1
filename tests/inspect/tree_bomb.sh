#!/bin/sh
# A snapshot whose trees name each other over and over expands to more
# entries than any walk can list or write, though every hash matches.
# verify reports it, and each reader fails at once with one error that
# names the cap, before it prints or writes anything.
. "$TESTS_DIR/lib.sh"

two_snapshots "$TMP/ok.rb" --finalize

# Four levels expand to about 25 million entries, past the cap of ten
# million; three to 837,930, within it.
cp "$TMP/ok.rb" "$TMP/b.rb"
tree=$(/usr/bin/python3 "$TESTS_DIR/inspect/tree_bomb.py" "$TMP/b.rb" 4)
cp "$TMP/ok.rb" "$TMP/small.rb"
/usr/bin/python3 "$TESTS_DIR/inspect/tree_bomb.py" "$TMP/small.rb" 3 \
	>/dev/null
expect_status 0 "$RUNBUNDLE" verify "$TMP/small.rb"

expect_status 1 "$RUNBUNDLE" verify "$TMP/b.rb"
expect_grep "^problem: event 2: object $tree: the snapshot expands to \
more than 10000000 entries, the maximum for one walk\$" "$TMP/out"

why="cannot read snapshot: '$TMP/b.rb': its tree [0-9a-f]\{64\} expands \
to more than 10000000 entries, the maximum for one walk"
mkdir "$TMP/apply"
"$RUNBUNDLE" checkout "$TMP/ok.rb" 1 "$TMP/apply" --force >/dev/null
for cmd in "ls -r" inspect patch gate "apply --to $TMP/apply" \
	"checkout latest $TMP/co" "export --format dir -o $TMP/exp" \
	"export --format tar -o $TMP/exp.tar" "report -o $TMP/r.html"; do
	set -- $cmd
	name=$1
	shift
	case $name in
	checkout) set -- "$TMP/b.rb" "$@" ;;
	*) set -- "$@" "$TMP/b.rb" ;;
	esac
	started=$(date +%s)
	set +e
	timeout 60 "$RUNBUNDLE" "$name" "$@" >"$TMP/out" 2>"$TMP/err"
	status=$?
	set -e
	[ $(($(date +%s) - started)) -le 5 ] ||
		fail "$name took more than 5 seconds on the tree bomb"
	if [ "$name" = report ]; then
		# A report of a damaged bundle is written, with the damage
		# and what could not be read on its page.
		expect_eq 1 "$status" "exit status of report"
		expect_grep "$why" "$TMP/r.html"
		continue
	fi
	[ "$status" != 0 ] || fail "$name succeeded on the tree bomb"
	if [ "$name" = apply ]; then
		# apply verifies the bundle first.
		expect_grep "^runbundle: cannot apply: '$TMP/b.rb': the \
bundle is damaged: the snapshot expands to more than 10000000 entries, \
the maximum for one walk\$" "$TMP/err"
		continue
	fi
	expect_grep "^runbundle: .*$why\$" "$TMP/err"
done
[ ! -e "$TMP/co" ] && [ ! -e "$TMP/exp" ] && [ ! -e "$TMP/exp.tar" ] ||
	fail "a reader wrote from the tree bomb"
expect_eq a "$(ls "$TMP/apply")" "the files after apply"
exit 0
