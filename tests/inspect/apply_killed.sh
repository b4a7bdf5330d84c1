#!/bin/sh
# An apply killed with SIGKILL while it writes a file leaves no
# temporary file in the target, because the content goes to an unnamed
# file that gets its name only just before the rename. A stray
# .NAME.runbundle-apply would be an untracked file that 'git add -A'
# commits. One that a kill between the naming and the rename leaves is
# removed by the rerun. A preloaded library raises SIGKILL once apply
# has written 300 kB.
. "$TESTS_DIR/lib.sh"
preload=$1

# The sanitizers must come first among the preloaded libraries.
skip_if_sanitized "$RUNBUNDLE" \
	"the sanitizers do not run beside another preloaded library"

ws=$TMP/ws
mkdir "$ws"
echo a >"$ws/a"
"$RUNBUNDLE" snapshot "$TMP/b.rb" "$ws" >/dev/null
cp -a "$ws" "$TMP/target"
head -c 1000000 /dev/urandom >"$ws/big"
echo b >"$ws/a"
"$RUNBUNDLE" snapshot --finalize "$TMP/b.rb" "$ws" >/dev/null

set +e
LD_PRELOAD=$preload RB_KILL_AFTER=300000 "$RUNBUNDLE" apply \
	--to "$TMP/target" "$TMP/b.rb" >/dev/null 2>"$TMP/err"
status=$?
set -e
expect_eq 137 "$status" "status of apply killed while writing"
left=$(cd "$TMP/target" && ls -A | grep -v '^a$' || true)
expect_eq "" "$left" "files left by the killed apply"

# What a kill just before the rename leaves.
echo partial >"$TMP/target/.big.runbundle-apply"
expect_status 0 "$RUNBUNDLE" apply --to "$TMP/target" "$TMP/b.rb"
diff -r "$ws" "$TMP/target" || fail "the rerun did not finish the apply"
exit 0
