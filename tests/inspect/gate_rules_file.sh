#!/bin/sh
# A rules file replaces the defaults it names: each rule can be made
# stricter or turned off, and a wrong key or value is rejected with the
# file name and the JSON path.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/inspect/gate_lib.sh"
command -v jq >/dev/null || skip "jq is missing"

d=$TMP/run
mkdir -p "$d/before/src" "$d/after/src" "$d/after/docs"
echo one >"$d/before/src/a.c"
echo two >"$d/after/src/a.c"
echo new >"$d/after/docs/notes.md"
echo x >"$d/after/Cargo.lock"
run_spec "$d" --exec /usr/bin/make make --network pypi.org:443 --no-end
run_finish "$d"
forge "$d/b.rb" "$d/spec"

# rules TEXT: write the rules file.
rules() {
	printf '%s\n' "$1" >"$TMP/rules.json"
}

# Defaults: the lockfile, the proxy and the missing end fail.
expect_status 1 "$RUNBUNDLE" gate "$d/b.rb"
expect_eq "protected-path network incomplete" \
	"$(awk '{print $1}' "$TMP/out" | tr '\n' ' ' | sed 's/ $//')" \
	"failed rules by default"

# Every one of them turned off, so the run passes.
rules '{"version": 1, "protected_paths": [], "allow_network": true,
	"require_complete": false}'
expect_status 0 "$RUNBUNDLE" gate --rules "$TMP/rules.json" "$d/b.rb"

# Stricter: a limit of 2 files, writes only below src/ (docs/notes.md
# and Cargo.lock are outside), and make is denied.
rules '{"version": 1, "protected_paths": [], "allow_network": true,
	"require_complete": false, "max_files_changed": 2,
	"allowed_paths": ["src/*"], "denied_commands": ["make", "/opt/*"]}'
expect_status 1 "$RUNBUNDLE" gate --rules "$TMP/rules.json" "$d/b.rb"
expect_eq "files-changed write-outside denied-command" \
	"$(awk '{print $1}' "$TMP/out" | tr '\n' ' ' | sed 's/ $//')" \
	"failed stricter rules"
expect_grep "^write-outside .*2 paths changed outside the allowed ones: \
'Cargo.lock', 'docs/notes.md'$" "$TMP/out"
"$RUNBUNDLE" gate --json --rules "$TMP/rules.json" "$d/b.rb" >"$TMP/json" &&
	fail "gate --json passed"
expect_eq '["Cargo.lock","docs/notes.md"]' "$(jq -c '.rules[] |
	select(.rule == "write-outside") | .items' "$TMP/json")" \
	"paths outside in JSON"
expect_grep "^files-changed .*3 files changed, more than the 2 allowed" \
	"$TMP/out"

# A path pattern with '/' is anchored at the workspace root and covers
# what is below a match.
rules '{"version": 1, "allow_network": true, "require_complete": false,
	"protected_paths": ["docs"]}'
expect_status 0 "$RUNBUNDLE" gate --rules "$TMP/rules.json" "$d/b.rb"
rules '{"version": 1, "allow_network": true, "require_complete": false,
	"protected_paths": ["/docs/*"]}'
expect_status 1 "$RUNBUNDLE" gate --rules "$TMP/rules.json" "$d/b.rb"
expect_grep "^protected-path .*'docs/notes.md'" "$TMP/out"

# A pattern that starts with **/ matches at any depth, the root
# included, and what is below its match.
rules '{"version": 1, "allow_network": true, "require_complete": false,
	"protected_paths": ["**/notes.md"]}'
expect_status 1 "$RUNBUNDLE" gate --rules "$TMP/rules.json" "$d/b.rb"
expect_grep "^protected-path .*'docs/notes.md'$" "$TMP/out"
rules '{"version": 1, "allow_network": true, "require_complete": false,
	"protected_paths": ["/**/src"]}'
expect_status 1 "$RUNBUNDLE" gate --rules "$TMP/rules.json" "$d/b.rb"
expect_grep "^protected-path .*'src/a.c'$" "$TMP/out"
rules '{"version": 1, "allow_network": true, "require_complete": false,
	"protected_paths": ["**/a.c/x"]}'
expect_status 0 "$RUNBUNDLE" gate --rules "$TMP/rules.json" "$d/b.rb"

# Wrong files: status 3, the file name, the JSON path and the reason.
bad_rules() {
	rules "$1"
	expect_status 3 "$RUNBUNDLE" gate --rules "$TMP/rules.json" "$d/b.rb"
	expect_grep "^runbundle: invalid rules: '$TMP/rules.json': $2" \
		"$TMP/err"
	expect_eq "" "$(cat "$TMP/out")" "output of rejected rules"
}
bad_rules '{"version": 1, "max_files": 3}' 'max_files: unknown key'
bad_rules '{"version": 1, "max_files_changed": -1}' \
	'max_files_changed: -1: expected a whole number'
bad_rules '{"version": 1, "max_files_changed": 9223372036854775807}' \
	'max_files_changed: .*: expected a whole number from 0 to 10^15, or null'
bad_rules '{"version": 1, "allowed_paths": ["src", 7]}' \
	'allowed_paths\[1\]: 7: expected a string'
bad_rules '{"version": 1, "allow_network": "yes"}' \
	'allow_network: "yes": expected true or false'
bad_rules '{"allow_network": true}' 'version: missing'
bad_rules '{"version": 2}' 'version: 2: expected 1'
bad_rules '{"version": 1,' 'invalid JSON near byte'

# A repeated key and text after the object are rejected, not read as
# the last value or ignored.
bad_rules '{"version": 1, "protected_paths": ["Cargo.lock"],
	"protected_paths": []}' 'protected_paths: the key is repeated'
expect_grep "^hint: keep one 'protected_paths' in the file" "$TMP/err"
bad_rules '{"version": 1} x' \
	'unexpected text after the JSON object at byte 15'

# A \u0000 in a string would cut the pattern short where C reads it.
bad_rules '{"version": 1, "denied_commands": ["bash\u0000zzz"]}' \
	'invalid JSON near byte 40: a NUL character'

# A path pattern that could never match is rejected with the fix.
bad_rules '{"version": 1, "protected_paths": ["./Cargo.lock"]}' \
	"protected_paths\[0\]: \"./Cargo.lock\": a '.' component never \
matches\$"
expect_grep "^hint: .* write '/Cargo.lock' to match that path" "$TMP/err"
bad_rules '{"version": 1, "allowed_paths": ["src/"]}' \
	"allowed_paths\[0\]: \"src/\": a trailing '/' never matches\$"
expect_grep "^hint: .* write '/src' to match that path" "$TMP/err"
bad_rules '{"version": 1, "allowed_paths": ["src//a.c"]}' \
	"allowed_paths\[0\]: \"src//a.c\": an empty component"
bad_rules '{"version": 1, "allowed_paths": ["src/../docs/*"]}' \
	"allowed_paths\[0\]: \"src/../docs/\*\": a '..' component never \
matches\$"
# A command pattern is matched against what the run executed, which
# may be a relative path.
rules '{"version": 1, "protected_paths": [], "allow_network": true,
	"require_complete": false, "denied_commands": ["./make"]}'
expect_status 0 "$RUNBUNDLE" gate --rules "$TMP/rules.json" "$d/b.rb"
expect_status 3 "$RUNBUNDLE" gate --rules "$TMP/missing.json" "$d/b.rb"
expect_grep "^runbundle: cannot read rules: '$TMP/missing.json': " \
	"$TMP/err"

# A bundle given for the rules file, the operands swapped, is named as
# one, with the fix; another SQLite file is not called a bundle.
expect_status 3 "$RUNBUNDLE" gate --rules "$d/b.rb" "$d/b.rb"
expect_grep "^runbundle: invalid rules: '$d/b.rb': it is a bundle, not a \
rules file$" "$TMP/err"
expect_grep "^hint: name the rules file after --rules and the bundle last: \
runbundle gate --rules RULES.json $d/b.rb$" "$TMP/err"
if command -v sqlite3 >/dev/null; then
	sqlite3 "$TMP/other.db" 'CREATE TABLE t (x)'
	expect_status 3 "$RUNBUNDLE" gate --rules "$TMP/other.db" "$d/b.rb"
	expect_grep "^runbundle: invalid rules: '$TMP/other.db': it is a \
SQLite database, not a rules file$" "$TMP/err"
fi

# The example of docs/gate.md, its first JSON block, is a valid rules
# file.
awk '/^```$/ && on { exit } on { print } /^```json$/ { on = 1 }' \
	"$SOURCE_DIR/docs/gate.md" >"$TMP/example.json"
[ -s "$TMP/example.json" ] || fail "docs/gate.md has no JSON example"
expect_status 1 "$RUNBUNDLE" gate --rules "$TMP/example.json" "$d/b.rb"
exit 0
