#!/bin/sh
# export_live.sh - export-bundle of a bundle that a writer appends to
# writes the events of one state of the bundle, and a manifest that
# counts them, however many events the writer commits meanwhile.
. "$TESTS_DIR/lib.sh"
WRITER=$1
PRELOAD=$2
# The sanitizers must come first among the preloaded libraries.
skip_if_sanitized "$WRITER" \
	"the sanitizers do not run beside another preloaded library"

"$WRITER" loop "$TMP/b.rb" 7 >"$TMP/seqs" &
writer=$!
trap 'kill $writer 2>/dev/null || true; cleanup' EXIT

# wait_seqs N: wait until the writer has committed N events.
wait_seqs() {
	i=0
	until [ "$(wc -l <"$TMP/seqs")" -ge "$1" ]; do
		i=$((i + 1))
		[ $i -le 1000 ] || fail "the writer committed no event $1"
		sleep 0.01
	done
}

wait_seqs 3
LD_PRELOAD=$PRELOAD "$RUNBUNDLE" export-bundle -o "$TMP/b.tar.zst" \
	"$TMP/b.rb" >"$TMP/out" 2>"$TMP/err" &
exporter=$!
wait_stopped "$exporter" "export-bundle never reached its scan"
# The writer goes on while the exporter waits before its scan.
wait_seqs $(($(wc -l <"$TMP/seqs") + 3))
kill -CONT "$exporter"
wait_status "$exporter"
[ "$status" = 0 ] || cat "$TMP/err" >&2
expect_eq 0 "$status" "export-bundle's status"
kill "$writer"
wait "$writer" || true

mkdir "$TMP/x"
tar -xf "$TMP/b.tar.zst" -C "$TMP/x"
expect_eq "$(wc -l <"$TMP/x/events.jsonl")" \
	"$(jq .events "$TMP/x/manifest.json")" "the events the manifest counts"
"$RUNBUNDLE" import -o "$TMP/imported.rb" "$TMP/b.tar.zst" >"$TMP/out" \
	2>"$TMP/err" || {
	cat "$TMP/err" >&2
	fail "import of the export"
}
exit 0
