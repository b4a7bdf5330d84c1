#!/bin/sh
# A run that adds commondir or config.worktree to a git directory fails
# protected-path with the default rules: git then reads the config and
# hooks of the directory that commondir names, or config.worktree with
# the config.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/inspect/gate_lib.sh"
command -v jq >/dev/null || skip "jq is missing"

# git_dir DIR: DIR, a git directory with plain entries.
git_dir() {
	mkdir -p "$1/objects" "$1/refs/heads"
	echo 'ref: refs/heads/main' >"$1/HEAD"
	printf '[extensions]\n\tworktreeConfig = true\n' >"$1/config"
}

# expect_protected DIR ITEMS RULES: the run of DIR fails protected-path
# with ITEMS under the rules file RULES, or the default rules when it is
# empty.
expect_protected() {
	run_finish "$1"
	forge "$1/b.rb" "$1/spec"
	if [ -n "$3" ]; then
		expect_status 1 "$RUNBUNDLE" gate --json --rules "$3" "$1/b.rb"
	else
		expect_status 1 "$RUNBUNDLE" gate --json "$1/b.rb"
	fi
	items=$(jq -c '.rules[] | select(.rule == "protected-path") |
		.items' "$TMP/out")
	expect_eq "$2" "$items" "the protected paths of $1"
}

# The workspace's repository and a nested one.
for repo in .git vendor/lib/.git; do
	for name in commondir config.worktree; do
		d=$TMP/$(echo "$repo-$name" | tr ./ __)
		git_dir "$d/before/$repo"
		cp -a "$d/before" "$d/after"
		echo ../evil >"$d/after/$repo/$name"
		run_spec "$d"
		expect_protected "$d" "[\"$repo/$name\"]" ""
	done
done

# A bare repository under rules that name no git path: commondir takes
# the place of objects and refs.
echo '{"version": 1, "protected_paths": ["yarn.lock"]}' >"$TMP/rules.json"
d=$TMP/bare
mkdir -p "$d/before" "$d/after/app.git"
echo 'ref: refs/heads/main' >"$d/after/app.git/HEAD"
echo ../evil >"$d/after/app.git/commondir"
echo x >"$d/after/app.git/config.worktree"
run_spec "$d"
expect_protected "$d" '["app.git/commondir","app.git/config.worktree"]' \
	"$TMP/rules.json"
exit 0
