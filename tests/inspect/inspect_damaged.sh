#!/bin/sh
# inspect on a bundle with a damaged object that the summary reads (a
# workspace file, an exchange). It prints the summary with the rest of
# the run and marks the bundle damaged. Then it names the unreadable
# part on stderr and exits 1, with and without --json.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/inspect/gate_lib.sh"
command -v jq >/dev/null || skip "jq is missing"
command -v sqlite3 >/dev/null || skip "sqlite3 is missing"

# The events of exchange_run (gate_lib.sh): 1 record, 2 and 3 the
# initial snapshot, 4 exec, 5 exchange, 6 and 7 the final snapshot,
# 8 end.
exchange_run "$TMP/run" "$TMP/ok.rb"
expect_status 0 "$RUNBUNDLE" inspect "$TMP/ok.rb"
expect_grep '^files  *2 changed' "$TMP/out"

# A workspace file's object altered: the diff of the files cannot be
# read, and everything else is summarized.
cp "$TMP/ok.rb" "$TMP/blob.rb"
expect_eq 3 "$(sqlite3 "$TMP/blob.rb" "UPDATE objects SET data = x'00' ||
	data WHERE kind = 'blob'; SELECT changes()")" "blobs altered"
expect_status 1 "$RUNBUNDLE" inspect "$TMP/blob.rb"
expect_grep '^verify  *damaged: [0-9]* problems' "$TMP/out"
expect_grep '^files  *unreadable: cannot read object: ' "$TMP/out"
expect_grep '^model calls 1, 5 input and 7 output tokens$' "$TMP/out"
expect_grep '^exit  *0$' "$TMP/out"
expect_grep "^runbundle: cannot read part of the bundle: '$TMP/blob.rb': \
files: cannot read object: " "$TMP/err"
expect_grep "^hint: runbundle verify $TMP/blob.rb\$" "$TMP/err"
expect_status 1 "$RUNBUNDLE" inspect --json "$TMP/blob.rb"
expect_eq true "$(jq .verify.damaged "$TMP/out")" "verify.damaged"
expect_eq null "$(jq .files.changed "$TMP/out")" "files.changed"
jq -e '.files.error | test("^cannot read object: ")' "$TMP/out" \
	>/dev/null || fail "inspect --json has no files.error"
jq -e '.errors[0] | test("^files: cannot read object: ")' "$TMP/out" \
	>/dev/null || fail "inspect --json lists no error"
expect_eq 1 "$(jq .model.calls "$TMP/out")" "model.calls"
expect_grep "^runbundle: cannot read part of the bundle: " "$TMP/err"

# The exchange's object altered: that exchange is left out of the
# model's numbers and counted as unreadable.
cp "$TMP/ok.rb" "$TMP/exchange.rb"
ex=$(sqlite3 "$TMP/exchange.rb" "SELECT json_extract(event, '\$.refs[0]')
	FROM events WHERE seq = 5")
expect_eq 1 "$(sqlite3 "$TMP/exchange.rb" "UPDATE objects SET data =
	CAST(x'00' || data AS BLOB) WHERE id = x'$ex'; SELECT changes()")" \
	"exchanges altered"
expect_status 1 "$RUNBUNDLE" inspect "$TMP/exchange.rb"
expect_grep '^verify  *damaged: 1 problem,' "$TMP/out"
expect_grep "^model calls 0, 0 input and 0 output tokens, 1 exchange \
unreadable\$" "$TMP/out"
expect_grep '^files  *2 changed' "$TMP/out"
expect_grep "^runbundle: cannot read part of the bundle: \
'$TMP/exchange.rb': event 5: cannot read object: '$ex': " "$TMP/err"
expect_status 1 "$RUNBUNDLE" inspect --json "$TMP/exchange.rb"
expect_eq '0 1 2' "$(jq -r '[.model.calls, .model.unreadable,
	.files.changed] | join(" ")' "$TMP/out")" \
	"calls, unreadable and files changed"
expect_status 0 "$RUNBUNDLE" inspect --json "$TMP/ok.rb"
expect_eq '[]' "$(jq -c .errors "$TMP/out")" "errors of an intact bundle"

# The fingerprint's or the sandbox description's object altered: the
# machine or the sandbox is unreadable, not shown as unknown or none.
mkdir "$TMP/ws"
(cd "$TMP/ws" && "$RUNBUNDLE" record -o "$TMP/rec.rb" -- true) \
	>/dev/null 2>&1 || fail "record of the fingerprint check failed"
for kind in fingerprint sandbox; do
	cp "$TMP/rec.rb" "$TMP/$kind.rb"
	id=$(sqlite3 "$TMP/$kind.rb" "SELECT json_extract(event,
		'\$.refs[0]') FROM events WHERE json_extract(event,
		'\$.kind') = '$kind' ORDER BY seq LIMIT 1")
	expect_eq 1 "$(sqlite3 "$TMP/$kind.rb" "UPDATE objects SET data =
		CAST(x'00' || data AS BLOB) WHERE id = x'$id';
		SELECT changes()")" "$kind altered"
	expect_status 1 "$RUNBUNDLE" inspect --json "$TMP/$kind.rb"
	jq -e ".$kind.error | test(\"^cannot read object: '$id'\")" \
		"$TMP/out" >/dev/null || fail "inspect --json has no $kind.error"
	expect_grep "^runbundle: cannot read part of the bundle: \
'$TMP/$kind.rb': $kind: cannot read object: '$id': " "$TMP/err"
done
expect_status 1 "$RUNBUNDLE" inspect "$TMP/fingerprint.rb"
expect_grep "^machine  *unreadable: cannot read object: " "$TMP/out"
expect_status 1 "$RUNBUNDLE" inspect "$TMP/sandbox.rb"
expect_grep "^sandbox  *unreadable: cannot read object: " "$TMP/out"
expect_status 0 "$RUNBUNDLE" inspect --json "$TMP/rec.rb"
expect_eq 'null null' "$(jq -r '"\(.fingerprint.error) \(.sandbox.error)"' \
	"$TMP/out")" "the errors of an intact recording"

# An exchange event whose object is no exchange: verify finds no
# damage, but inspect cannot read that exchange, so it exits 1 as log
# does.
f=$TMP/forged
mkdir -p "$f/before" "$f/after"
echo a >"$f/before/a"
echo b >"$f/after/a"
run_spec "$f"
echo '{"kind": "exchange", "data": {"seq": 1}, "object": {"bogus": 1}}' \
	>>"$f/spec"
run_finish "$f"
forge "$TMP/forged.rb" "$f/spec"
expect_status 0 "$RUNBUNDLE" verify "$TMP/forged.rb"
expect_status 1 "$RUNBUNDLE" inspect "$TMP/forged.rb"
expect_grep '^verify  *intact$' "$TMP/out"
expect_grep ', 1 exchange unreadable$' "$TMP/out"
expect_grep "^runbundle: cannot read part of the bundle: \
'$TMP/forged.rb': event [0-9]*: " "$TMP/err"
exit 0
