#!/bin/sh
# show takes the event as a decimal number, and an error names the value
# as it was typed, even one too large for any integer type.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/inspect/gate_lib.sh"
command -v jq >/dev/null || skip "jq is missing"

# exchange_run (gate_lib.sh) writes 8 events.
exchange_run "$TMP/run" "$TMP/run.rb"

expect_status 3 "$RUNBUNDLE" show "$TMP/run.rb" 99999999999999999999
expect_grep "^runbundle: no such event: '99999999999999999999': the \
bundle has events 1 to 8$" "$TMP/err"
for bad in ' 5' '+5' '5x' ''; do
	expect_status 3 "$RUNBUNDLE" show "$TMP/run.rb" "$bad"
	expect_grep "^runbundle: no such event: '$bad': not a number$" \
		"$TMP/err"
done
expect_status 0 "$RUNBUNDLE" show "$TMP/run.rb" 5

# A whole number prints as its digits, in the text and the JSON form,
# even one that cJSON's %g would print in exponent form.
printf '%s\n' \
	'{"kind": "note", "data": {"time_us": 1796483738347950, "half": 2.5}}' \
	'{"finalize": true}' >"$TMP/spec"
"$1" "$TMP/n.rb" "$TMP/spec" || fail "forge failed"
for form in "" --json; do
	expect_status 0 "$RUNBUNDLE" show $form "$TMP/n.rb" 1
	expect_grep '"time_us": 1796483738347950,' "$TMP/out"
	expect_grep '"half": 2.5$' "$TMP/out"
done
