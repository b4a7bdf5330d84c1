#!/bin/sh
# An agent that resends the conversation carries the output of an older
# step's command along. When a request first differs there, the guess
# names the command of the step whose request first held that output,
# not one of the request's own step.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/replay/replay_lib.sh"

# diff_json A B: compare two recordings into $TMP/json.
diff_json() {
	set +e
	"$RUNBUNDLE" diff --json "$1" "$2" >"$TMP/json" 2>"$TMP/replay.err"
	status=$?
	set -e
	expect_replay_status 1
}

# cause_of K: the command and step named for the request of step K.
cause_of() {
	jqr ".differences[] | select(.step == $1) | .request.cause |
		\"\(.path)|\(.command)|\(.step)|\(.guess)\""
}

# The workspace's path differs between the runs, so step 2's output
# does, and step 3's request carries it along in messages[2].
new_workspace "$TMP/w1" 'echo start' 'pwd; ls' \
	'echo $PWD > where.txt; cat where.txt'
cp -R "$TMP/w1" "$TMP/w2"
cp "$TMP/w1.script.json" "$TMP/w2.script.json"
record_in "$TMP/w1" "$TMP/w1.rb"
record_in "$TMP/w2" "$TMP/w2.rb"
diff_json "$TMP/w1.rb" "$TMP/w2.rb"
expect_eq "messages[2].content|sh -c pwd; ls|2|true" "$(cause_of 2)" \
	"the command behind request 2"
expect_eq "messages[2].content|sh -c pwd; ls|2|true" "$(cause_of 3)" \
	"the command behind request 3, which carries step 2's output"
set +e
"$RUNBUNDLE" diff "$TMP/w1.rb" "$TMP/w2.rb" >"$TMP/text" 2>/dev/null
set -e
line='output of `sh -c pwd; ls` (exit 0, as recorded, in step 2;'
expect_grep "^step 3: .* $line" "$TMP/text"

# An agent that sends the last output alone, always in messages[1]. In
# the first run steps 1 and 2 print the same, and in the second they do
# not. The value in step 2 is new there, so its own command is named.
for w in s1 s2; do
	new_workspace "$TMP/$w" 'echo s1' 'basename $PWD'
	sed 's/'\''\. + \[/'\''.[:1] + [/' "$TESTS_DIR/replay/steps_agent.sh" \
		>"$TMP/$w/agent.sh"
	grep -qF "'.[:1] + [" "$TMP/$w/agent.sh" ||
		fail "the agent that sends the last output alone"
	record_in "$TMP/$w" "$TMP/$w.rb"
done
diff_json "$TMP/s1.rb" "$TMP/s2.rb"
expect_eq "messages[1].content|sh -c basename \$PWD|2|true" "$(cause_of 2)" \
	"the command behind a last output that was new in the other run"
