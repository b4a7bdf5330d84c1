#!/bin/sh
# An exec that the file's own mode refuses (a directory, a script without
# its x bit) fails with EACCES as a policy denial does, but no policy
# denied it: it is no violation, and the gate passes. An exec that the
# allowlist denies stays one, as does a dynamic loader run as a program.
# An agent that is a directory gets a hint that names it as one.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/record/record_lib.sh"

# violations BUNDLE: the exec violations' commands, one a line.
violations() {
	$EVENTS "$1" kinds | awk '$2 == "violation" { print $1 }' |
		while read -r seq; do
			$EVENTS "$1" data "$seq"
		done | jq -r 'select(.source == "exec") | .command'
}

mkdir "$TMP/ws"
cd "$TMP/ws"
printf 'echo hi\n' >noexec.sh
mkdir adir
printf '#!/bin/sh\necho ran\n' >ok.sh
chmod 755 ok.sh

record "$TMP/mode.rb" -- sh -c './noexec.sh; ./adir; ./ok.sh; exit 0'
expect_recorded 0
expect_grep '^ran$' "$TMP/out"
expect_grep ' 0 policy violations$' "$TMP/err"
expect_eq "" "$(violations "$TMP/mode.rb")" "violations of the mode"
expect_status 0 "$RB" gate "$TMP/mode.rb"

# The allowlist's denial is still one, beside the refusals of the mode.
printf '{"version": 1, "exec": {"allow": ["sh"]}}\n' >"$TMP/allow.json"
record "$TMP/allow.rb" --policy "$TMP/allow.json" -- \
	sh -c './noexec.sh; ./adir; /usr/bin/true; exit 0'
expect_recorded 0
expect_grep ' 1 policy violation$' "$TMP/err"
expect_eq /usr/bin/true "$(violations "$TMP/allow.rb")" \
	"the allowlist's denial"
expect_status 1 "$RB" gate "$TMP/allow.rb"
expect_grep "^denied-command .*'/usr/bin/true'\$" "$TMP/out"

# A dynamic loader run as a program would run any program named as its
# argument, past the allowlist, which has to let the kernel execute the
# loaders. The tracer kills such an exec before the loader runs, and
# stores it as a violation. The shell goes on.
loader=$(ldd /bin/sh | awk '$1 ~ /^\// && $1 ~ /ld-/ { print $1 }')
record "$TMP/loader.rb" --policy "$TMP/allow.json" -- \
	sh -c "$loader /usr/bin/id; echo status \$?; exit 0"
expect_recorded 0
expect_grep '^status 137$' "$TMP/out"
if grep -q '^uid=' "$TMP/out"; then
	fail "the loader ran /usr/bin/id past the allowlist"
fi
expect_grep ' 1 policy violation$' "$TMP/err"
expect_eq "$loader" "$(violations "$TMP/loader.rb")" "the loader's violation"
"$RB" log "$TMP/loader.rb" >"$TMP/log"
expect_grep "exec of '$loader' denied: a dynamic loader run as a program" \
	"$TMP/log"
expect_status 1 "$RB" gate "$TMP/loader.rb"

# A loader that the allowlist names by its path may run as a program.
printf '{"version": 1, "exec": {"allow": ["sh", "%s"]}}\n' "$loader" \
	>"$TMP/allow-loader.json"
record "$TMP/listed.rb" --policy "$TMP/allow-loader.json" -- \
	sh -c "$loader /usr/bin/id; echo status \$?; exit 0"
expect_recorded 0
expect_grep '^uid=' "$TMP/out"
expect_grep '^status 0$' "$TMP/out"
expect_grep ' 0 policy violations$' "$TMP/err"

# The agent itself: the hint names what is wrong with the path.
record "$TMP/dir.rb" -- ./adir
expect_recorded 126
expect_grep "^runbundle: cannot run the agent: './adir': Permission denied\$" \
	"$TMP/err"
expect_grep "^hint: './adir' is a directory; name the program in it" \
	"$TMP/err"
expect_grep ' 0 policy violations$' "$TMP/err"
record "$TMP/noexec.rb" -- ./noexec.sh
expect_recorded 126
expect_grep "^hint: './noexec.sh' has no execute permission; make it" \
	"$TMP/err"

# A file whose other class lacks the x bit refuses the test user, who is
# neither its owner nor in its group.
if [ "$(id -u)" -eq 0 ]; then
	runners_setup
	chmod 777 "$TMP/ws"
	printf '#!/bin/sh\necho owner\n' >owner.sh
	chmod 754 owner.sh
	set +e
	as_user "$UNPRIV_RUNBUNDLE" record -o "$TMP/user.rb" -- \
		sh -c './owner.sh; exit 0' >"$TMP/out" 2>"$TMP/err" </dev/null
	status=$?
	set -e
	bundle=$TMP/user.rb
	expect_recorded 0
	expect_grep 'owner.sh: Permission denied' "$TMP/err"
	expect_grep ' 0 policy violations$' "$TMP/err"
fi
exit 0
