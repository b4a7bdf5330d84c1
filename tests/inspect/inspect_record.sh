#!/bin/sh
# runbundle inspect on a recorded run that changes files, runs a denied
# command and exits 3. Every field of the summary, in JSON and in text,
# must match what the agent did, and color must appear only on a
# terminal without NO_COLOR.
. "$TESTS_DIR/lib.sh"
command -v jq >/dev/null || skip "jq is missing"

mkdir "$TMP/ws"
printf 'old\nline\n' >"$TMP/ws/edit.txt"
printf 'bye\n' >"$TMP/ws/gone.txt"
cat >"$TMP/ws/agent.sh" <<'SH'
#!/bin/sh
printf 'old\nnew line\nmore\n' >edit.txt
rm gone.txt
printf 'x\n' >added.txt
/bin/true
/bin/true
/usr/bin/mount -t tmpfs none /mnt 2>/dev/null
exit 3
SH
cd "$TMP/ws"
expect_status 3 "$RUNBUNDLE" record -o "$TMP/run.rb" --label ci=yes \
	--label job=42 -- sh ./agent.sh

expect_status 0 "$RUNBUNDLE" inspect --json "$TMP/run.rb"
j=$TMP/out
expect_eq finalized "$(jq -r .state "$j")" "state"
expect_eq '{"ci":"yes","job":"42"}' "$(jq -c .run.labels "$j")" "labels"
expect_eq 'sh ./agent.sh' "$(jq -r .run.command "$j")" "command"
expect_eq "$TMP/ws" "$(jq -r .run.workspace "$j")" "workspace"
expect_eq '3 null' "$(jq -r '"\(.run.exit_code) \(.run.signal)"' "$j")" \
	"exit status"
expect_eq 0 "$(jq -r .model.calls "$j")" "model calls"
expect_eq '1 1 1 0 3 2' "$(jq -r '.files |
	"\(.added) \(.modified) \(.deleted) \(.mode) " +
	"\(.lines_added) \(.lines_removed)"' "$j")" "files changed"
expect_eq 2 "$(jq -r '.processes.top[] | select(.command == "true") |
	.count' "$j")" "the count of 'true' among the top commands"
expect_eq namespaces "$(jq -r .sandbox.mode "$j")" "the sandbox"
expect_eq "$(uname -r)" "$(jq -r .fingerprint.kernel "$j")" \
	"the kernel of the fingerprint"
violations=$(jq -r '[.violations[] | select(.source == "exec")] | length' "$j")
[ "$violations" -ge 1 ] || fail "the denied mount is not a violation"
expect_eq 'exec of '"'"'/usr/bin/mount'"'"' denied' "$(jq -r '[.violations[] |
	select(.source == "exec")][0].what' "$j")" \
	"the violation's text"
root=$(jq -r .root "$j")

# The text output shows the same, within 80 columns and without color.
expect_status 0 "$RUNBUNDLE" inspect "$TMP/run.rb"
expect_grep "^root        $root$" "$TMP/out"
expect_grep '^labels      ci=yes job=42$' "$TMP/out"
expect_grep '^exit        3$' "$TMP/out"
expect_grep '^files       3 changed: 1 added, 1 modified, 1 deleted, 0 mode$' \
	"$TMP/out"
expect_grep '^  lines     +3 -2$' "$TMP/out"
expect_grep '^violations  [1-9]' "$TMP/out"
awk 'length > 80 { print; bad = 1 } END { exit bad }' "$TMP/out" ||
	fail "inspect printed lines longer than 80 columns"
grep -q "$(printf '\033')" "$TMP/out" && fail "color without a terminal"

# log --process keeps the events of one process, by its pid in the
# sandbox or on the host.
"$RUNBUNDLE" log --json --kind exec "$TMP/run.rb" >"$TMP/execs"
for field in ns_pid pid; do
	pid=$(jq -r '.steps[].events[] | select(.data.argv[0] == "rm") |
		.data.'"$field" "$TMP/execs")
	expect_status 0 "$RUNBUNDLE" log --process "$pid" --kind exec \
		"$TMP/run.rb"
	expect_eq 1 "$(grep -c ' exec  ' "$TMP/out")" "execs of $field $pid"
	expect_grep '] rm gone.txt$' "$TMP/out"
done

# The unprivileged test user reads a bundle it does not own.
unpriv_setup
chmod 644 "$TMP/run.rb"
as_user "$UNPRIV_RUNBUNDLE" inspect --json "$TMP/run.rb" >"$TMP/user" ||
	fail "inspect as the unprivileged user failed"
expect_eq "$root" "$(jq -r .root "$TMP/user")" "the root read as the user"
as_user "$UNPRIV_RUNBUNDLE" patch "$TMP/run.rb" >"$TMP/user" ||
	fail "patch as the unprivileged user failed"
expect_grep '^+++ b/added.txt$' "$TMP/user"

# On a terminal (script(1) gives one) violations are red, unless
# NO_COLOR is set.
command -v script >/dev/null || skip "script is missing"
script -qec "$RUNBUNDLE inspect $TMP/run.rb" /dev/null >"$TMP/tty" </dev/null
grep -q "$(printf '\033\\[31m')" "$TMP/tty" || fail "no color on a terminal"
NO_COLOR=1 script -qec "$RUNBUNDLE inspect $TMP/run.rb" /dev/null \
	>"$TMP/tty" </dev/null
grep -q "$(printf '\033')" "$TMP/tty" && fail "color with NO_COLOR set"
exit 0
