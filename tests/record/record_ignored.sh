#!/bin/sh
# Signals that the caller ignores. nohup ignores SIGHUP, and a shell
# without job control starts a background job with SIGINT ignored.
# Such a signal stays ignored: sent to the process that the shell
# started or to the recorder, it reaches no agent, and the agent
# inherits the ignore. In both sandbox modes, as root and as the test
# user.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/record/record_lib.sh"

runners_setup
ws=$TMP/ws
mkdir "$ws"
chmod 777 "$ws"
cd "$ws"

# The agent stores the ignored signals that it inherited, then waits.
agent='grep "^SigIgn:" /proc/self/status >sigign; touch started
while [ ! -e stop ]; do sleep 0.05; done'

# ignoring SIG RUNNER NAME MODE: record the agent as RUNNER with SIG
# ignored from the start, in the background. Sets $pid, the process that
# the shell started, and $recorder. The shell execs runbundle, so $pid
# is runbundle itself and not a subshell.
ignoring() {
	sig=$1 name=$3 mode=$4
	if [ "$2" = user ] && [ "$(id -u)" -eq 0 ]; then
		set -- setpriv --reuid="$TEST_USER" --regid="$TEST_USER" \
			--init-groups -- "$UNPRIV_RUNBUNDLE"
	else
		set -- "$RB"
	fi
	rm -f started stop sigign
	sh -c "trap '' $sig; exec \"\$@\"" sh "$@" record \
		-o "$TMP/$name.rb" --sandbox "$mode" -- sh -c "$agent" \
		>"$TMP/$name.out" 2>"$TMP/$name.err" </dev/null &
	pid=$!
	wait_file started "$name: the agent did not start" "$TMP/$name.err"
	recorder=$(pgrep -P "$pid")
	[ -n "$recorder" ] || fail "$name: no recorder under $pid"
}

# bit SIG: the bit of SIG (HUP or INT) in a /proc/PID/status signal
# mask, in hex.
bit() {
	case $1 in
	HUP) echo 1 ;;
	INT) echo 2 ;;
	*) fail "no bit for SIG$1" ;;
	esac
}

for runner in $runners; do
	for mode in namespaces none; do
		for sig in HUP INT; do
			name=$sig-$mode-$runner
			ignoring "$sig" "$runner" "$name" "$mode"
			kill -"$sig" "$pid"
			sleep 0.2
			kill -"$sig" "$recorder"
			sleep 0.3
			kill -0 "$recorder" 2>/dev/null ||
				fail "$name: the recorder ended on SIG$sig"
			mask=$(awk '{ print $2 }' sigign)
			[ $((0x$mask & 0x$(bit "$sig"))) -ne 0 ] ||
				fail "$name: the agent does not ignore" \
					"SIG$sig: SigIgn $mask"
			touch stop
			wait_status "$pid"
			cp "$TMP/$name.err" "$TMP/err"
			bundle=$TMP/$name.rb
			expect_recorded 0
			expect_eq 0 "$(last_data "$bundle" end .interrupts)" \
				"$name: end.interrupts"
		done

		# The signals that are not ignored are still passed on.
		name=term-$mode-$runner
		ignoring HUP "$runner" "$name" "$mode"
		kill -TERM "$pid"
		wait_status "$pid"
		cp "$TMP/$name.err" "$TMP/err"
		bundle=$TMP/$name.rb
		expect_recorded 143
	done
done
exit 0
