#!/bin/sh
# runbundle demo, run as we are and as the unprivileged user: the bundle
# verifies, the replay is identical, the flaky variant diverges at the
# step where its test ran, the report exists, and nothing is left
# outside the output directory.
. "$TESTS_DIR/lib.sh"

# check_demo DIR: check every output of the demo in DIR.
check_demo() {
	dir=$1
	cp "$TMP/out" "$TMP/demo.out"
	expect_status 0 "$RUNBUNDLE" verify "$dir/run.rb"
	expect_status 0 "$RUNBUNDLE" verify "$dir/flaky.rb"
	expect_eq "identical: 6 steps" "$(cat "$dir/replay.txt")" \
		"the replay's report"
	expect_eq "diverged at step 3 of 4" \
		"$(head -n 1 "$dir/flaky-replay.txt")" "the variant's verdict"
	divergence='first divergence: step 3: the request differs at '
	divergence=$divergence'messages[5].content, which is the output of '
	divergence=$divergence'`python3 -B -m unittest -v test_flaky` '
	divergence=$divergence'(exit 1, recorded exit 0)'
	expect_eq "$divergence" "$(tail -n 1 "$dir/flaky-replay.txt")" \
		"the variant's first divergence"
	expect_grep '^<!DOCTYPE html>' "$dir/report.html"
	expect_grep "^identical: 6 steps$" "$TMP/demo.out"
	expect_grep "^everything is in $dir:$" "$TMP/demo.out"

	# The agent fixed calc.py, and nothing but the workspace changed.
	expect_grep 'return sum(values) / len(values)$' \
		"$dir/workspace/calc.py"
	expect_status 0 "$RUNBUNDLE" inspect --json "$dir/run.rb"
	expect_eq 5 "$(jq .model.calls "$TMP/out")" "model calls"
	expect_eq "" "$(ls -A "$dir/tmp")" "the replays' leftovers"
}

mkdir "$TMP/tmp"
TMPDIR=$TMP/tmp expect_status 0 "$RUNBUNDLE" demo --output "$TMP/demo"
check_demo "$TMP/demo"

# The demo prints each record command with files of its directory, so a
# user can run it again by hand: here on a fresh copy of the workspace.
d=$TMP/demo
expect_grep "^\$ cd $d/workspace\$" "$TMP/demo.out"
expect_grep "^\$ runbundle record -o $d/run.rb --policy $d/policy.json \
--model-script $d/model-script.json --label demo=1 -- $d/agent/agent.sh \
'Make the tests in test_calc.py pass.'\$" "$TMP/demo.out"
expect_grep "^\$ runbundle record -o $d/flaky.rb .*\
--model-script $d/flaky-model-script.json " "$TMP/demo.out"
mv "$d/run.rb" "$d/first.rb"
rm -r "$d/workspace"
cp -R "$SOURCE_DIR/examples/shell-agent/workspace" "$d/workspace"
grep -A1 "^\$ cd $d/workspace\$" "$TMP/demo.out" | sed 's/^\$ //' \
	>"$TMP/again.sh"
PATH=$(dirname "$RUNBUNDLE"):$PATH expect_status 0 sh "$TMP/again.sh"
expect_status 0 "$RUNBUNDLE" verify "$d/run.rb"
expect_grep 'return sum(values) / len(values)$' "$d/workspace/calc.py"

# A second demo into a directory that is not empty is refused.
expect_status 3 "$RUNBUNDLE" demo --output "$TMP/demo"
expect_grep "output directory is not empty: '$TMP/demo'" "$TMP/err"

unpriv_setup
cp -R "$SOURCE_DIR/examples/shell-agent" "$TMP/example"
chmod -R a+rX "$TMP/example"
mkdir -m 1777 "$TMP/usertmp"
expect_status 0 as_user env TMPDIR="$TMP/usertmp" "$UNPRIV_RUNBUNDLE" \
	demo --example "$TMP/example"
dir=$(sed -n 's/^demo directory: //p' "$TMP/out")
case $dir in
"$TMP/usertmp"/runbundle-demo-*) ;;
*) fail "the default directory: expected one in $TMP/usertmp, got '$dir'" ;;
esac
expect_eq "$dir" "$(ls -d "$TMP/usertmp"/*)" "what the demo left in TMPDIR"
check_demo "$dir"
