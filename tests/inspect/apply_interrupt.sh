#!/bin/sh
# An apply that SIGTERM stops while it writes prints that the target is
# half-applied, and leaves no temporary file in it: a stray
# .NAME.runbundle-apply would be an untracked file that 'git add -A'
# commits. Each file is synced before its rename, so most of apply's
# time is spent with a temporary file open, and the signal lands there.
. "$TESTS_DIR/lib.sh"

ws=$TMP/ws
mkdir -p "$ws/many"
echo a >"$ws/a"
"$RUNBUNDLE" snapshot "$TMP/b.rb" "$ws" >/dev/null
cp -a "$ws" "$TMP/pristine"
i=0
while [ "$i" -lt 2000 ]; do
	echo "$i" >"$ws/many/f$i"
	i=$((i + 1))
done
"$RUNBUNDLE" snapshot --finalize "$TMP/b.rb" "$ws" >/dev/null

for try in 1 2 3; do
	rm -rf "$TMP/target"
	cp -a "$TMP/pristine" "$TMP/target"
	"$RUNBUNDLE" apply --to "$TMP/target" "$TMP/b.rb" \
		>/dev/null 2>"$TMP/err" &
	pid=$!
	wait_file "$TMP/target/many/f10" "apply wrote nothing" "$TMP/err"
	kill -TERM "$pid"
	wait_status "$pid"
	expect_eq 143 "$status" "status of apply stopped by SIGTERM ($try)"
	expect_eq "runbundle: apply stopped by a signal: '$TMP/target': the \
changes written before it stay applied" "$(head -n 1 "$TMP/err")" \
		"what apply stopped by SIGTERM says ($try)"
	expect_grep "^hint: run 'runbundle apply' again to apply the rest\$" \
		"$TMP/err"
	left=$(find "$TMP/target" -name '*.runbundle-*')
	expect_eq "" "$left" "temporary files left by apply ($try)"
done

# The interrupted apply resumes.
expect_status 0 "$RUNBUNDLE" apply --to "$TMP/target" "$TMP/b.rb"
diff -r "$ws" "$TMP/target" || fail "the rerun did not finish the apply"
exit 0
