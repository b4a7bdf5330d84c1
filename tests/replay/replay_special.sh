#!/bin/sh
# Two workspaces that a checkout cannot rebuild byte for byte still
# replay as recorded. One has a Unix socket, which the replay binds
# again without a listener and the comparison leaves out. The other is
# a git repository whose agent runs git status. git rewrites .git/index
# with the stat data of the checkout, which is a volatile difference
# unless --strict-git-index is given.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"
command -v git >/dev/null || skip "git is missing"

new_workspace "$TMP/sws" 'ls -l sock | cut -c1' 'ls'
/usr/bin/python3 -c 'import socket, sys
socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$TMP/sws/sock"
record_in "$TMP/sws" "$TMP/sock.rb"
replay_json "$TMP/sock.rb" --keep
expect_replay_status 0
expect_eq identical "$(jqr .verdict)" "verdict with a socket"
expect_grep "^note: the workspace has 1 socket ('sock'): a socket cannot be \
restored" "$TMP/replay.err"
[ -S "$(jqr .workspace)/sock" ] || fail "the replay has no socket 'sock'"

new_workspace "$TMP/gws" 'git status --short' 'git diff --stat; echo x >>f'
(cd "$TMP/gws" && echo one >f && git init -q . &&
	git add f agent.sh steps.txt &&
	git -c user.name=t -c user.email=t@localhost commit -qm start)
record_in "$TMP/gws" "$TMP/git.rb"
replay_json "$TMP/git.rb"
expect_replay_status 0
expect_eq volatile-only "$(jqr .verdict)" "verdict after git status"
expect_eq 1 "$(jqr '.differences[0].volatile_files')" \
	"volatile index files at step 1"
jqr '.differences[0].explanation' >"$TMP/explanation"
expect_grep "volatile differences only (.*\.git/index, the stat data" \
	"$TMP/explanation"

# A command whose argv differs in a temporary file's name only: the
# explanation names it, and so does the JSON.
new_workspace "$TMP/tws" 'touch "$(mktemp -u /tmp/tmp.XXXXXXXXXX)"'
record_in "$TMP/tws" "$TMP/tmp.rb"
replay_json "$TMP/tmp.rb"
expect_replay_status 0
expect_eq "volatile-only 1" \
	"$(jqr '.differences[0] | "\(.verdict) \(.volatile_processes)"')" \
	"a volatile argv"
expect_eq "step 1: volatile differences only (the argv of 1 \
command)" "$(jqr '.differences[0].explanation')" "the explanation"

replay_json "$TMP/git.rb" --strict-git-index
expect_replay_status 1
expect_eq ".git/index content" \
	"$(jqr '.differences[0].files[0] | "\(.path) \(.change)"')" \
	"the strict difference"
