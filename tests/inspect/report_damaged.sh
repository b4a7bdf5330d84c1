#!/bin/sh
# Damaged bundles: an exchange event that references something else, a
# stored object whose bytes were altered, and a bundle cut short. gate,
# apply and report give clear errors or show the damage, never crash.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/inspect/gate_lib.sh"
command -v jq >/dev/null || skip "jq is missing"
command -v sqlite3 >/dev/null || skip "sqlite3 is missing"

# An exchange event whose object is not an exchange: the report shows
# the error in that exchange's place and everything else.
d=$TMP/bad
mkdir -p "$d/before" "$d/after"
echo a >"$d/before/a"
echo b >"$d/after/a"
run_spec "$d"
echo '{"kind": "exchange", "data": {"seq": 1}, "object": {"bogus": 1}}' \
	>>"$d/spec"
run_finish "$d"
forge "$d/b.rb" "$d/spec"
expect_status 0 "$RUNBUNDLE" report -o "$TMP/r.html" "$d/b.rb"
sed -n 's/^<script type="application\/json" id="data">\(.*\)<\/script>$/\1/p' \
	"$TMP/r.html" >"$TMP/data.json"
jq -e '.steps[0].exchanges[0].error | test("exchange")' "$TMP/data.json" \
	>/dev/null || fail "the broken exchange shows no error"
expect_eq 2 "$(jq '.steps | length' "$TMP/data.json")" "steps"
expect_status 0 "$RUNBUNDLE" gate "$d/b.rb"
expect_eq false "$(jq '.verify.damaged' "$TMP/data.json")" \
	"the verify result of an intact bundle"

# An object altered on disk: the file's content no longer hashes to its
# id. gate never approves it; apply and report fail with a message or
# show the damage.
cp "$d/b.rb" "$TMP/altered.rb"
sqlite3 "$TMP/altered.rb" "UPDATE objects SET data = x'00' || data
	WHERE kind = 'blob'" || fail "cannot alter the bundle"
expect_status 1 "$RUNBUNDLE" gate "$TMP/altered.rb"
expect_grep '^damaged  *verification found [0-9]* problem' "$TMP/out"
mkdir "$TMP/target"
echo a >"$TMP/target/a"
expect_status 3 "$RUNBUNDLE" apply --to "$TMP/target" "$TMP/altered.rb"
expect_grep '^runbundle: ' "$TMP/err"
expect_eq a "$(cat "$TMP/target/a")" "the target after a failed apply"
expect_status 1 "$RUNBUNDLE" report -o "$TMP/altered.html" "$TMP/altered.rb"
expect_grep "^runbundle: the bundle is damaged: '$TMP/altered.rb': \
[0-9]* problem" "$TMP/err"
sed -n 's/^<script type="application\/json" id="data">\(.*\)<\/script>$/\1/p' \
	"$TMP/altered.html" >"$TMP/altered.json"
expect_eq true "$(jq '.verify.damaged' "$TMP/altered.json")" \
	"the report's verify result"
[ "$(jq '.verify.problems | length' "$TMP/altered.json")" -gt 0 ] ||
	fail "the report lists no problem"
# inspect verifies too: a bundle whose events read well but whose root
# digest is wrong gets its summary, marked damaged, and exit status 1.
ok=$TMP/ok
mkdir -p "$ok/before" "$ok/after"
echo a >"$ok/before/a"
echo b >"$ok/after/a"
run_spec "$ok"
run_finish "$ok"
forge "$ok/ok.rb" "$ok/spec"
expect_status 0 "$RUNBUNDLE" inspect "$ok/ok.rb"
expect_grep '^verify  *intact$' "$TMP/out"
cp "$ok/ok.rb" "$TMP/rooted.rb"
sqlite3 "$TMP/rooted.rb" "UPDATE meta SET value = '$(printf '%064d' 0)'
	WHERE key = 'root'" || fail "cannot alter the root"
expect_status 1 "$RUNBUNDLE" inspect "$TMP/rooted.rb"
expect_grep '^verify  *damaged: [0-9]* problem' "$TMP/out"
expect_status 1 "$RUNBUNDLE" inspect --json "$TMP/rooted.rb"
expect_eq true "$(jq .verify.damaged "$TMP/out")" "inspect --json's verify"

# A bundle cut in half: not a bundle any more, and each command names
# the truncation as verify does.
size=$(stat -c %s "$d/b.rb")
head -c $((size / 2)) "$d/b.rb" >"$TMP/cut.rb"
for cmd in "gate" "apply --to $TMP/target" "report -o $TMP/cut.html" \
	"inspect"; do
	# shellcheck disable=SC2086
	expect_status 3 "$RUNBUNDLE" $cmd "$TMP/cut.rb"
	expect_grep "^runbundle: cannot open bundle: '$TMP/cut.rb': the file \
is truncated: " "$TMP/err"
	expect_grep "^hint: the copy ends early" "$TMP/err"
done
exit 0
