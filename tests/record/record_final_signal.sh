#!/bin/sh
# Signals during the final snapshot, once the agent has ended. The first
# one is counted and gets a note, and the bundle is finalized when the
# snapshot ends. A second one stops runbundle at once: the bundle stays
# incomplete but verifiable, and no process is left.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/record/record_lib.sh"
command -v script >/dev/null || skip "script (util-linux) is missing"

ws=$TMP/ws
mkdir "$ws" "$TMP/run"
cd "$TMP/run"

# The agent writes enough for a final snapshot of a second or more, in
# files of 4 MiB: the snapshot checks for signals between files, after
# every 8 MiB read.
agent='for i in $(seq 48); do head -c 4194304 /dev/urandom >f$i; done
	touch done; exit 5'

# during_final NAME SIGNAL...: record the agent on a terminal, and send
# each SIGNAL, 0.3 s apart, once the final snapshot shows its progress.
during_final() {
	name=$1
	shift
	bundle=$TMP/$name.rb
	rm -f "$ws"/f* "$ws/done" "$TMP/tty.log"
	RUNBUNDLE_PROGRESS_DELAY=0 script -qfec "exec env \
		--default-signal=INT '$RB' record -o '$bundle' \
		--workspace '$ws' -- sh -c '$agent'" \
		"$TMP/tty.log" >/dev/null </dev/null &
	script_pid=$!

	wait_file "$ws/done" "$name: the agent did not end" "$TMP/tty.log"
	seen=$(wc -c <"$TMP/tty.log")
	tries=0
	until tail -c +"$((seen + 1))" "$TMP/tty.log" |
		grep -q 'snapshot of the workspace'; do
		tries=$((tries + 1))
		[ "$tries" -le 1000 ] ||
			fail "$name: no final progress: $(cat "$TMP/tty.log")"
		sleep 0.01
	done

	rb=$(pgrep -P "$script_pid")
	for sig in "$@"; do
		kill -"$sig" "$rb"
		sleep 0.3
	done
	wait_status "$script_pid"

	tr '\r' '\n' <"$TMP/tty.log" >"$TMP/err"
	expect_grep "note: SIG$1 during the final snapshot" "$TMP/err"
	for proc in /proc/[0-9]*; do
		cwd=$(readlink "$proc/cwd" 2>/dev/null) || continue
		[ "$cwd" != "$ws" ] ||
			fail "$name: process ${proc#/proc/} was left behind:" \
				"$(tr '\0' ' ' <"$proc/cmdline")"
	done
}

during_final once INT
expect_recorded 5
expect_eq 1 "$(last_data "$bundle" end .interrupts)" "once: end.interrupts"
expect_eq 49 "$(last_data "$bundle" workspace .changes.added)" \
	"once: the files added, with done"

during_final twice INT TERM
expect_eq 125 "$status" "twice: exit status"
expect_grep "a second SIGTERM during the final snapshot" "$TMP/err"
expect_status 1 "$RB" verify "$bundle"
expect_grep 'not finalized' "$TMP/out"
expect_status 0 "$RB" verify --allow-incomplete "$bundle"

exit 0
