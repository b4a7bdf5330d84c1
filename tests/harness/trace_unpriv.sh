#!/bin/sh
# runbundle trace as an unprivileged user: ptrace of one's own children
# and the exec filter (with no_new_privs) work without any capability.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/harness/trace_lib.sh"

unpriv_setup
cp "$TRACE_HELPER" "$TMP/bin/trace_helper"
chmod 755 "$TMP/bin/trace_helper"
H=$TMP/bin/trace_helper
chmod 777 "$TMP"

# run_user OUT COMMAND...: trace as the test user.
run_user() {
	out=$1
	shift
	set +e
	as_user "$UNPRIV_RUNBUNDLE" trace --json -o "$out" -- "$@" \
		>"$TMP/cmd.out" 2>"$TMP/cmd.err"
	status=$?
	set -e
	[ -s "$out" ] || {
		cat "$TMP/cmd.err" >&2
		fail "trace $* as $TEST_USER: no tree (exit status $status)"
	}
}

run_user "$TMP/pipe.json" sh -c 'echo a | tr a b | cat >/dev/null; exit 4'
expect_eq 4 "$status" "pipeline exit status"
want_shape='{"c":[{"c":[],"x":[]},{"c":[],"x":["cat"]},'
want_shape=$want_shape'{"c":[],"x":["tr"]}],"x":["sh"]}'
expect_shape "$TMP/pipe.json" "$want_shape"
jq_eq "$TMP/pipe.json" '.execs[0].exe.sha256 | length' 64

run_user "$TMP/texec.json" "$H" thread-exec /bin/echo from-thread
expect_eq 0 "$status" "thread-exec exit status"
expect_shape "$TMP/texec.json" '{"c":[],"x":["trace_helper","echo"]}'

run_user "$TMP/daemon.json" "$H" daemon /bin/sleep 600
expect_eq 0 "$status" "daemon exit status"
jq_eq "$TMP/daemon.json" '.children[0].children[0].end' killed

run_user "$TMP/stop.json" "$H" stop-group
expect_eq 0 "$status" "stop-group exit status"

run_user "$TMP/spawn.json" "$H" spawn /bin/true
expect_shape "$TMP/spawn.json" \
	'{"c":[{"c":[],"x":["true"]}],"x":["trace_helper"]}'

# A process that is not dumpable hides its memory from this tracer, so
# an exec's path cannot be read at its seccomp stop. A failed exec then
# has no resolved path, and a successful one takes its path from the
# new program's AT_EXECFN.
run_user "$TMP/undumpable.json" "$H" undumpable /nonexistent/x /bin/echo hi
expect_eq 0 "$status" "undumpable exit status"
expect_grep '^hi$' "$TMP/cmd.out"
jq_eq "$TMP/undumpable.json" '.execs[1].error' ENOENT
jq_eq "$TMP/undumpable.json" '.execs[1].resolved' null
jq_eq "$TMP/undumpable.json" '.execs[2].path' /bin/echo
jq_eq "$TMP/undumpable.json" '.execs[2].resolved' /bin/echo
jq_eq "$TMP/undumpable.json" '.execs[2].argv | join(" ")' '/bin/echo hi'

# A traced process that enters new user and PID namespaces.
if as_user unshare --user --map-root-user --pid --fork true 2>/dev/null
then
	run_user "$TMP/ns.json" unshare --user --map-root-user --pid --fork \
		--mount-proc sh -c '/bin/echo $$'
	expect_eq 0 "$status" "unshare exit status"
	jq_eq "$TMP/ns.json" '.children[0].ns_pid' 1
	jq_eq "$TMP/ns.json" '.children[0].children[0].ns_pid' 2
fi

# A setuid program runs without its privileges under no_new_privs, and
# the tracer still records it.
if [ -u /usr/bin/passwd ]; then
	run_user "$TMP/suid.json" /usr/bin/passwd --help
	jq_eq "$TMP/suid.json" '.execs[0].error' null
fi

# The library tests, attach into new namespaces included, as the user.
if [ -x "${BUILD_DIR:-}/tests/harness/test_tracer" ]; then
	cp "$BUILD_DIR/tests/harness/test_tracer" "$TMP/bin/test_tracer"
	chmod 755 "$TMP/bin/test_tracer"
	(cd "$TMP" && as_user "$TMP/bin/test_tracer") >"$TMP/unit.out" 2>&1 || {
		cat "$TMP/unit.out" >&2
		fail "test_tracer failed as $TEST_USER"
	}
	expect_grep 'PASSED.*7 test' "$TMP/unit.out"
fi
