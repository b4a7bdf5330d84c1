#!/bin/sh
# diff rejects an unfinalized bundle (a recording killed with SIGKILL),
# as replay does: exit 3, unless --allow-incomplete, which compares it
# with a note. A copy of an unfinalized bundle without its -wal file,
# which can hold all of its events, is rejected by both, naming the
# missing file.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"

new_workspace "$TMP/done" 'echo one'
record_in "$TMP/done" "$TMP/done.rb"

# The agent waits until the test removes the file hold.
new_workspace "$TMP/ws" \
	'echo x >waiting; while [ -e hold ]; do sleep 0.05; done'
: >"$TMP/ws/hold"
(cd "$TMP/ws" && exec "$RUNBUNDLE" record -o "$TMP/killed.rb" \
	--model-script "$TMP/ws.script.json" -- sh ./agent.sh \
	</dev/null >/dev/null 2>&1) &
rec=$!
wait_file "$TMP/ws/waiting" "the agent did not start"
kill -KILL "$rec"
wait "$rec" || true
rm "$TMP/ws/hold"
cp "$TMP/killed.rb" "$TMP/copy.rb"

expect_status 3 "$RUNBUNDLE" diff "$TMP/done.rb" "$TMP/killed.rb"
expect_grep "^runbundle: the bundle is incomplete: '$TMP/killed.rb': it \
was not finalized" "$TMP/err"
expect_grep "^hint: pass --allow-incomplete" "$TMP/err"
[ ! -s "$TMP/out" ] || fail "diff reported on an unfinalized bundle"

expect_status 1 "$RUNBUNDLE" diff --allow-incomplete "$TMP/done.rb" \
	"$TMP/killed.rb"
expect_grep "^note: '$TMP/killed.rb' was not finalized" "$TMP/err"
expect_grep '^diverged at step ' "$TMP/out"

# The copy made without killed.rb-wal.
[ ! -e "$TMP/copy.rb-wal" ] || fail "the copy has a -wal file"
for command in "replay --allow-incomplete" replay \
	"diff --allow-incomplete $TMP/done.rb" "diff $TMP/done.rb"; do
	# shellcheck disable=SC2086
	expect_status 3 "$RUNBUNDLE" $command "$TMP/copy.rb"
	expect_grep "^runbundle: .*'$TMP/copy.rb-wal': missing" "$TMP/err"
	expect_grep "^hint: copy '$TMP/copy.rb-wal' together with the bundle" \
		"$TMP/err"
	if grep -q 'no record event' "$TMP/err"; then
		cat "$TMP/err" >&2
		fail "$command: the error does not name the missing -wal file"
	fi
done

# A recorder killed with SIGKILL cannot remove the pids cgroup that it
# made for its sandbox, which is named after its pid. It is empty now.
for d in /sys/fs/cgroup/pids/runbundle-"$rec" \
	/sys/fs/cgroup/pids/runbundle-"$rec"-*; do
	[ ! -d "$d" ] || rmdir "$d" 2>/dev/null || true
done
