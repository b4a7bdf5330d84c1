#!/bin/sh
# A change to the config or hooks of a bare repository fails
# protected-path when a directory above the repository is named hooks
# or hooksy too.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/inspect/gate_lib.sh"
command -v jq >/dev/null || skip "jq is missing"

for part in tools/hooks/app.git/hooks/pre-commit tools/hooks/app.git/config \
	hooks/app.git/hooks/post-checkout hooksy/app.git/hooks/pre-push; do
	repo=${part%.git/*}.git
	d=$TMP/$(echo "$part" | tr ./ __)
	mkdir -p "$d/before/src" "$d/after/$repo/objects" \
		"$d/after/$repo/refs" "$d/after/$(dirname "$part")"
	echo 'ref: refs/heads/main' >"$d/after/$repo/HEAD"
	echo x >"$d/after/$part"
	run_spec "$d"
	run_finish "$d"
	forge "$d/b.rb" "$d/spec"
	expect_status 1 "$RUNBUNDLE" gate --json "$d/b.rb"
	expect_eq "[\"$part\"]" "$(jq -c '.rules[] |
		select(.rule == "protected-path") | .items' "$TMP/out")" \
		"the protected paths of $repo"
done

# A directory named hooks outside any repository passes.
d=$TMP/plain
mkdir -p "$d/before" "$d/after/tools/hooks/lib/hooks"
echo x >"$d/after/tools/hooks/lib/hooks/run.sh"
echo x >"$d/after/tools/hooks/lib/config"
run_spec "$d"
run_finish "$d"
forge "$d/b.rb" "$d/spec"
expect_status 0 "$RUNBUNDLE" gate "$d/b.rb"
exit 0
