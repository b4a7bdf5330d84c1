#!/bin/sh
# The HTML report of the Agents SDK example's bundle in headless
# Chromium: it renders every step without a console message and shows
# the tool calls the scripted model made.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/e2e/e2e_lib.sh"
command -v chromium >/dev/null || skip "chromium is not installed"
command -v sqlite3 >/dev/null || skip "sqlite3 is missing"
. "$TESTS_DIR/inspect/report_lib.sh"

sdk_record "$TMP/r"
report_render "$TMP/r/run.rb" "$TMP/r.html" 7
expect_grep 'edit_file' "$TMP/dom.html"
expect_grep 'run_command' "$TMP/dom.html"
exit 0
