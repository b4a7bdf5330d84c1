#!/bin/sh
# A limit of open files too low for runbundle to start the agent: every
# failure names what it could not do and why, never an unknown error,
# and one for lack of file descriptors gives the hint to raise the limit.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/record/record_lib.sh"

ws=$TMP/ws
mkdir "$ws"
cd "$ws"

# Where the run runs out depends on what runbundle has open, so the
# limits cover each step from its pipes to the sandbox's start.
for n in $(seq 4 22); do
	set +e
	(ulimit -Sn "$n" && exec "$RB" record -o "$TMP/run$n.rb" -- true) \
		>"$TMP/out" 2>"$TMP/err" </dev/null
	status=$?
	set -e
	case $status in
	0 | 3 | 125) ;;
	*) cat "$TMP/err" >&2; fail "ulimit -n $n: exit status $status" ;;
	esac
	if grep -q "unknown error" "$TMP/err"; then
		cat "$TMP/err" >&2
		fail "ulimit -n $n: the error is not named"
	fi
	# Below 8 no run can start: the module or the bundle cannot open.
	if [ "$n" -lt 8 ] && ! grep -q "Too many open files" "$TMP/err"; then
		cat "$TMP/err" >&2
		fail "ulimit -n $n: the error does not name the limit"
	fi
	if grep -q "Too many open files" "$TMP/err" &&
		! grep -q '^hint: raise the limit of open files (ulimit -n)' \
			"$TMP/err"; then
		cat "$TMP/err" >&2
		fail "ulimit -n $n: no hint to raise the limit"
	fi
done
