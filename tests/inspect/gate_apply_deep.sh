#!/bin/sh
# gate and apply take a changed path whole, however long. Nested
# directories can make a path of more than 10,000 bytes. A path cut to a
# fixed length hid a changed git hook from gate. It also made apply
# reject the run with a message about the target.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/inspect/gate_lib.sh"
command -v jq >/dev/null || skip "jq is missing"

# The name of each of 40 nested directories: 40 * 251 = 10,040 bytes.
long=$(printf '%0250d' 0 | tr 0 d)

# chain: make the 40 directories below the current one and enter them.
# Each mkdir and cd names one component, because no single path would
# fit. -P keeps cd from joining the long path that it would track.
chain() {
	i=0
	while [ $i -lt 40 ]; do
		mkdir -p "$long" && cd -P "$long" || return 1
		i=$((i + 1))
	done
}

# gate reports a changed hook at the end of the long path.
d=$TMP/hook
mkdir -p "$d/before" "$d/after"
echo x >"$d/before/a"
echo x >"$d/after/a"
(cd "$d/after" && chain && mkdir -p .git/hooks &&
	echo evil >.git/hooks/pre-commit) || fail "cannot make the tree"
run_spec "$d"
run_finish "$d"
forge "$d/b.rb" "$d/spec"
expect_status 1 "$RUNBUNDLE" gate "$d/b.rb"
expect_grep "^protected-path .*/\.git/hooks/pre-commit'$" "$TMP/out"
expect_status 1 "$RUNBUNDLE" gate --json "$d/b.rb"
item=$(jq -r '.rules[] | select(.rule == "protected-path") | .items[0]' \
	"$TMP/out")
case $item in
*/.git/hooks/pre-commit) ;;
*) fail "the JSON item is not the whole path: '$(echo "$item" |
	tail -c 60)'" ;;
esac
[ ${#item} -gt 10000 ] || fail "the JSON item has ${#item} bytes"

# apply adds, changes and deletes files at the end of the long path.
w=$TMP/w
mkdir -p "$w"
(cd "$w" && chain && echo one >f && echo old >h) ||
	fail "cannot make the tree"
expect_status 0 "$RUNBUNDLE" snapshot "$TMP/run.rb" "$w"
expect_status 0 "$RUNBUNDLE" export --allow-incomplete --format dir \
	-o "$TMP/target" "$TMP/run.rb"
(cd "$w" && chain && echo two >f && echo new >g && rm h) ||
	fail "cannot change the tree"
expect_status 0 "$RUNBUNDLE" snapshot --finalize "$TMP/run.rb" "$w"
expect_status 0 "$RUNBUNDLE" apply --to "$TMP/target" "$TMP/run.rb"
expect_grep '^applied: 1 added, 1 modified, 1 deleted, 0 mode changed$' \
	"$TMP/out"
expect_grep "^M  d.*d/f$" "$TMP/out"
(cd "$TMP/target" && chain && [ "$(cat f)" = two ] &&
	[ "$(cat g)" = new ] && [ ! -e h ]) ||
	fail "apply did not write the files at the end of the long path"
exit 0
