#!/bin/sh
# apply leaves out .git in any letter case, and the gate protects it in
# any letter case. On a case-insensitive file system (vfat, an ext4
# casefold directory) a run's .GIT/hooks/pre-commit or .Git file would be
# the checkout's own hook or git directory link.
. "$TESTS_DIR/lib.sh"
command -v jq >/dev/null || skip "jq is missing"

ws=$TMP/ws
mkdir -p "$ws"
echo f >"$ws/f"
"$RUNBUNDLE" snapshot "$TMP/run.rb" "$ws" >/dev/null
cp -a "$ws" "$TMP/target"

mkdir -p "$ws/.GIT/hooks" "$ws/sub"
printf '#!/bin/sh\ntouch "$HOME/pwned"\n' >"$ws/.GIT/hooks/pre-commit"
chmod +x "$ws/.GIT/hooks/pre-commit"
echo 'gitdir: ../elsewhere' >"$ws/sub/.Git"
echo '[core]' >"$ws/sub/.gIt.conf"
echo changed >"$ws/f"
"$RUNBUNDLE" snapshot --finalize "$TMP/run.rb" "$ws" >/dev/null

expect_status 0 "$RUNBUNDLE" apply --dry-run --json --to "$TMP/target" \
	"$TMP/run.rb"
expect_eq '["M f","A sub/.gIt.conf"]' \
	"$(jq -c '[.changes[] | "\(.change) \(.path)"]' "$TMP/out")" \
	"the changes applied"
expect_eq '[".GIT/hooks/pre-commit","sub/.Git"]' \
	"$(jq -c '.skipped | sort' "$TMP/out")" "the changes left out"

expect_status 0 "$RUNBUNDLE" apply --to "$TMP/target" "$TMP/run.rb"
expect_grep "^runbundle: not applied: '.GIT/hooks/pre-commit'" "$TMP/err"
expect_eq changed "$(cat "$TMP/target/f")" "the applied file"
[ ! -e "$TMP/target/.GIT" ] || fail "apply wrote .GIT"
[ ! -e "$TMP/target/sub/.Git" ] || fail "apply wrote sub/.Git"
[ -f "$TMP/target/sub/.gIt.conf" ] || fail "apply left out .gIt.conf"

# The gate's protected_paths match in any letter case too, for the same
# reason, while allowed_paths keep their case.
expect_status 1 "$RUNBUNDLE" gate --json "$TMP/run.rb"
expect_eq '[".GIT/hooks/pre-commit","sub/.Git"]' \
	"$(jq -c '[.rules[] | select(.rule == "protected-path") |
		.items[]] | sort' "$TMP/out")" "the protected changes"
printf '%s\n' '{"version": 1, "allowed_paths": ["/F"]}' >"$TMP/rules.json"
expect_status 1 "$RUNBUNDLE" gate --json --rules "$TMP/rules.json" \
	"$TMP/run.rb"
expect_eq true "$(jq '[.rules[] | select(.rule == "write-outside") |
	.items[]] | index("f") != null' "$TMP/out")" \
	"f outside the allowed F"
exit 0
