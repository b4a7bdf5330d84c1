#!/bin/sh
# A change that reaches a protected path through a symlink of the
# workspace fails protected-path: a later job reads the run's
# ci/github/workflows/ci.yml as .github/workflows/ci.yml when .github
# is a symlink to ci/github, although the run never changed .github.
# Removing such a symlink fails too. A symlink elsewhere passes.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/inspect/gate_lib.sh"
command -v jq >/dev/null || skip "jq is missing"

# link_run NAME LINK TARGET CHANGED: a run whose initial and final state
# have the symlink LINK -> TARGET, and that writes CHANGED.
link_run() {
	d=$TMP/$1
	mkdir -p "$d/before/$(dirname "$4")" "$d/before/$(dirname "$2")"
	echo old >"$d/before/$4"
	ln -s "$3" "$d/before/$2"
	cp -a "$d/before" "$d/after"
	echo new >"$d/after/$4"
	run_spec "$d"
	run_finish "$d"
	forge "$d/b.rb" "$d/spec"
}

# protected NAME ITEMS: gate fails protected-path alone, with ITEMS.
protected() {
	expect_status 1 "$RUNBUNDLE" gate --json "$TMP/$1/b.rb"
	expect_eq '["protected-path"]' "$(jq -c '[.rules[] |
		select(.passed | not) | .rule]' "$TMP/out")" \
		"the failed rules of $1"
	expect_eq "$2" "$(jq -c '.rules[] | select(.rule ==
		"protected-path") | .items' "$TMP/out")" "the items of $1"
}

link_run workflows .github ci/github ci/github/workflows/ci.yml
protected workflows '["ci/github/workflows/ci.yml"]'
link_run lockfile package-lock.json locks/npm.json locks/npm.json
protected lockfile '["locks/npm.json"]'
link_run nested src/.runbundle ../rb rb/gate.json
link_run up sub/.github ../ci ci/workflows/ci.yml
expect_status 0 "$RUNBUNDLE" gate "$TMP/nested/b.rb"
expect_status 0 "$RUNBUNDLE" gate "$TMP/up/b.rb"
link_run deep sub/.git ../gitdir gitdir/hooks/pre-commit
protected deep '["gitdir/hooks/pre-commit"]'

# A target outside the workspace is not followed.
link_run outside .github ../../ci ci/workflows/ci.yml
expect_status 0 "$RUNBUNDLE" gate "$TMP/outside/b.rb"

# The run removes the symlink .github.
d=$TMP/removed
mkdir -p "$d/before/ci" "$d/after/ci"
echo x >"$d/before/ci/ci.yml"
echo x >"$d/after/ci/ci.yml"
ln -s ci "$d/before/.github"
run_spec "$d"
run_finish "$d"
forge "$d/b.rb" "$d/spec"
protected removed '[".github"]'
exit 0
