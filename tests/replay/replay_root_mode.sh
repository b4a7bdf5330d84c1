#!/bin/sh
# A replay gives its workspace the recorded root's permission bits. In
# a workspace of mode 0555 the agent cannot create a file at the top,
# so a replay in a writable checkout would let the write succeed and
# diverge. The replay's own directory is removed afterwards all the
# same. As ourselves, and as the test user when we are root.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/record/record_lib.sh"
runners_setup

for runner in $runners; do
	rb=$RUNBUNDLE
	[ "$runner" = user ] && rb=$UNPRIV_RUNBUNDLE
	ws=$TMP/$runner-ws
	mkdir "$ws" "$TMP/$runner-tmp"
	echo a >"$ws/a"
	[ "$runner" = user ] && chown -R "$TEST_USER:" "$ws" "$TMP/$runner-tmp"
	chmod 555 "$ws"
	set +e
	(cd "$ws" && run_as "$runner" "$rb" record -o "$TMP/$runner.rb" \
		-- sh -c 'echo x >b || echo refused' \
		</dev/null >"$TMP/out" 2>"$TMP/err")
	status=$?
	set -e
	expect_eq 0 "$status" "the recording's status ($runner)"
	expect_grep '^refused$' "$TMP/out"
	replay_cleanly "$runner" "$rb" "$TMP/$runner.rb" "$TMP/$runner-tmp"
	chmod 755 "$ws"
done
exit 0
