#!/bin/sh
# Signals. SIGTERM and a first Ctrl-C are forwarded to the agent, and the
# bundle is finalized. A second Ctrl-C kills the tree and still
# finalizes. A SIGKILLed runbundle leaves the bundle incomplete but
# verifiable, and the agent dead.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/record/record_lib.sh"

ws=$TMP/ws
mkdir "$ws"
cd "$ws"

# start NAME [OPTION...] -- SCRIPT: record sh -c SCRIPT in the
# background, and wait until the script has created the file "started".
start() {
	name=$1
	shift
	rm -f started
	"$RB" record -o "$TMP/$name.rb" "$@" >"$TMP/$name.out" \
		2>"$TMP/$name.err" </dev/null &
	pid=$!
	tries=0
	while [ ! -e started ]; do
		tries=$((tries + 1))
		[ "$tries" -le 300 ] || {
			cat "$TMP/$name.err" >&2
			fail "$name: the agent did not start"
		}
		sleep 0.05
	done
}

# finish STATUS: wait for the recording, which must exit with STATUS
# and leave a finalized bundle that verifies.
finish() {
	set +e
	wait "$pid"
	status=$?
	set -e
	cp "$TMP/$name.err" "$TMP/err"
	bundle=$TMP/$name.rb
	expect_recorded "$1"
}

loop='touch started; while :; do sleep 0.1; done'

for mode in namespaces none; do
	start "term-$mode" --sandbox "$mode" -- \
		sh -c "trap 'echo got-term; exit 3' TERM; $loop"
	kill -TERM "$pid"
	finish 3
	expect_eq got-term "$(cat "$TMP/$name.out")" "the agent's trap ($mode)"
	expect_eq 1 "$(last_data "$bundle" end .interrupts)" \
		"end.interrupts ($mode)"

	start "int-$mode" --sandbox "$mode" -- \
		sh -c "trap 'echo got-int; exit 4' INT; $loop"
	kill -INT "$pid"
	finish 4
	expect_eq got-int "$(cat "$TMP/$name.out")" "the agent's trap ($mode)"

	# An agent that ignores Ctrl-C is killed, tree and all, by the
	# second one.
	start "int2-$mode" --sandbox "$mode" -- sh -c "trap '' INT TERM; $loop"
	kill -INT "$pid"
	sleep 0.3
	kill -INT "$pid"
	finish 137
	expect_eq 2 "$(last_data "$bundle" end .interrupts)" \
		"end.interrupts ($mode)"
	tree_json "$bundle" "$TMP/tree.json"
	jq -e '[.. | objects | select(has("end")) | .end] |
	       all(. != "running")' "$TMP/tree.json" >/dev/null ||
		fail "a process of the tree was left running ($mode)"
done

# SIGKILL: no finalize, but every committed event verifies, and the
# agent does not outlive runbundle.
start kill9 -- sh -c 'i=0; touch started
	while :; do i=$((i + 1)); echo $i >tick; sleep 0.05; done'
sleep 0.3
kill -KILL "$pid"
set +e
wait "$pid"
status=$?
set -e
expect_eq 137 "$status" "runbundle killed"
expect_status 1 "$RB" verify "$TMP/kill9.rb"
expect_grep 'not finalized' "$TMP/out"
expect_status 0 "$RB" verify --allow-incomplete "$TMP/kill9.rb"
sleep 0.5
before=$(cat tick)
sleep 0.5
expect_eq "$before" "$(cat tick)" "the agent's counter after SIGKILL"
exit 0
