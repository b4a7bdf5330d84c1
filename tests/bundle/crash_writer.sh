#!/bin/sh
# crash_writer.sh - a writer killed with SIGKILL at 20 random moments
# leaves a bundle that opens, verifies up to its last committed event
# and reports itself incomplete.
. "$TESTS_DIR/lib.sh"
WRITER=$1

for i in $(seq 1 20); do
	bundle=$TMP/crash$i.rb
	# 0 to 399 ms, so some kills land while the bundle is created.
	ms=$(( $(od -An -N2 -tu2 /dev/urandom) % 400 ))
	# A kill after 0 ms can come before the writer's shell has opened
	# its output, so the file is there from the start.
	: >"$TMP/committed"
	"$WRITER" loop "$bundle" "$i" >"$TMP/committed" 2>"$TMP/writer.err" &
	pid=$!
	sleep "$(printf '0.%03d' "$ms")"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
	last=$(tail -n 1 "$TMP/committed")
	last=${last:-0}

	if [ ! -e "$bundle" ]; then
		# Killed before the file was created: nothing to open.
		if [ "$last" != 0 ]; then
			ls -la "$TMP" >&2
			cat "$TMP/writer.err" >&2
			fail "run $i (killed after $ms ms): $last events" \
				"committed, but '$bundle' does not exist"
		fi
		continue
	fi
	expect_status 0 "$RUNBUNDLE" verify --allow-incomplete --json \
		"$bundle"
	expect_eq false "$(jq -r .finalized "$TMP/out")" \
		"run $i (killed after $ms ms): finalized"
	verified=$(jq .verified_events "$TMP/out")
	events=$(jq .events "$TMP/out")
	expect_eq "$events" "$verified" "run $i: verified events"
	[ "$verified" -ge "$last" ] ||
		fail "run $i: $last events committed, $verified verified"
	expect_status 1 "$RUNBUNDLE" verify "$bundle"
	expect_grep '^incomplete: ' "$TMP/out"
done

# Verify while a writer appends: every pass sees the same snapshot, so
# no event refers to an object that the index missed.
"$WRITER" loop "$TMP/live.rb" 99 >"$TMP/committed" 2>"$TMP/writer.err" &
pid=$!
sleep 0.3
for i in 1 2 3 4 5; do
	expect_status 0 "$RUNBUNDLE" verify --allow-incomplete "$TMP/live.rb"
done
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true

# Killed while finalizing, in the checkpoint or the switch of journal
# mode: finalized and intact, or still incomplete and intact.
for i in $(seq 1 5); do
	bundle=$TMP/final$i.rb
	"$WRITER" loop "$bundle" "$i" >"$TMP/committed" 2>"$TMP/writer.err" &
	pid=$!
	sleep 0.5
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
	ms=$(( $(od -An -N2 -tu2 /dev/urandom) % 60 ))
	"$WRITER" finalize "$bundle" >/dev/null 2>"$TMP/writer.err" &
	pid=$!
	sleep "$(printf '0.%03d' "$ms")"
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true

	expect_status 0 "$RUNBUNDLE" verify --allow-incomplete --json \
		"$bundle"
	expect_eq "$(jq .events "$TMP/out")" \
		"$(jq .verified_events "$TMP/out")" \
		"finalize killed after $ms ms: verified events"
	if [ "$(jq -r .finalized "$TMP/out")" = true ]; then
		expect_status 0 "$RUNBUNDLE" verify "$bundle"
	fi
done

# A killed bundle can be appended to and finalized afterwards.
"$WRITER" put "$TMP/crash20.rb" "$TMP/committed" >/dev/null
"$WRITER" finalize "$TMP/crash20.rb" >/dev/null
expect_status 0 "$RUNBUNDLE" verify "$TMP/crash20.rb"
exit 0
