#!/bin/sh
# The HTML report of the Agents SDK example's bundle in headless
# Chromium: it renders every step without a console message and shows
# the tool calls the scripted model made.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/e2e/e2e_lib.sh"
command -v chromium >/dev/null || skip "chromium is not installed"
command -v sqlite3 >/dev/null || skip "sqlite3 is missing"
# chromium_run comes from the report tests' helpers, which take the
# forge binary as $1; it is not needed here.
set -- unused
. "$TESTS_DIR/inspect/gate_lib.sh"

sdk_record "$TMP/r"
"$RUNBUNDLE" report -o "$TMP/r.html" "$TMP/r/run.rb" 2>"$TMP/err" ||
	fail "report failed: $(cat "$TMP/err")"

chromium_run --dump-dom "file://$TMP/r.html" >"$TMP/dom.html" ||
	fail "chromium failed: $(tail -5 "$TMP/chromium.log")"
if grep 'CONSOLE' "$TMP/chromium.log" >"$TMP/console"; then
	cat "$TMP/console" >&2
	fail "the page logged to the console"
fi

steps=$(sqlite3 "file:$TMP/r/run.rb?mode=ro" \
	"SELECT count(*) FROM events WHERE json_extract(event, '$.kind') =
	'workspace'") || fail "cannot count the steps of the bundle"
expect_eq 7 "$steps" "steps in the bundle"
expect_grep "data-rendered=\"$steps\"" "$TMP/dom.html"
expect_eq "$steps" "$(grep -o '<section class="step[ "]' "$TMP/dom.html" |
	wc -l)" "steps shown"
expect_grep 'edit_file' "$TMP/dom.html"
expect_grep 'run_command' "$TMP/dom.html"
exit 0
