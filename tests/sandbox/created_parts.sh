#!/bin/sh
# The read-only parts that a run creates in the workspace: runs that
# share the workspace keep each other's parts read-only, a failed start
# removes what it made, and a workspace that the caller made read-only
# gets no part at all.
. "$TESTS_DIR/lib.sh"
ATTACK=/bin/true
. "$TESTS_DIR/sandbox/escape_lib.sh"

# start_first WHO: run a first sandbox in WHO's workspace, which
# creates .git/hooks and keeps it for 2 s, in the background, and wait
# until its command runs. Sets $first.
start_first() {
	rm -f "$ws/started"
	sandbox "$1" -- sh -c 'touch started; sleep 2' \
		>"$TMP/first.out" 2>"$TMP/first.err" &
	first=$!
	wait_file "$ws/started" "$1: the first run did not start"
	rm -f "$ws/started"
}

for who in $IDENTITIES; do
	ws=$(workspace "$who")
	rm -rf "$ws/.git"

	# A second run starts while the first uses the parts it created,
	# and writes there after the first has ended. Its part stays
	# read-only, and the first run leaves the parts in place.
	start_first "$who"
	refused "$who" -- sh -c 'sleep 3; mkdir -p .git/hooks &&
		echo x >.git/hooks/pre-commit'
	expect_grep 'Read-only file system' "$TMP/err"
	wait_status "$first"
	expect_eq 0 "$status" "$who: the first run's exit status"
	[ ! -e "$ws/.git/hooks/pre-commit" ] ||
		fail "$who: the second run wrote .git/hooks/pre-commit"
	[ -d "$ws/.git/hooks" ] ||
		fail "$who: .git/hooks went while the second run used it"
	rmdir "$ws/.git/hooks" "$ws/.git"

	# Alone, a run removes the parts it created.
	expect_status 0 sandbox "$who" -- true
	[ ! -e "$ws/.git" ] || fail "$who: .git was left by a lone run"

	# A part below a symlink is rejected before any part is created.
	rm -rf "$ws/infra" "$TMP/outside-$who"
	mkdir "$TMP/outside-$who"
	ln -s "$TMP/outside-$who" "$ws/infra"
	failing=$(policy failing '{"version": 1, "workspace": {"read_only":
		[".git/hooks", "infra/prod"]}}')
	expect_status 125 sandbox "$who" --policy "$failing" -- true
	expect_grep "cannot open the workspace part: '$ws/infra'" "$TMP/err"
	expect_grep "^hint: .*not a symlink.*policy's workspace.read_only\$" \
		"$TMP/err"
	[ ! -e "$ws/.git" ] || fail "$who: a rejected start made .git"

	# The hint names the key of the part, a writable one too.
	failing=$(policy failing '{"version": 1, "workspace": {"writable":
		["infra/prod"]}}')
	expect_status 125 sandbox "$who" --policy "$failing" -- true
	expect_grep "cannot open the workspace part: '$ws/infra'" "$TMP/err"
	expect_grep "^hint: .*not a symlink.*policy's workspace.writable\$" \
		"$TMP/err"
	rm "$ws/infra"

	# A start that fails after it created a part removes it: a hidden
	# path that leads to a symlink loop in HOME's seed fails once the
	# parts are made.
	mkdir -p "$TMP/loop-seed"
	ln -sfn loop "$TMP/loop-seed/loop"
	chmod 755 "$TMP/loop-seed"
	looping=$(policy looping "{\"version\": 1,
		\"home\": {\"seed\": \"$TMP/loop-seed\"},
		\"workspace\": {\"read_only\": [\".git/hooks\"]},
		\"filesystem\": {\"hidden\": [\"/home/agent/loop\"]}}")
	expect_status 125 sandbox "$who" --policy "$looping" -- true
	expect_grep "cannot open the path to hide: '/home/agent/loop'" \
		"$TMP/err"
	[ ! -e "$ws/.git" ] || fail "$who: a failed start left .git"

	# The same when the cgroup's limit cannot be set, which the caller
	# finds out while init is making the parts: a process limit above
	# the kernel's pid_max. Without a writable cgroup the limit is an
	# rlimit, which takes it.
	big=$(policy big '{"version": 1, "limits": {"processes": 5000000}}')
	for i in 1 2 3 4 5; do
		sandbox "$who" --policy "$big" -- true || true
		[ ! -e "$ws/.git" ] ||
			fail "$who: a start with a failed cgroup left .git"
	done
done

# A workspace that its owner made read-only: the agent, with the
# owner's ids and no capability, cannot create the part, so the run
# does not create it either.
for who in $IDENTITIES; do
	locked=$TMP/locked-$who
	desc=$TMP/desc-$who
	mkdir -p "$locked" "$desc"
	echo x >"$locked/file"
	[ "$who" = user ] && chown -R "$TEST_USER" "$locked" "$desc"
	chmod 555 "$locked"
	if [ "$who" = user ]; then
		(cd "$locked" && as_user "$UNPRIV_RUNBUNDLE" sandbox \
			--description "$desc/locked.json" -- true) \
			>"$TMP/out" 2>"$TMP/err" ||
			fail "user: sandbox in a read-only workspace failed"
	else
		(cd "$locked" && "$RUNBUNDLE" sandbox \
			--description "$desc/locked.json" -- true) \
			>"$TMP/out" 2>"$TMP/err" ||
			fail "root: sandbox in a read-only workspace failed"
	fi
	[ ! -e "$locked/.git" ] ||
		fail "$who: .git made in a read-only workspace"
	expect_eq "$locked/.git/hooks
$locked/.git/config" "$(jq -r '.mounts[] |
		select(.type == "absent") | .path' "$desc/locked.json")" \
		"$who: the parts in a read-only workspace"
	chmod 755 "$locked"
done

# A workspace that the caller can write but not read cannot be locked,
# so its parts stay after the run: removing them could detach the
# mounts of a run that shares it.
if [ -n "$UNPRIV_RUNBUNDLE" ] && [ "$(id -u)" -eq 0 ]; then
	unread=$TMP/unread
	mkdir -p "$unread"
	chown "$TEST_USER" "$unread"
	chmod 300 "$unread"
	(cd "$unread" && as_user "$UNPRIV_RUNBUNDLE" sandbox -- sh -c \
		'sleep 1.5') >"$TMP/first.out" 2>&1 &
	first=$!
	sleep 0.5
	set +e
	(cd "$unread" && as_user "$UNPRIV_RUNBUNDLE" sandbox -- sh -c \
		'sleep 2; echo x >.git/hooks/pre-commit') \
		>"$TMP/out" 2>"$TMP/err"
	got=$?
	set -e
	[ "$got" != 0 ] ||
		fail "user: wrote .git/hooks in an unreadable workspace"
	expect_grep 'Read-only file system' "$TMP/err"
	wait_status "$first"
	expect_eq 0 "$status" "user: the first run in an unreadable workspace"
	[ ! -e "$unread/.git/hooks/pre-commit" ] ||
		fail "user: .git/hooks/pre-commit in an unreadable workspace"
	[ -d "$unread/.git/hooks" ] ||
		fail "user: .git/hooks removed in an unreadable workspace"
fi
