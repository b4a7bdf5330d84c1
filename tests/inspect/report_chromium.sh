#!/bin/sh
# The report of a hostile bundle in headless Chromium: the page renders
# without a console message, shows as many steps as the bundle has,
# turns none of the bundle's markup into elements, and its screenshot is
# kept in the build directory's meson-logs.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/inspect/gate_lib.sh"
command -v chromium >/dev/null || skip "chromium is not installed"
command -v jq >/dev/null || skip "jq is missing"

hostile_bundle "$TMP/h"
"$RUNBUNDLE" report -o "$TMP/r.html" "$TMP/h/b.rb" 2>"$TMP/err" ||
	fail "report failed: $(cat "$TMP/err")"

# chromium ARG...: the browser without anything that reaches a network,
# on a profile of its own. Its logs go to $TMP/chromium.log.
chromium_run() {
	timeout 120 chromium --headless --no-sandbox --disable-gpu \
		--disable-quic --no-first-run --disable-background-networking \
		--disable-component-update --disable-sync \
		--user-data-dir="$(mktemp -d "$TMP/profile.XXXXXX")" \
		--enable-logging=stderr --v=0 "$@" 2>>"$TMP/chromium.log"
}

chromium_run --dump-dom "file://$TMP/r.html" >"$TMP/dom.html" ||
	fail "chromium failed: $(tail -5 "$TMP/chromium.log")"
if grep 'CONSOLE' "$TMP/chromium.log" >"$TMP/console"; then
	cat "$TMP/console" >&2
	fail "the page logged to the console"
fi

# The script ran to its end and rendered every step.
steps=$(jq '[.steps[]] | length' <<-EOF2 2>/dev/null || echo 3
EOF2
)
steps=$(sqlite3 "file:$TMP/h/b.rb?mode=ro" \
	"SELECT count(*) FROM events WHERE kind = 'workspace'" 2>/dev/null ||
	true)
[ -n "$steps" ] || steps=$(grep -c '"kind": "workspace"\|"snapshot":' \
	"$TMP/h/spec")
expect_eq 3 "$steps" "steps in the bundle"
expect_grep "data-rendered=\"$steps\"" "$TMP/dom.html"
expect_eq "$steps" "$(grep -o '<section class="step[ "]' "$TMP/dom.html" |
	wc -l)" "steps shown"

# Markup from the bundle is text in the DOM, not elements.
grep -q '<img' "$TMP/dom.html" && fail "an img element from the bundle"
grep -q '<b>' "$TMP/dom.html" && fail "a b element from the bundle"
expect_grep '&lt;img src=x onerror=alert(3)&gt;' "$TMP/dom.html"
expect_grep 'tool call: &lt;b&gt;bold&lt;/b&gt;' "$TMP/dom.html"
expect_grep 'class="violation"' "$TMP/dom.html"

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
