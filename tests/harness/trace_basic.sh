#!/bin/sh
# runbundle trace on shell commands: the tree of a pipeline, exit
# statuses, failed execs, the environment with secrets redacted, and the
# executable's path and hash.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/harness/trace_lib.sh"

# A pipeline: dash forks one child per stage; echo is a builtin, so its
# child never execs.
trace_json "$TMP/pipe.json" sh -c 'echo a | tr a b | cat >/dev/null'
expect_eq 0 "$status" "pipeline exit status"
want_shape='{"c":[{"c":[],"x":[]},{"c":[],"x":["cat"]},'
want_shape=$want_shape'{"c":[],"x":["tr"]}],"x":["sh"]}'
expect_shape "$TMP/pipe.json" "$want_shape"
jq_eq "$TMP/pipe.json" '[.. | objects | select(has("execs"))] | length' 4
jq_eq "$TMP/pipe.json" '.children[1].execs[0].argv | join(" ")' 'tr a b'
jq_eq "$TMP/pipe.json" \
	'[.. | objects | select(has("end")) | .end] | unique | join(",")' \
	exited
jq_eq "$TMP/pipe.json" '(.start_us > 0) and (.end_us >= .start_us)' true

# The executable: resolved through the /bin symlink, hashed.
sh_path=$(readlink -f /bin/sh)
jq_eq "$TMP/pipe.json" '.execs[0].exe.path' "$sh_path"
jq_eq "$TMP/pipe.json" '.execs[0].exe.sha256' \
	"$(sha256sum "$sh_path" | cut -d' ' -f1)"
jq_eq "$TMP/pipe.json" '.children[2].execs[0].exe.path' \
	"$(readlink -f /bin/cat)"

# Many short children: each recorded once, whatever order the kernel
# reports a child's first stop, its exit and its parent's fork event in.
trace_json "$TMP/many.json" sh -c \
	'i=0; while [ $i -lt 300 ]; do /bin/true; i=$((i + 1)); done'
jq_eq "$TMP/many.json" '.children | length' 300
jq_eq "$TMP/many.json" \
	'[.children[] | .end + ":" + (.execs | length | tostring)] |
	unique | join(",")' 'exited:1'
jq_eq "$TMP/many.json" '[.children[].pid] | unique | length' 300

# A chain of 60 processes, each the child of the one before: each one
# nested in its parent's "children", and the text is one JSON value.
cat >"$TMP/chain.sh" <<'EOF'
[ "$1" -gt 0 ] && sh "$0" $(($1 - 1))
exit 0
EOF
trace_json "$TMP/chain.json" sh "$TMP/chain.sh" 59
jq_eq "$TMP/chain.json" '[.. | objects | select(has("execs"))] | length' \
	60
jq_eq "$TMP/chain.json" 'def depth: if (.children | length) == 0
	then 1 else 1 + (.children[0] | depth) end; depth' 60
jq_eq "$TMP/chain.json" '[.. | objects | select(has("children")) |
	.children | length] | max' 1
jq_eq "$TMP/chain.json" '.children[0].children[0].execs[0].argv[2]' 57

# Exit status and the working directory.
mkdir "$TMP/work"
trace_json "$TMP/exit.json" sh -c 'cd "$1" && /bin/true' sh "$TMP/work"
jq_eq "$TMP/exit.json" '.execs[0].cwd' "$(pwd -P)"
jq_eq "$TMP/exit.json" '.children[0].execs[0].cwd' \
	"$(cd "$TMP/work" && pwd -P)"
trace_json "$TMP/exit.json" sh -c 'exit 3'
expect_eq 3 "$status" "exit status of 'exit 3'"
jq_eq "$TMP/exit.json" '.end + " " + (.exit_code | tostring)' 'exited 3'
jq_eq "$TMP/exit.json" '.rusage | has("user_us") and has("max_rss_kib")' true

# Failed execs: a missing file, and one without execute permission.
printf 'echo no\n' >"$TMP/noexec"
trace_json "$TMP/fail.json" sh -c "$TMP/missing; $TMP/noexec; exit 0"
expect_eq 0 "$status" "exit status after failed execs"
jq_eq "$TMP/fail.json" '[.children[].execs[] | .error] | join(",")' \
	'ENOENT,EACCES'
jq_eq "$TMP/fail.json" '.children[0].execs[0].path' "$TMP/missing"
jq_eq "$TMP/fail.json" '.children[0].execs[0].errno' 2
jq_eq "$TMP/fail.json" '.children[1].execs[0].resolved' "$TMP/noexec"
jq_eq "$TMP/fail.json" '[.children[].exit_code] | join(",")' '127,126'

# A PATH search: each attempt is recorded with the kernel's errno, in
# order. The order is a missing directory, a file in place of a
# directory, a file without execute permission, and the one that runs.
mkdir -p "$TMP/p/noexec" "$TMP/p/bin"
: >"$TMP/p/file"
: >"$TMP/p/noexec/tool"
cp /bin/true "$TMP/p/bin/tool"
search="$TMP/p/none:$TMP/p/file:$TMP/p/noexec:$TMP/p/none2:$TMP/p/bin"
trace_json "$TMP/search.json" env PATH="$search" tool
expect_eq 0 "$status" "exit status of the PATH search"
jq_eq "$TMP/search.json" '[.execs[] | .error // "ran"] | join(",")' \
	'ran,ENOENT,ENOTDIR,EACCES,ENOENT,ran'
jq_eq "$TMP/search.json" '[.execs[1:][] | .path] | join(":")' \
	"$TMP/p/none/tool:$TMP/p/file/tool:$TMP/p/noexec/tool:\
$TMP/p/none2/tool:$TMP/p/bin/tool"
jq_eq "$TMP/search.json" '.execs[5].exe.path' "$TMP/p/bin/tool"

# A search that finds nothing: its last failure is recorded at the
# exit that follows it.
trace_json "$TMP/nothing.json" env PATH="$TMP/p/none:$TMP/p/none2" tool
expect_eq 127 "$status" "exit status of a search that finds nothing"
jq_eq "$TMP/nothing.json" '[.execs[] | .error // "ran"] | join(",")' \
	'ran,ENOENT,ENOENT'

# Relative paths resolve against the working directory.
cp /bin/true "$TMP/work/mytrue"
trace_json "$TMP/rel.json" sh -c 'cd "$1" && ./mytrue' sh "$TMP/work"
jq_eq "$TMP/rel.json" '.children[0].execs[0].path' ./mytrue
jq_eq "$TMP/rel.json" '.children[0].execs[0].resolved' \
	"$(cd "$TMP/work" && pwd -P)/./mytrue"
jq_eq "$TMP/rel.json" '.children[0].execs[0].error' null

# The environment: every name; the values of secrets never appear, in
# whatever case their names are.
OPENAI_API_KEY=sk-test-abc123 GITHUB_TOKEN=ghp-test-xyz PLAIN=visible \
	openai_api_key=sk-test-lower github_token=ghp-test-lower \
	trace_json "$TMP/env.json" /bin/true
jq_eq "$TMP/env.json" \
	'.execs[0].env | map(select(.[0] == "PLAIN"))[0][1]' visible
jq_eq "$TMP/env.json" \
	'.execs[0].env | map(select(.[0] == "OPENAI_API_KEY"))[0][1]' null
jq_eq "$TMP/env.json" \
	'.execs[0].env | map(select(.[0] == "GITHUB_TOKEN")) | length' 1
jq_eq "$TMP/env.json" \
	'.execs[0].env | map(select(.[0] == "openai_api_key"))[0][1]' null
if grep -q -e sk-test-abc123 -e ghp-test-xyz -e sk-test-lower \
	-e ghp-test-lower "$TMP/env.json"; then
	fail "a secret value reached the tree"
fi
set +e
MY_VAR=hidden-value my_var=lower-value "$RB" trace --json --secret 'MY_*' \
	-o "$TMP/sec.json" -- /bin/true
set -e
jq_eq "$TMP/sec.json" '.execs[0].env | map(select(.[0] == "MY_VAR"))[0][1]' null
grep -q hidden-value "$TMP/sec.json" && fail "--secret value reached the tree"
grep -q lower-value "$TMP/sec.json" && fail "--secret ignored a lower case name"

# A program that ends by a signal, and the traced command killed while
# a child still runs: the child is killed at the end and recorded so.
trace_json "$TMP/sig.json" sh -c 'kill -USR1 $$'
expect_eq 138 "$status" "exit status of a command killed by SIGUSR1"
jq_eq "$TMP/sig.json" '.end + " " + .signal_name' 'signaled USR1'
trace_json "$TMP/kill.json" sh -c '/bin/sleep 60 & sleep 0.2; kill -KILL $$'
expect_eq 137 "$status" "exit status of a command killed by SIGKILL"
jq_eq "$TMP/kill.json" '.end + " " + .signal_name' 'signaled KILL'
jq_eq "$TMP/kill.json" '[.children[] |
	select(.execs[0].argv[0] == "/bin/sleep") | .end] | join(",")' killed

# A child that the command itself kills just before it exits was not
# running at the end, however late the kernel reports its death.
i=0
while [ $i -lt 10 ]; do
	trace_json "$TMP/own-kill.json" sh -c '/bin/sleep 60 & kill -KILL $!'
	jq_eq "$TMP/own-kill.json" '.children[0].end + " " +
		.children[0].signal_name' 'signaled KILL'
	i=$((i + 1))
done

# SIGTERM sent to runbundle alone is passed on to the command.
"$RB" trace -o "$TMP/term.txt" -- /bin/sleep 60 &
rb_pid=$!
# The name of the child of runbundle: "sleep" once it has exec'd, and
# so once runbundle forwards signals.
child_comm() {
	for f in $(grep -l "^PPid:	$rb_pid$" /proc/[0-9]*/status \
		2>/dev/null); do
		cat "${f%status}comm" 2>/dev/null || true
	done
}
n=0
until [ "$(child_comm)" = sleep ]; do
	n=$((n + 1))
	[ $n -lt 500 ] || fail "the traced sleep never started"
	sleep 0.01
done
kill -TERM "$rb_pid"
wait_status "$rb_pid"
expect_eq 143 "$status" "exit status after SIGTERM"
expect_grep '^pid [0-9]*: signal TERM$' "$TMP/term.txt"

# A second SIGTERM or SIGINT kills a command that ignores them, and its
# daemon with it. Ctrl-C reaches the command from the terminal, so the
# first SIGINT is not passed on. timeout kills a runbundle that hangs,
# and passes the signals on to it alone.
for sig in TERM INT; do
	rm -f "$TMP/daemon"
	timeout --foreground -s KILL 30 env --default-signal=INT \
		"$RB" trace -o "$TMP/ignore.txt" -- sh -c 'trap "" TERM INT
		(setsid sh -c "trap \"\" TERM INT; echo \$\$ >$1.tmp;
			mv $1.tmp $1; exec sleep 60" &)
		sleep 60' sh "$TMP/daemon" 2>"$TMP/ignore.err" &
	rb_pid=$!
	until [ -s "$TMP/daemon" ]; do sleep 0.05; done
	kill -"$sig" "$rb_pid"
	sleep 0.3
	kill -"$sig" "$rb_pid"
	wait_status "$rb_pid"
	expect_eq 137 "$status" "exit status after two SIG$sig"
	expect_grep "^runbundle: trace killed: 'SIG$sig': a second signal \
kills the command and every process descended from it$" "$TMP/ignore.err"
	# Dead: gone, or a zombie of an init that does not reap.
	state=$(ps -o stat= -p "$(cat "$TMP/daemon")" || true)
	case $state in
	''|Z*) ;;
	*) fail "the daemon outlived two SIG$sig: state $state" ;;
	esac
done

# Raw bytes: an argument that is not UTF-8 comes back as base64.
trace_json "$TMP/bytes.json" /bin/echo "$(printf 'a\377b')"
jq_eq "$TMP/bytes.json" '.execs[0].argv[1].base64' "$(printf 'a\377b' | base64)"

# The text form.
set +e
"$RB" trace -- sh -c 'echo a | tr a b >/dev/null' 2>"$TMP/text"
set -e
expect_grep '^pid [0-9]*: exit 0$' "$TMP/text"
expect_grep "^  exec $sh_path: sh -c echo a | tr a b >/dev/null$" "$TMP/text"
expect_grep "^    exec $(readlink -f /bin/tr): tr a b$" "$TMP/text"

# Usage errors and a command that does not exist.
expect_status 2 "$RB" trace
expect_grep "no command to trace" "$TMP/err"
expect_status 2 "$RB" trace --bogus -- true
expect_grep "unknown option: '--bogus'" "$TMP/err"
expect_status 127 "$RB" trace -- no-such-command-here
expect_grep "^runbundle: command not found: 'no-such-command-here'$" "$TMP/err"
expect_status 3 "$RB" trace -o "$TMP/no/such/dir/t.json" -- \
	sh -c ': >"$1"' sh "$TMP/ran"
expect_grep "cannot write the process tree: '$TMP/no/such/dir/t.json'" \
	"$TMP/err"
[ ! -e "$TMP/ran" ] || fail "the command ran although -o was invalid"
