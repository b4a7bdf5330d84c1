#!/bin/sh
# A workspace file that the recording user cannot read: record warns
# once and names it, cat gives the reason it has no content, and a replay that
# changes nothing is identical, with the file listed as not compared.
. "$TESTS_DIR/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root to own a file the user cannot read"
command -v jq >/dev/null || skip "jq is missing"
unpriv_setup

ws=$TMP/ws
mkdir "$ws"
echo visible >"$ws/a"
echo hidden >"$ws/secret"
chmod 600 "$ws/secret"
chown "$TEST_USER:" "$ws" "$ws/a"
chmod 777 "$TMP"
cd "$ws"

# as_rb COMMAND...: runbundle as the test user, with the exit status in
# $status and the output in $TMP/out and $TMP/err.
as_rb() {
	set +e
	as_user "$UNPRIV_RUNBUNDLE" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
	status=$?
	set -e
}

as_rb record -o "$TMP/r.rb" -- true
expect_eq 0 "$status" "record's exit status"
expect_grep "^runbundle: warning: cannot read: 'secret': Permission \
denied: recorded without its content$" "$TMP/err"
expect_grep "^hint: make it readable to the user who runs runbundle record" \
	"$TMP/err"
# The initial and the final snapshot both miss it, but it is named once.
expect_eq 1 "$(grep -c "cannot read: 'secret'" "$TMP/err")" \
	"warnings about secret"

as_rb cat "$TMP/r.rb" secret
expect_eq 3 "$status" "cat's exit status"
expect_eq "runbundle: cannot print: 'secret': it could not be read when \
the snapshot was taken (Permission denied), so its content was not stored" \
	"$(head -n 1 "$TMP/err")" "cat's message"
expect_grep "^hint: make it readable to the user who runs runbundle record" \
	"$TMP/err"
grep -q 'it is a error' "$TMP/err" && fail "cat named the kind, not the cause"

cd "$TMP"
as_rb replay "$TMP/r.rb"
expect_eq 0 "$status" "replay's exit status"
expect_grep '^identical: 1 step$' "$TMP/out"
expect_grep "^not compared: 1 entry that the recording or the replay could \
not read (secret)" "$TMP/out"
grep -q 'secret differs' "$TMP/out" && fail "replay counted secret as changed"
as_rb replay --json "$TMP/r.rb"
expect_eq 0 "$status" "replay --json's exit status"
expect_eq identical "$(jq -r .verdict "$TMP/out")" "replay --json's verdict"
expect_eq '["secret"]' "$(jq -c .uncompared_files "$TMP/out")" \
	"replay --json's uncompared_files"

# The reverse: root records files that the test user cannot read, and
# the test user replays. They are not compared, not counted as changed,
# and the replay's own files of mode 0 do not stay behind.
ws2=$TMP/ws2
mkdir -p "$ws2/locked"
echo root-only >"$ws2/closed"
echo inside >"$ws2/locked/f"
chmod 000 "$ws2/closed" "$ws2/locked"
(cd "$ws2" && "$RUNBUNDLE" record -o "$TMP/root.rb" -- sh -c \
	'mkdir made && echo x >made/f && chmod 000 made' 2>"$TMP/err") ||
	fail "root's recording failed"
chmod 644 "$TMP/root.rb"
mkdir "$TMP/tmp2"
chmod 777 "$TMP/tmp2"

# replay_as_user ARG...: runbundle replay as the test user, with its
# temporary directories in $TMP/tmp2, the exit status in $status and
# the output in $TMP/out and $TMP/err.
replay_as_user() {
	set +e
	as_user env TMPDIR="$TMP/tmp2" "$UNPRIV_RUNBUNDLE" replay "$@" \
		>"$TMP/out" 2>"$TMP/err" </dev/null
	status=$?
	set -e
}
replay_as_user "$TMP/root.rb"
if [ "$status" != 0 ]; then
	cat "$TMP/out" "$TMP/err" >&2
	fail "replay by another user: expected exit status 0, got $status"
fi
expect_grep '^identical: 1 step$' "$TMP/out"
expect_grep "^not compared: 3 entries that the recording or the replay \
could not read (closed, locked, made)" "$TMP/out"
expect_grep "^runbundle: warning: cannot read: 'closed': Permission \
denied: not compared with the recording$" "$TMP/err"
expect_eq "" "$(ls -A "$TMP/tmp2")" "what the replay left in its TMPDIR"

# --repeat names them too, in its text and in its JSON.
replay_as_user --repeat 2 "$TMP/root.rb"
expect_eq 0 "$status" "replay --repeat by another user"
expect_grep "^not compared in 2 of 2 replays: entries that the recording \
or the replay could not read (closed, locked, made)$" "$TMP/out"
replay_as_user --repeat 2 --json "$TMP/root.rb"
expect_eq '[["closed",2],["locked",2],["made",2]]' \
	"$(jq -c '[.uncompared_files[] | [.file, .count]]' "$TMP/out")" \
	"replay --repeat --json's uncompared_files"

# A file that the recording could read and that the replay's agent left
# unreadable differs in its mode, which lstat shows without reading it:
# a divergence, not an entry left uncompared.
ws3=$TMP/ws3
mkdir "$ws3"
chmod 777 "$ws3"
(cd "$ws3" && "$RUNBUNDLE" record -o "$TMP/mode.rb" -- sh -c '
	read inside outside count </proc/self/uid_map
	if [ "$outside" != 0 ]; then umask 777; fi
	echo data >out' 2>"$TMP/err") || fail "root's recording of out failed"
chmod 644 "$TMP/mode.rb"
replay_as_user "$TMP/mode.rb"
expect_eq 1 "$status" "replay of a file made unreadable"
expect_grep "out differs from the recording (mode)" "$TMP/out"
exit 0
