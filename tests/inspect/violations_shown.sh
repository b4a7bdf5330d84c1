#!/bin/sh
# A refused write and refused connections, as the sandbox reports them,
# appear in inspect, log, show and the report, naming the path or the
# destination, red on a terminal and never with NO_COLOR.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/inspect/gate_lib.sh"
. "$TESTS_DIR/inspect/report_lib.sh"
command -v jq >/dev/null || skip "jq is missing"

d=$TMP/run
mkdir -p "$d/before" "$d/after"
echo one >"$d/before/a.txt"
echo two >"$d/after/a.txt"
run_spec "$d" --write /etc/passwd --connect inet 10.0.0.1 443 \
	--connect unix /run/docker.sock null
run_finish "$d"
forge "$d/b.rb" "$d/spec"
b=$d/b.rb
write="write to '/etc/passwd' denied (openat)"
inet="connect to 10.0.0.1:443 denied"
unix="connect to /run/docker.sock denied (unix socket)"

# inspect: the list in JSON, and one line each in the text.
expect_status 0 "$RUNBUNDLE" inspect --json "$b"
expect_eq 'write network network' "$(jq -r '[.violations[].source] |
	join(" ")' "$TMP/out")" "violation sources"
expect_eq "$write" "$(jq -r '.violations[0].what' "$TMP/out")" \
	"the write's text"
expect_eq "$inet" "$(jq -r '.violations[1].what' "$TMP/out")" \
	"the connection's text"
expect_status 0 "$RUNBUNDLE" inspect "$b"
expect_grep '^violations  3$' "$TMP/out"
expect_grep "^  write: $write$" "$TMP/out"
expect_grep "^  network: $unix$" "$TMP/out"

# log: one line per violation event.
expect_status 0 "$RUNBUNDLE" log "$b"
expect_grep "violation  *$write$" "$TMP/out"
expect_grep "violation  *$inet$" "$TMP/out"
expect_status 0 "$RUNBUNDLE" log --json "$b"
expect_eq 3 "$(jq '[.. | objects | select(.kind? == "violation")] |
	length' "$TMP/out")" "violation events in the JSON log"

# show: the summary line above the event's data.
"$RUNBUNDLE" inspect --json "$b" >"$TMP/summary.json"
seq=$(jq -r '.violations[0].event' "$TMP/summary.json")
expect_status 0 "$RUNBUNDLE" show "$b" "$seq"
expect_eq "violation: $write" "$(head -1 "$TMP/out")" "show's first line"
expect_grep '"path": "/etc/passwd"' "$TMP/out"

# Red on a terminal, in each command, and never with NO_COLOR.
expect_red_on_tty "  write: write to '/etc/passwd'" /etc/passwd \
	"'$RUNBUNDLE' inspect '$b'"
expect_red_on_tty ".*violation .*/etc/passwd" /etc/passwd \
	"'$RUNBUNDLE' log '$b'"
expect_red_on_tty "violation: write to '/etc/passwd'" /etc/passwd \
	"'$RUNBUNDLE' show '$b' $seq"

# The report: each violation in the list and in its step.
expect_status 0 "$RUNBUNDLE" report -o "$TMP/r.html" "$b"
sed -n 's/^<script type="application\/json" id="data">\(.*\)<\/script>$/\1/p' \
	"$TMP/r.html" >"$TMP/data.json"
expect_eq 3 "$(jq '.violations | length' "$TMP/data.json")" \
	"violations in the report"
expect_eq "$write" "$(jq -r '.violations[0].text' "$TMP/data.json")" \
	"the write in the report"
expect_eq "write network network" "$(jq -r '[.steps[].violations[].source] |
	join(" ")' "$TMP/data.json")" "violations in their step"
if command -v chromium >/dev/null; then
	chromium_run --dump-dom "file://$TMP/r.html" >"$TMP/dom.html" ||
		fail "chromium failed: $(tail -5 "$TMP/chromium.log")"
	expect_grep "class=\"violation\"[^>]*>[^<]*/etc/passwd" "$TMP/dom.html"
	expect_grep "class=\"violation\"[^>]*>[^<]*10.0.0.1:443" "$TMP/dom.html"
fi

# An IPv6 destination in brackets once, whether the proxy stored it
# with its brackets or a connect report without.
d=$TMP/v6
mkdir -p "$d/before" "$d/after"
run_spec "$d" --network '[fe80::1]:80' --connect inet6 ::1 8080
run_finish "$d"
forge "$d/b.rb" "$d/spec"
expect_status 0 "$RUNBUNDLE" inspect "$d/b.rb"
expect_grep '^  proxy: connection to \[fe80::1\]:80 refused: not allowed$' \
	"$TMP/out"
expect_grep '^  network: connect to \[::1\]:8080 denied$' "$TMP/out"

# A proxy request cut off before its target is shown as having none.
d=$TMP/none
mkdir -p "$d/before" "$d/after"
run_spec "$d" --network ':0'
run_finish "$d"
forge "$d/b.rb" "$d/spec"
expect_status 0 "$RUNBUNDLE" inspect "$d/b.rb"
expect_grep '^  proxy: connection to (no target) refused: not allowed$' \
	"$TMP/out"
exit 0
