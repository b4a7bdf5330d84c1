#!/bin/sh
# A read-only workspace part that does not exist when the sandbox starts
# cannot be created or written inside it: the deepest existing directory
# above it is bound read-only. Nothing is created in the host's
# workspace for it.
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

for who in $IDENTITIES; do
	ws=$(workspace "$who")
	prepare "$who" .git infra a

	# The built-in policy's .git/hooks, in a workspace whose .git has
	# no hooks yet.
	attempt "$who" -- sh -c 'mkdir .git/hooks'
	attempt "$who" -- sh -c 'mkdir -p .git/hooks && echo x >.git/hooks/pre-commit'
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
		"\(.covers) \(.options)"' "$ws/desc.json" | sort)
	expect_eq "a/b/c ro,nosuid,nodev
infra/prod ro,nosuid,nodev" "$covers" "$who: covering mounts"
	# NOTE: a part whose first component is missing has only the
	# workspace above it, which stays writable, so it is recorded as
	# absent and not protected.
	absent=$(jq -r '.mounts[] | select(.type == "absent") | .path' \
		"$ws/desc.json")
	expect_eq "$ws/top/level" "$absent" "$who: absent part"
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
