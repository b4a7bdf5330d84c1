#!/bin/sh
# runbundle record as an unprivileged user: the sandbox, the tracer and
# the gateway need no privilege. Run as root, the test switches to the
# test user; run as that user, it runs as itself.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/record/record_lib.sh"

unpriv_setup
RB=$UNPRIV_RUNBUNDLE
ws=$TMP/ws
mkdir "$ws"
cp "$SOURCE_DIR/examples/shell-agent/agent.sh" "$ws/"
printf 'keep\n' >"$ws/kept.txt"
if [ "$(id -u)" -eq 0 ]; then
	chown -R "$TEST_USER:" "$ws"
	chmod 777 "$TMP"
fi
cd "$ws"

# as_record BUNDLE [OPTION...] -- COMMAND...: record as the test user.
as_record() {
	bundle=$1
	shift
	set +e
	as_user "$RB" record -o "$bundle" "$@" >"$TMP/out" 2>"$TMP/err" \
		</dev/null
	status=$?
	set -e
}

as_record "$TMP/pipe.rb" -- sh -c 'echo a | tr a b >b.txt; id -u'
expect_recorded 0
expect_eq "$(as_user id -u)" "$(cat "$TMP/out")" "the agent's uid"
want_shape='{"c":[{"c":[],"x":[]},{"c":[],"x":["id"]},'
want_shape=$want_shape'{"c":[],"x":["tr"]}],"x":["sh"]}'
expect_shape "$TMP/pipe.rb" "$want_shape"
final=$(last_data "$TMP/pipe.rb" workspace .snapshot)
as_user "$RB" checkout "$TMP/pipe.rb" "$final" "$TMP/co" >/dev/null 2>&1 ||
	fail "checkout as the test user failed"
/usr/bin/python3 "$TESTS_DIR/record/tree_compare.py" "$ws" "$TMP/co" ||
	fail "the final snapshot differs from the workspace"

command -v curl >/dev/null && command -v jq >/dev/null ||
	skip "curl or jq is missing for the agent"
cat >"$TMP/script.json" <<'JSON'
{"turns": [
 {"tool_calls": [{"name": "run_command",
   "arguments": {"command": "cat kept.txt"}}]},
 {"text": "Read it."}
]}
JSON
chmod 644 "$TMP/script.json"
as_record "$TMP/agent.rb" --model-script "$TMP/script.json" -- \
	sh ./agent.sh "read the file"
expect_recorded 0
expect_eq "Read it." "$(cat "$TMP/out")" "the agent's answer"
expect_eq "curl
snapshot 1
exchange 1 complete
curl
snapshot 2
exchange 2 complete" "$($EVENTS "$TMP/agent.rb" steps)" "the order of steps"
exit 0
