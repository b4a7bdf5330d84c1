#!/bin/sh
# apply writes nothing inside a directory named .git, at any depth: a
# run that set core.fsmonitor or added a hook would have the reviewer's
# git run a program of the agent's. The other changes of the run are
# applied, and the ones left out are named.
. "$TESTS_DIR/lib.sh"
command -v jq >/dev/null || skip "jq is missing"

ws=$TMP/ws
mkdir -p "$ws/.git/hooks" "$ws/sub"
echo '[core]' >"$ws/.git/config"
echo f >"$ws/f"
"$RUNBUNDLE" snapshot "$TMP/run.rb" "$ws" >/dev/null
cp -a "$ws" "$TMP/target"

echo '	fsmonitor = .git/fsm' >>"$ws/.git/config"
printf '#!/bin/sh\ntouch "$HOME/pwned"\n' >"$ws/.git/fsm"
printf '#!/bin/sh\n' >"$ws/.git/hooks/pre-commit"
echo 'gitdir: ../.git' >"$ws/sub/.git"
echo changed >"$ws/f"
"$RUNBUNDLE" snapshot --finalize "$TMP/run.rb" "$ws" >/dev/null

expect_status 0 "$RUNBUNDLE" apply --dry-run --json --to "$TMP/target" \
	"$TMP/run.rb"
expect_eq '["M f"]' "$(jq -c '[.changes[] | "\(.change) \(.path)"]' \
	"$TMP/out")" "the changes applied"
expect_eq '[".git/config",".git/fsm",".git/hooks/pre-commit","sub/.git"]' \
	"$(jq -c '.skipped | sort' "$TMP/out")" "the changes left out"

expect_status 0 "$RUNBUNDLE" apply --to "$TMP/target" "$TMP/run.rb"
expect_grep "^M  f$" "$TMP/out"
expect_grep "^runbundle: not applied: '.git/" "$TMP/err"
expect_grep '^hint: 4 changes inside .git are left out' "$TMP/err"
expect_eq changed "$(cat "$TMP/target/f")" "the applied file"
expect_eq '[core]' "$(cat "$TMP/target/.git/config")" \
	"the target's .git/config"
[ ! -e "$TMP/target/.git/fsm" ] || fail "apply wrote .git/fsm"
[ ! -e "$TMP/target/.git/hooks/pre-commit" ] ||
	fail "apply wrote a hook"
[ ! -e "$TMP/target/sub/.git" ] || fail "apply wrote sub/.git"

# A second apply finds the applied changes in place.
expect_status 0 "$RUNBUNDLE" apply --to "$TMP/target" "$TMP/run.rb"
expect_grep '^already applied: the target has the final state of all 1 ' \
	"$TMP/out"
exit 0
