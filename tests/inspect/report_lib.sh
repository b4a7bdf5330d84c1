# report_lib.sh - helpers for the tests that open a report in headless
# Chromium, sourced after lib.sh. They need neither forge nor jq.

# chromium_run ARG...: the browser without anything that reaches a
# network, on a profile of its own. Its logs go to $TMP/chromium.log.
chromium_run() {
	timeout 120 chromium --headless --no-sandbox --disable-gpu \
		--disable-quic --no-first-run --disable-background-networking \
		--disable-component-update --disable-sync \
		--user-data-dir="$(mktemp -d "$TMP/profile.XXXXXX")" \
		--enable-logging=stderr --v=0 "$@" 2>>"$TMP/chromium.log"
}

# report_render BUNDLE HTML STEPS: write the report of BUNDLE to HTML,
# open it in Chromium and keep its DOM in $TMP/dom.html. Fails when the
# page logs to the console, when BUNDLE has not STEPS steps (workspace
# events), or when the page did not render that many.
report_render() {
	"$RUNBUNDLE" report -o "$2" "$1" 2>"$TMP/err" ||
		fail "report failed: $(cat "$TMP/err")"
	chromium_run --dump-dom "file://$2" >"$TMP/dom.html" ||
		fail "chromium failed: $(tail -5 "$TMP/chromium.log")"
	if grep 'CONSOLE' "$TMP/chromium.log" >"$TMP/console"; then
		cat "$TMP/console" >&2
		fail "the page logged to the console"
	fi

	# The script ran to its end and rendered every step.
	steps=$(sqlite3 "file:$1?mode=ro" \
		"SELECT count(*) FROM events
		WHERE json_extract(event, '$.kind') = 'workspace'") ||
		fail "cannot count the steps of the bundle"
	expect_eq "$3" "$steps" "steps in the bundle"
	expect_grep "data-rendered=\"$steps\"" "$TMP/dom.html"
	expect_eq "$steps" "$(grep -o '<section class="step[ "]' \
		"$TMP/dom.html" | wc -l)" "steps shown"
}
