#!/bin/sh
# The agent cannot make the host's git run a program of its choosing.
# git runs core.fsmonitor on `git status` and the hooks of
# core.hooksPath on `git commit`, outside any sandbox, so the built-in
# policy keeps .git/config read-only as it keeps .git/hooks. Commits
# still work. A .git/commondir or .git/config.worktree that the command
# writes is reported. As root and as the test user.
. "$TESTS_DIR/lib.sh"
ATTACK=/bin/true
. "$TESTS_DIR/sandbox/escape_lib.sh"
command -v git >/dev/null || skip "git is missing"

# in_repo WHO COMMAND: run a shell command in WHO's repository on the
# host, as WHO.
in_repo() {
	if [ "$1" = user ]; then
		(cd "$ws" && as_user env HOME="$ws" sh -c "$2")
	else
		(cd "$ws" && HOME="$ws" sh -c "$2")
	fi
}

for who in $IDENTITIES; do
	ws=$(workspace "$who")
	in_repo "$who" 'git init -q . && git -c user.email=a@b \
		-c user.name=a commit -q --allow-empty -m init'
	cp "$ws/.git/config" "$TMP/config-$who"

	refused "$who" -- git config core.fsmonitor ./attack
	refused "$who" -- git config core.hooksPath .
	refused "$who" -- sh -c 'echo "[core] fsmonitor = ./attack" \
		>>.git/config'
	refused "$who" -- sh -c 'mv .git/config .git/old'
	cmp -s "$ws/.git/config" "$TMP/config-$who" ||
		fail "$who: the host's .git/config changed"

	expect_status 0 sandbox "$who" -- git -c user.email=a@b \
		-c user.name=a commit -q --allow-empty -m agent
	expect_eq 2 "$(in_repo "$who" 'git rev-list --count HEAD')" \
		"$who: the commits in the repository"
	! grep -q "policy violation" "$TMP/err" ||
		fail "$who: a violation reported for a commit"

	# A missing file cannot be bound read-only without all of .git,
	# so a commondir or config.worktree that the command writes is
	# reported after the run instead, whatever its exit status.
	expect_status 0 sandbox "$who" -- sh -c 'echo ../evil \
		>.git/commondir'
	expect_grep "^runbundle: policy violation: workspace.read_only: \
'.git/commondir': the command created it, and git takes config and \
hooks from the directory that it names" "$TMP/err"
	expect_grep "check it and remove it before running git" "$TMP/err"
	rm "$ws/.git/commondir"
	expect_status 0 sandbox "$who" -- sh -c 'echo "[core]" \
		>.git/config.worktree'
	expect_grep "^runbundle: policy violation: workspace.read_only: \
'.git/config.worktree': the command created it" "$TMP/err"
	expect_status 0 sandbox "$who" -- sh -c 'echo more \
		>>.git/config.worktree'
	expect_grep "'.git/config.worktree': the command changed it" \
		"$TMP/err"
	rm "$ws/.git/config.worktree"
done

# record stores the same as a violation event, and prints it at once.
ws=$(workspace root)
[ "$(id -u)" -eq 0 ] || ws=$(workspace user)
cd "$ws"
expect_status 0 "$RUNBUNDLE" record -o "$TMP/run.rb" -- sh -c \
	'echo ../evil >.git/commondir'
expect_grep "^runbundle: policy violation: workspace.read_only: \
'.git/commondir': the agent created it" "$TMP/err"
expect_grep "^summary: .*, 1 policy violation\$" "$TMP/err"
expect_status 0 "$RUNBUNDLE" log "$TMP/run.rb"
expect_grep "violation  *'.git/commondir' created in the workspace's git \
directory" "$TMP/out"
exit 0
