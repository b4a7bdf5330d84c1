#!/bin/sh
# The report of a hostile bundle in headless Chromium: the page renders
# without a console message, shows as many steps as the bundle has,
# turns none of the bundle's markup into elements, and its screenshot is
# kept in the build directory's meson-logs.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/inspect/gate_lib.sh"
. "$TESTS_DIR/inspect/report_lib.sh"
command -v chromium >/dev/null || skip "chromium is not installed"
command -v jq >/dev/null || skip "jq is missing"
command -v sqlite3 >/dev/null || skip "sqlite3 is missing"

hostile_bundle "$TMP/h"
report_render "$TMP/h/b.rb" "$TMP/r.html" 3

# Markup from the bundle is text in the DOM, not elements.
grep -q '<img' "$TMP/dom.html" && fail "an img element from the bundle"
grep -q '<b>' "$TMP/dom.html" && fail "a b element from the bundle"
expect_grep '&lt;img src=x onerror=alert(3)&gt;' "$TMP/dom.html"
expect_grep 'tool call: &lt;b&gt;bold&lt;/b&gt;' "$TMP/dom.html"
expect_grep 'class="violation"' "$TMP/dom.html"

# The search box, filled from the address: only step 1 ran the command.
chromium_run --dump-dom "file://$TMP/r.html#q=alert(4)" >"$TMP/search.html" ||
	fail "chromium failed: $(tail -5 "$TMP/chromium.log")"
expect_grep '1 of 3 steps match' "$TMP/search.html"
expect_eq 2 "$(grep -o '<section class="step[^"]*hidden' "$TMP/search.html" |
	wc -l)" "steps hidden by the search"
grep CONSOLE "$TMP/chromium.log" && fail "the search logged to the console"

# The screenshot, kept as an artifact of the test run.
logs=${BUILD_DIR:-$TMP}/meson-logs
mkdir -p "$logs"
chromium_run --window-size=1200,1800 --screenshot="$logs/report.png" \
	"file://$TMP/r.html" >/dev/null ||
	fail "chromium failed: $(tail -5 "$TMP/chromium.log")"
[ -s "$logs/report.png" ] || fail "no screenshot"
expect_eq PNG "$(dd if="$logs/report.png" bs=1 skip=1 count=3 2>/dev/null)" \
	"screenshot format"
exit 0
