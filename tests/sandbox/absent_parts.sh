#!/bin/sh
# A read-only workspace part that does not exist when the sandbox starts
# cannot be created or written inside it: the deepest existing directory
# above it is bound read-only, or, when only the workspace is above it,
# the part is created for the run and removed after it.
. "$TESTS_DIR/lib.sh"
ATTACK=/bin/true
. "$TESTS_DIR/sandbox/escape_lib.sh"

# prepare WHO DIR...: create directories in WHO's workspace, owned by
# WHO.
prepare() {
	who=$1
	shift
	ws=$(workspace "$who")
	for dir in "$@"; do
		mkdir -p "$ws/$dir"
		[ "$who" = user ] && chown -R "$TEST_USER" "$ws/$dir"
	done
	return 0
}

# attempt WHO [OPTION...] -- COMMAND...: the command fails inside the
# sandbox on a read-only file system, because the policy forbids its
# write.
attempt() {
	who=$1
	shift
	refused "$who" "$@"
	expect_grep 'Read-only file system' "$TMP/err"
}

parts=$(policy parts '{"version": 1, "workspace": {"read_only":
	["infra/prod", "a/b/c", "top/level"]}}')
# The built-in parts without .git/config, which would make the whole
# of a created .git read-only, so that what lies beside .git/hooks can
# be written.
hooks=$(policy hooks '{"version": 1, "workspace": {"read_only":
	[".git/hooks"]}}')

for who in $IDENTITIES; do
	ws=$(workspace "$who")
	prepare "$who" .git infra a

	# The built-in policy's .git/hooks, in a workspace whose .git has
	# no hooks yet.
	attempt "$who" -- sh -c 'mkdir .git/hooks'
	attempt "$who" -- sh -c \
		'mkdir -p .git/hooks && echo x >.git/hooks/pre-commit'
	attempt "$who" -- sh -c 'ln -s /tmp .git/hooks'
	attempt "$who" -- sh -c 'echo "[core]" >.git/config'
	[ ! -e "$ws/.git/hooks" ] || fail "$who: .git/hooks was created"
	# The rest of the workspace stays writable.
	expect_status 0 sandbox "$who" -- sh -c 'echo ok >written'
	expect_eq ok "$(cat "$ws/written")" "$who: write beside .git"

	# A part two levels below its deepest existing directory, and one
	# level below.
	attempt "$who" --policy "$parts" -- sh -c 'mkdir -p a/b/c'
	attempt "$who" --policy "$parts" -- sh -c 'mkdir infra/prod'
	attempt "$who" --policy "$parts" -- sh -c 'echo x >infra/new'
	[ ! -e "$ws/a/b" ] || fail "$who: a/b was created"
	[ ! -e "$ws/infra/prod" ] || fail "$who: infra/prod was created"

	# The description names what covers each absent part.
	expect_status 0 sandbox "$who" --policy "$parts" \
		--description "$ws/desc.json" -- true
	covers=$(jq -r '.mounts[] | select(.covers) |
		"\(.covers) \(.options) \(.created)"' "$ws/desc.json" | sort)
	expect_eq "a/b/c ro,nosuid,nodev null
infra/prod ro,nosuid,nodev null
top/level ro,nosuid,nodev top" "$covers" "$who: covering mounts"
	absent=$(jq '[.mounts[] | select(.type == "absent")] | length' \
		"$ws/desc.json")
	expect_eq 0 "$absent" "$who: no absent part"
	[ ! -e "$ws/top" ] || fail "$who: top was left in the workspace"
done

for who in $IDENTITIES; do
	# A part whose first component is missing too is created for the
	# run, bound read-only, and removed after it.
	ws=$(workspace "$who")
	rm -rf "$ws/.git"
	attempt "$who" --policy "$hooks" -- \
		sh -c 'test -d .git/hooks && echo x >.git/hooks/pre-commit'
	attempt "$who" --policy "$hooks" -- sh -c 'rmdir .git/hooks;
		mkdir -p .git/hooks; echo x >.git/hooks/pre-commit'
	[ ! -e "$ws/.git" ] || fail "$who: .git was left in the workspace"

	# Its directories are mount points, so they cannot be moved aside
	# for an unprotected copy.
	refused "$who" --policy "$hooks" -- sh -c 'mv .git .gitx'
	expect_grep 'busy' "$TMP/err"
	refused "$who" --policy "$hooks" -- sh -c 'mv .git/hooks .git/old'
	expect_grep 'busy' "$TMP/err"
	[ ! -e "$ws/.gitx" ] || fail "$who: .git was moved"
	[ ! -e "$ws/.git" ] || fail "$who: .git was left in the workspace"

	# What the agent writes beside the part stays, and so do the
	# directories that then hold it.
	expect_status 0 sandbox "$who" --policy "$hooks" -- \
		sh -c 'echo x >.git/config'
	expect_eq x "$(cat "$ws/.git/config")" "$who: .git/config"
	[ ! -e "$ws/.git/hooks" ] || fail "$who: .git/hooks was left"
	rm -rf "$ws/.git"

	# The built-in policy also keeps .git/config: a created .git is
	# read-only as a whole, so no repository is made in it.
	attempt "$who" -- sh -c 'echo "[core]" >.git/config'
	attempt "$who" -- sh -c 'git init -q --template= .'
	[ ! -e "$ws/.git" ] || fail "$who: .git was left in the workspace"

	# Where the caller cannot create the part, the agent cannot
	# either: the run goes on and the part is recorded as absent.
	if [ "$who" = root ] && id "$TEST_USER" >/dev/null 2>&1; then
		foreign=$TMP/foreign
		mkdir -p "$foreign"
		chown "$TEST_USER" "$foreign"
		chmod 755 "$foreign"
		expect_status 0 "$RUNBUNDLE" sandbox --workspace "$foreign" \
			--description "$TMP/foreign.json" -- true
		expect_eq "$foreign/.git/hooks
$foreign/.git/config" "$(jq -r '.mounts[] |
			select(.type == "absent") | .path' \
			"$TMP/foreign.json")" \
			"root: absent parts in a foreign workspace"
		[ ! -e "$foreign/.git" ] || fail "root: .git was created"
	fi

	# An existing part's directory is pinned in the same way.
	prepare "$who" infra/prod
	refused "$who" --policy "$parts" -- sh -c 'mv infra infra.old'
	expect_grep 'busy' "$TMP/err"
	[ -d "$ws/infra/prod" ] || fail "$who: infra/prod was moved"
done

for who in $IDENTITIES; do
	# In a git worktree or submodule .git is a file, so .git/hooks
	# cannot exist: the file itself is bound read-only, and the agent
	# can neither replace it with a directory nor change it.
	ws=$(workspace "$who")
	rm -rf "$ws/.git"
	echo "gitdir: /elsewhere/.git/worktrees/ws" >"$ws/.git"
	[ "$who" = user ] && chown "$TEST_USER" "$ws/.git"
	attempt "$who" -- sh -c 'echo x >.git'
	refused "$who" -- sh -c 'rm -f .git && mkdir -p .git/hooks'
	expect_eq "gitdir: /elsewhere/.git/worktrees/ws" "$(cat "$ws/.git")" \
		"$who: the .git file"
done
