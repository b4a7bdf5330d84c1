#!/bin/sh
# Under runbundle record, a child made with CLONE_UNTRACED would run
# outside the recorded process tree, so the recording's seccomp filter
# rejects the flag and stores a violation. runbundle sandbox has no
# tracer to escape and allows it.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/sandbox/escape_lib.sh"

for who in $IDENTITIES; do
	ws=$(workspace "$who")
	# The bundle goes beside the workspace, in a directory that WHO
	# owns.
	out=$TMP/out-$who
	mkdir -p "$out"
	[ "$who" = root ] || [ "$(id -u)" -ne 0 ] || chown "$TEST_USER" "$out"
	set +e
	if [ "$who" = user ]; then
		(cd "$ws" && as_user "$UNPRIV_RUNBUNDLE" record \
			-o "$out/untraced.rb" -- ./attack untraced) \
			>"$TMP/out" 2>"$TMP/err" </dev/null
	else
		(cd "$ws" && "$RUNBUNDLE" record -o "$out/untraced.rb" \
			-- ./attack untraced) \
			>"$TMP/out" 2>"$TMP/err" </dev/null
	fi
	status=$?
	set -e
	[ "$status" = 0 ] || {
		cat "$TMP/err" >&2
		fail "$who: record exited $status"
	}
	expect_grep \
		'^blocked: clone(CLONE_UNTRACED): Operation not permitted$' \
		"$TMP/out"
	expect_grep ' 1 policy violation$' "$TMP/err"

	expect_status 1 sandbox "$who" -- ./attack untraced
	expect_grep '^ESCAPED: an untraced child ran$' "$TMP/out"
done
exit 0
