#!/bin/sh
# The report of a hostile bundle: markup and quotes from file names,
# commands and model text never reach the HTML as markup. The page has
# exactly its two script elements, the data is JSON with '<' escaped,
# and nothing in it loads from the network.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/inspect/gate_lib.sh"
command -v jq >/dev/null || skip "jq is missing"

hostile_bundle "$TMP/h"
expect_status 0 "$RUNBUNDLE" report -o "$TMP/r.html" "$TMP/h/b.rb"
expect_grep '^report: ' "$TMP/err"
r=$TMP/r.html

expect_eq 2 "$(grep -o '<script' "$r" | wc -l)" "script elements"
expect_eq 2 "$(grep -o '</script' "$r" | wc -l)" "script end tags"
grep -q '<img' "$r" && fail "markup from the bundle is in the page"
grep -q '<b>' "$r" && fail "markup from the bundle is in the page"
grep -q '<!--' "$r" && fail "a comment opener from the bundle"
grep -q "$(printf '\342\200\250')" "$r" && fail "a raw U+2028"
expect_grep '\\u003cscript\\u003ealert(1)' "$r"
expect_grep "Content-Security-Policy\" content=\"default-src 'none'" "$r"
grep -Eq '(src|href)="|https?://' "$r" && fail "the page references a URL"

# The embedded data is valid JSON with every step and the strings intact.
sed -n 's/^<script type="application\/json" id="data">\(.*\)<\/script>$/\1/p' \
	"$r" >"$TMP/data.json"
expect_eq 3 "$(jq '.steps | length' "$TMP/data.json")" "steps in the data"
expect_eq '<b>bold</b>' \
	"$(jq -r '.steps[1].exchanges[0].answer.tool_calls[0].name' \
	"$TMP/data.json")" "the tool call's name"
expect_eq 'exit_code 3' "$(jq -r '.steps[1].commands[0] |
	"exit_code \(.exit_code)"' "$TMP/data.json")" "the command's exit"
jq -r '.steps[1].changes[].path' "$TMP/data.json" | grep -q 'a"b'"'"'c.txt' ||
	fail "the quoted file name is missing"

# --json prints where the page went and the data it renders.
expect_status 0 "$RUNBUNDLE" report --json -o "$TMP/json.html" "$TMP/h/b.rb"
expect_eq "$TMP/json.html" "$(jq -r .output "$TMP/out")" "the output in JSON"
expect_eq "$(wc -c <"$TMP/json.html")" "$(jq -r .bytes "$TMP/out")" \
	"the page's size in JSON"
expect_eq '3 1' "$(jq -r '"\(.steps) \(.violations)"' "$TMP/out")" \
	"steps and violations in JSON"
expect_eq "$(jq -c . "$TMP/data.json")" "$(jq -c .data "$TMP/out")" \
	"the page's data in JSON"

# A step's diff is cut at 256 KiB, and a text at 64 KiB: a step that
# writes a 540 KB file gets the first 256 KiB of its diff, flagged.
big=$TMP/big
mkdir -p "$big/before" "$big/after"
echo a >"$big/before/a"
echo a >"$big/after/a"
head -c 400000 /dev/urandom | base64 >"$big/after/big.txt"
run_spec "$big"
run_finish "$big"
forge "$big/b.rb" "$big/spec"
expect_status 0 "$RUNBUNDLE" report --json -o "$TMP/big.html" "$big/b.rb"
expect_eq '262144 true' "$(jq -r '.data.steps[0] |
	"\(.diff | length) \(.diff_truncated)"' "$TMP/out")" \
	"the length of a cut diff and its flag"

# A damaged bundle gets an error, and no file.
echo junk >"$TMP/junk.rb"
expect_status 3 "$RUNBUNDLE" report -o "$TMP/j.html" "$TMP/junk.rb"
[ -e "$TMP/j.html" ] && fail "a report was written for a damaged bundle"
expect_status 2 "$RUNBUNDLE" report "$TMP/h/b.rb"
exit 0
