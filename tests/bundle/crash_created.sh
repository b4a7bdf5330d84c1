#!/bin/sh
# A writer killed just after its new bundle gets its name, before SQLite
# opens it there, leaves a bundle without events that verify accepts as
# incomplete, not one that looks like a copy without its -wal. A
# preloaded library kills the writer right after link().
. "$TESTS_DIR/lib.sh"
WRITER=$1
PRELOAD=$2

# The sanitizers must come first among the preloaded libraries.
skip_if_sanitized "$WRITER" \
	"the sanitizers do not run beside another preloaded library"

echo content >"$TMP/file"
bundle=$TMP/killed.rb
LD_PRELOAD=$PRELOAD "$WRITER" put "$bundle" "$TMP/file" \
	>/dev/null 2>"$TMP/writer.err" && fail "the writer was not killed"
[ -e "$bundle" ] || fail "the library killed the writer before link()"

expect_status 0 "$RUNBUNDLE" verify --allow-incomplete --json "$bundle"
expect_eq false "$(jq -r .finalized "$TMP/out")" "finalized"
expect_eq 0 "$(jq .events "$TMP/out")" "events"
expect_eq false "$(jq -r .wal_missing "$TMP/out")" "wal_missing"
expect_status 1 "$RUNBUNDLE" verify "$bundle"
expect_grep '^incomplete: ' "$TMP/out"

# The bundle can be written and finalized afterwards.
"$WRITER" put "$bundle" "$TMP/file" >/dev/null
"$WRITER" finalize "$bundle" >/dev/null
expect_status 0 "$RUNBUNDLE" verify "$bundle"
exit 0
