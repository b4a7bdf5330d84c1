#!/bin/sh
# A change to the config of a bare repository fails protected-path when
# its HEAD, objects or refs is a symlink or HEAD is a hardlink, because
# git takes such a directory for a repository as well.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/inspect/gate_lib.sh"
command -v jq >/dev/null || skip "jq is missing"

# bare_repo DIR: DIR/app.git, a bare repository with plain entries.
bare_repo() {
	mkdir -p "$1/app.git/objects" "$1/app.git/refs/heads"
	echo 'ref: refs/heads/main' >"$1/app.git/HEAD"
	printf '[core]\n\tbare = true\n\tpager = evil\n' >"$1/app.git/config"
}

for link in HEAD objects refs hardlink; do
	d=$TMP/$link
	mkdir -p "$d/before" "$d/after"
	bare_repo "$d/after"
	case $link in
	HEAD)
		rm "$d/after/app.git/HEAD"
		ln -s refs/heads/main "$d/after/app.git/HEAD" ;;
	hardlink)
		ln "$d/after/app.git/HEAD" "$d/after/HEAD.copy" ;;
	*)
		mv "$d/after/app.git/$link" "$d/after/app.git/real-$link"
		ln -s "real-$link" "$d/after/app.git/$link" ;;
	esac
	run_spec "$d"
	run_finish "$d"
	forge "$d/b.rb" "$d/spec"
	expect_status 1 "$RUNBUNDLE" gate --json "$d/b.rb"
	items=$(jq -c '.rules[] | select(.rule == "protected-path") |
		.items' "$TMP/out")
	expect_eq '["app.git/config"]' "$items" \
		"the protected paths with $link as a link"
done

# A directory whose HEAD is a symlink, but that has no objects, is no
# repository.
d=$TMP/plain
mkdir -p "$d/before" "$d/after/app.git/refs"
ln -s refs/heads/main "$d/after/app.git/HEAD"
echo x >"$d/after/app.git/config"
run_spec "$d"
run_finish "$d"
forge "$d/b.rb" "$d/spec"
expect_status 0 "$RUNBUNDLE" gate "$d/b.rb"
exit 0
