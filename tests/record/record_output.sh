#!/bin/sh
# Where the bundle goes, and what record prints before it exists: never
# inside the workspace, by default under XDG_DATA_HOME, an upstream's
# key checked first, and an agent that could not be run named.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/record/record_lib.sh"

ws=$TMP/ws
mkdir -p "$ws/sub"
cd "$ws"

# run_env ARG...: run env(1) with the arguments, leaving the output in
# $TMP/out and $TMP/err and the exit status in $status.
run_env() {
	set +e
	env "$@" >"$TMP/out" 2>"$TMP/err"
	status=$?
	set -e
}

# Inside the workspace, by any path to it: rejected, and nothing made.
for out in inside.rb sub/inside.rb "$ws/inside.rb" "$TMP/link/inside.rb"; do
	ln -sfn "$ws" "$TMP/link"
	record "$out" -- true
	[ "$status" = 3 ] || fail "-o $out: expected exit status 3, got $status"
	expect_grep "^runbundle: cannot write the bundle: '$out': \
it lies inside the workspace '$ws'" "$TMP/err"
	expect_grep "^hint: write it outside the workspace, for example with \
-o $(dirname "$ws")/inside\\.rb\$" "$TMP/err"
	[ -z "$(find "$ws" -name 'inside.rb*')" ] ||
		fail "-o $out: a bundle was made inside the workspace"
done
# A workspace above the current directory: ../inside.rb lies inside it
# too, so the hint names a path beside it.
cd "$ws/sub"
record ../inside.rb --workspace "$ws" -- true
cd "$ws"
[ "$status" = 3 ] || fail "-o ../inside.rb: expected exit status 3, got $status"
expect_grep "^hint: .* -o $(dirname "$ws")/inside\\.rb\$" "$TMP/err"
# A workspace given with --workspace counts, not the current directory.
record "$ws/other.rb" --workspace "$ws/sub" -- true
expect_recorded 0
record "$ws/sub/x.rb" --workspace "$ws/sub" -- true
[ "$status" = 3 ] || fail "-o inside --workspace: expected 3, got $status"

# Without -o the bundle goes to runbundle's directory under
# XDG_DATA_HOME, or under HOME.
run_env XDG_DATA_HOME="$TMP/data" "$RB" record -- true
if [ "$status" != 0 ]; then
	cat "$TMP/err" >&2
	fail "the default bundle: status $status"
fi
bundle=$(sed -n 's/^bundle: //p' "$TMP/err")
case $bundle in
"$TMP/data/runbundle/run-"*Z.rb) ;;
*) fail "default bundle in the wrong place: '$bundle'" ;;
esac
"$RB" verify "$bundle" >/dev/null || fail "the default bundle does not verify"
expect_eq "700" "$(stat -c %a "$TMP/data/runbundle")" "the directory's mode"
run_env -u XDG_DATA_HOME HOME="$TMP/home" "$RB" record -- true
if [ "$status" != 0 ]; then
	cat "$TMP/err" >&2
	fail "the bundle under HOME: status $status"
fi
expect_grep "^bundle: $TMP/home/\.local/share/runbundle/run-.*Z\.rb\$" \
	"$TMP/err"

# A default name that is taken gets a number. The names of the next ten
# seconds are all taken, so the run cannot reach a free second.
now=$(date -u +%s)
for s in 0 1 2 3 4 5 6 7 8 9; do
	: >"$TMP/data/runbundle/run-$(date -u -d "@$((now + s))" \
		+%Y%m%dT%H%M%SZ).rb"
done
run_env XDG_DATA_HOME="$TMP/data" "$RB" record -- true
if [ "$status" != 0 ]; then
	cat "$TMP/err" >&2
	fail "a default name taken: status $status"
fi
expect_grep "^bundle: $TMP/data/runbundle/run-[0-9T]*Z-2\.rb\$" "$TMP/err"

# The -wal of a run that is creating a bundle, or was killed doing so,
# takes its name too.
for s in 0 1 2 3 4 5 6 7 8 9; do
	stamp=$(date -u -d "@$((now + s))" +%Y%m%dT%H%M%SZ)
	[ -e "$TMP/data/runbundle/run-$stamp-2.rb" ] ||
		: >"$TMP/data/runbundle/run-$stamp-2.rb"
	: >"$TMP/data/runbundle/run-$stamp-3.rb-wal"
done
run_env XDG_DATA_HOME="$TMP/data" "$RB" record -- true
if [ "$status" != 0 ]; then
	cat "$TMP/err" >&2
	fail "a default name's -wal taken: status $status"
fi
expect_grep "^bundle: $TMP/data/runbundle/run-[0-9T]*Z-4\.rb\$" "$TMP/err"

# Runs started together all get a bundle: one that loses the race for
# its name takes the next number.
rm -rf "$TMP/data"
for i in 1 2 3 4 5 6; do
	(XDG_DATA_HOME="$TMP/data" "$RB" record -- true >/dev/null \
		2>"$TMP/race-$i.err" || echo "$i" >>"$TMP/race-failed") &
done
wait
if [ -e "$TMP/race-failed" ]; then
	cat "$TMP"/race-*.err >&2
	fail "runs started together: $(wc -l <"$TMP/race-failed") failed"
fi
expect_eq 6 "$(ls "$TMP/data/runbundle" | grep -c '\.rb$')" \
	"bundles of the runs started together"

# A key too short to mask is rejected before the bundle exists, and a key
# that is not set is a warning.
run_env OPENAI_API_KEY=k3yv4l "$RB" record -o "$TMP/key.rb" \
	--upstream openai=http://127.0.0.1:9/v1 -- true
[ "$status" = 3 ] || fail "short key: expected exit status 3, got $status"
expect_grep "^runbundle: cannot use the key of upstream 'openai': \
'OPENAI_API_KEY': 6 characters, too short to mask in the bundle\$" "$TMP/err"
[ ! -e "$TMP/key.rb" ] || fail "a short key left a bundle"
grep -q k3yv4l "$TMP/err" && fail "the key's value reached the message"
run_env OPENAI_API_KEY="$(printf 'sk-test-cr-key-0123456789\r')" \
	"$RB" record -o "$TMP/cr.rb" \
	--upstream openai=http://127.0.0.1:9/v1 -- true
[ "$status" = 3 ] || fail "key with CR: expected exit status 3, got $status"
expect_grep "^runbundle: cannot use the key of upstream 'openai': \
'OPENAI_API_KEY': byte 26 is a control character" "$TMP/err"
[ ! -e "$TMP/cr.rb" ] || fail "a key with CR left a bundle"
grep -q sk-test-cr-key "$TMP/err" && fail "the key reached the message"
run_env -u OPENAI_API_KEY "$RB" record -o "$TMP/nokey.rb" \
	--upstream openai=http://127.0.0.1:9/v1 -- true
[ "$status" = 0 ] || fail "unset key: expected exit status 0, got $status"
expect_grep "^runbundle: warning: OPENAI_API_KEY is not set, \
so the requests to upstream 'openai' go without a key\$" "$TMP/err"

# An agent that the sandbox cannot run is named, with the reason.
record "$TMP/missing.rb" -- no-such-agent-here
expect_recorded 127
expect_grep "^runbundle: cannot run the agent: 'no-such-agent-here': \
No such file or directory\$" "$TMP/err"
expect_grep '^hint: .*write \./no-such-agent-here$' "$TMP/err"
record "$TMP/ran.rb" -- sh -c 'exit 127'
expect_recorded 127
grep -q 'cannot run the agent' "$TMP/err" &&
	fail "an agent that ran and exited 127 was called not run"

# A script whose interpreter the sandbox lacks also fails with ENOENT,
# and the hint names that interpreter rather than the script.
printf '#!/no/such/python\n' >"$ws/orphan.py"
chmod 755 "$ws/orphan.py"
record "$TMP/orphan.rb" -- ./orphan.py
expect_recorded 127
expect_grep "^runbundle: cannot run the agent: './orphan.py': \
No such file or directory\$" "$TMP/err"
expect_grep "^hint: './orphan.py' is a script for '/no/such/python', which" \
	"$TMP/err"
rm "$ws/orphan.py"

# A bundle whose directory is missing or not writable is rejected before
# anything runs, with the directory named.
record "$TMP/no-such-dir/run.rb" -- true
[ "$status" = 3 ] || fail "missing directory: expected 3, got $status"
expect_grep "^runbundle: cannot write the bundle: '$TMP/no-such-dir/run.rb': \
its directory cannot be opened: No such file or directory\$" "$TMP/err"
expect_grep "^hint: create the directory '$TMP/no-such-dir'" "$TMP/err"
if [ "$(id -u)" -eq 0 ]; then
	unpriv_setup
	mkdir "$TMP/closed" "$TMP/userws"
	chmod 755 "$TMP" "$TMP/closed"
	chmod 777 "$TMP/userws"
	set +e
	(cd "$TMP/userws" && as_user "$UNPRIV_RUNBUNDLE" record \
		-o "$TMP/closed/run.rb" -- true) >"$TMP/out" 2>"$TMP/err"
	status=$?
	set -e
	[ "$status" = 3 ] || fail "closed directory: expected 3, got $status"
	expect_grep "its directory is not writable: Permission denied\$" \
		"$TMP/err"
	[ ! -e "$TMP/closed/run.rb" ] || fail "a bundle in a closed directory"
fi
exit 0
