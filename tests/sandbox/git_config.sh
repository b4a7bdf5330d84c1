#!/bin/sh
# The agent cannot make the host's git run a program of its choosing.
# git runs core.fsmonitor on `git status` and the hooks of
# core.hooksPath on `git commit`, outside any sandbox, so the built-in
# policy keeps .git/config read-only as it keeps .git/hooks. Commits
# still work. As root and as the test user.
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
done
exit 0
