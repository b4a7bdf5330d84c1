#!/bin/sh
# The report separates PATH lookups from failed execs as inspect does: the
# lookups of a search are routine and left out of the step's count of
# commands, and the last attempt of a search that found nothing is a
# failure.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/inspect/gate_lib.sh"
. "$TESTS_DIR/inspect/report_lib.sh"
command -v jq >/dev/null || skip "jq is missing"

# Process 0 searches PATH for nosuch in two directories and finds none.
d=$TMP/run
mkdir -p "$d/before" "$d/after"
run_spec "$d"
for dir in /usr/local/bin /usr/bin; do
	jq -cn --arg p "$dir/nosuch" '{kind: "exec", data: {index: 0,
		pid: 10, path: $p, error: "ENOENT", argv: ["nosuch"],
		time_us: 1}}' >>"$d/spec"
done
run_finish "$d"
forge "$d/b.rb" "$d/spec"

expect_status 0 "$RUNBUNDLE" inspect --json "$d/b.rb"
expect_eq '1 1' "$(jq -r '"\(.processes.failed_execs) " +
	"\(.processes.path_lookups)"' "$TMP/out")" "failed execs and lookups"

expect_status 0 "$RUNBUNDLE" report -o "$TMP/r.html" "$d/b.rb"
sed -n 's/^<script type="application\/json" id="data">\(.*\)<\/script>$/\1/p' \
	"$TMP/r.html" >"$TMP/data.json"
expect_eq '[true,false]' "$(jq -c '[.steps[].commands[].path_lookup]' \
	"$TMP/data.json")" "the PATH lookups in the report"

if command -v chromium >/dev/null; then
	chromium_run --dump-dom "file://$TMP/r.html" >"$TMP/dom.html" ||
		fail "chromium failed: $(tail -5 "$TMP/chromium.log")"
	expect_grep '<h3>Commands (1, 1 PATH lookups)</h3>' "$TMP/dom.html"
	expect_grep 'class="empty">not found: /usr/local/bin/nosuch<' \
		"$TMP/dom.html"
	expect_grep 'class="fail">not found: /usr/bin/nosuch<' \
		"$TMP/dom.html"
fi
exit 0
