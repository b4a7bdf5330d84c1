#!/bin/sh
# A checkout that SIGTERM or SIGINT stops prints that it left an
# incomplete tree and how to start again, as a failed write does. Else
# the half-written directory passes for the whole snapshot. A preloaded
# library raises the signal once checkout has written 300 kB.
. "$TESTS_DIR/lib.sh"
preload=$1

# The sanitizers must come first among the preloaded libraries.
skip_if_sanitized "$RUNBUNDLE" \
	"the sanitizers do not run beside another preloaded library"

mkdir "$TMP/ws"
random_files "$TMP/ws" f 10 100000
"$RUNBUNDLE" snapshot --finalize "$TMP/b.rb" "$TMP/ws" >/dev/null

for sig in 15 2; do
	rm -rf "$TMP/tree"
	set +e
	LD_PRELOAD=$preload RB_KILL_AFTER=300000 RB_KILL_SIGNAL=$sig \
		"$RUNBUNDLE" checkout "$TMP/b.rb" latest "$TMP/tree" \
		>/dev/null 2>"$TMP/err"
	status=$?
	set -e
	expect_eq $((128 + sig)) "$status" "status of checkout (signal $sig)"
	expect_eq "runbundle: the tree is incomplete: '$TMP/tree': a signal \
stopped the checkout" "$(head -n 1 "$TMP/err")" "the note (signal $sig)"
	expect_grep "^hint: remove '$TMP/tree' before you run the command \
again\$" "$TMP/err"
done

# A finished checkout prints nothing.
rm -rf "$TMP/tree"
expect_status 0 "$RUNBUNDLE" checkout "$TMP/b.rb" latest "$TMP/tree"
expect_eq "" "$(cat "$TMP/err")" "stderr of a finished checkout"
exit 0
