#!/bin/sh
# record's own messages during a run, such as the warning of a failed
# model request, start a new line when the agent's output on the same
# file has left a line unfinished. They add no empty line otherwise, and
# the lines that record prints after the run follow the same rule.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/record/record_lib.sh"

command -v curl >/dev/null || skip "no curl"
# A key, so that record has nothing to warn of before the run.
export OPENAI_API_KEY=sk-message-lines
ws=$TMP/ws
mkdir "$ws"
cd "$ws"

# The agent prints its text with printf, waits until the copy of it has
# reached the file WAIT, and then makes a request that fails at once.
AGENT='printf "$1"; printf "$2" >&2
until grep -q "$3" "$4"; do sleep 0.02; done
curl -sS "$OPENAI_BASE_URL/v1/models" >/dev/null 2>&1
exit 0'

# run OUT ERR STDOUT STDERR PATTERN WAIT: record the agent with our
# stdout in OUT and our stderr in ERR (the same file when they are).
run() {
	set +e
	if [ "$1" = "$2" ]; then
		"$RB" record -o "$TMP/run.rb" --sandbox none \
			--upstream openai=http://127.0.0.1:1 -- \
			sh -c "$AGENT" sh "$3" "$4" "$5" "$6" >"$1" 2>&1 </dev/null
	else
		"$RB" record -o "$TMP/run.rb" --sandbox none \
			--upstream openai=http://127.0.0.1:1 -- \
			sh -c "$AGENT" sh "$3" "$4" "$5" "$6" >"$1" 2>"$2" </dev/null
	fi
	status=$?
	set -e
	rm -f "$TMP/run.rb"
	expect_eq 0 "$status" "the exit status of record"
}

warning="runbundle: warning: model request 1 failed: "

# An unfinished line on stderr.
run "$TMP/out" "$TMP/err" "" "half" half "$TMP/err"
expect_eq "half" "$(sed -n 1p "$TMP/err")" "the agent's unfinished line"
expect_grep "^$warning" "$TMP/err"
expect_eq 2 "$(grep -n "^$warning" "$TMP/err" | cut -d: -f1)" \
	"the line of the warning after an unfinished line on stderr"

# An unfinished line on stdout, which is the same file as stderr.
run "$TMP/both" "$TMP/both" "half" "" half "$TMP/both"
expect_eq "half" "$(sed -n 1p "$TMP/both")" "the unfinished line of stdout"
expect_eq 2 "$(grep -n "^$warning" "$TMP/both" | cut -d: -f1)" \
	"the line of the warning after an unfinished line on stdout"

# An unfinished line on a stdout of its own changes nothing on stderr.
run "$TMP/out" "$TMP/err" "half" "" half "$TMP/out"
expect_eq 1 "$(grep -n "^$warning" "$TMP/err" | cut -d: -f1)" \
	"the line of the warning with stdout elsewhere"

# A finished line gets no empty line after it.
run "$TMP/out" "$TMP/err" "" 'whole\n' whole "$TMP/err"
expect_eq "whole" "$(sed -n 1p "$TMP/err")" "the agent's finished line"
expect_eq 2 "$(grep -n "^$warning" "$TMP/err" | cut -d: -f1)" \
	"the line of the warning after a finished line"

# The lines that record prints after the run start a line of their own
# too, with stdout and stderr in one file or apart.
set +e
"$RB" record -o "$TMP/end.rb" --sandbox none -- printf half \
	>"$TMP/both" 2>&1 </dev/null
"$RB" record -o "$TMP/end2.rb" --sandbox none -- sh -c 'printf half >&2' \
	>"$TMP/out" 2>"$TMP/err" </dev/null
set -e
expect_eq half "$(sed -n 1p "$TMP/both")" "the agent's last line"
expect_eq "bundle: $TMP/end.rb" "$(sed -n 2p "$TMP/both")" \
	"the line after the agent's unfinished last line on stdout"
expect_eq "bundle: $TMP/end2.rb" "$(sed -n 2p "$TMP/err")" \
	"the line after the agent's unfinished last line on stderr"
exit 0
