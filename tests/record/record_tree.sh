#!/bin/sh
# The recorded process tree, exactly: a shell pipeline, make -j2 on a
# generated C project, and a Python script that spawns children. Each
# runs in the default sandbox; the tree must be the same one the
# commands really made.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/record/record_lib.sh"

ws=$TMP/ws
mkdir "$ws"
cd "$ws"

# dash forks a subshell for the builtin echo and one child per command.
record "$TMP/pipe.rb" -- sh -c 'echo a | tr a b | cat >out.txt; true'
expect_recorded 0
want_shape='{"c":[{"c":[],"x":[]},{"c":[],"x":["cat"]},'
want_shape=$want_shape'{"c":[],"x":["tr"]}],"x":["sh"]}'
expect_shape "$TMP/pipe.rb" "$want_shape"
expect_eq "b" "$(cat out.txt)" "the pipeline's output"
jq -e '.children[] | select(.execs[0].argv == ["tr", "a", "b"])' \
	"$TMP/tree.json" >/dev/null || fail "tr's argv was not recorded"
jq -e '[.execs[] | select(.error == null)][0] |
       .exe.path == "/usr/bin/dash" and (.exe.sha256 | length) == 64' \
	"$TMP/tree.json" >/dev/null ||
	fail "the root's executable was not recorded"

# make -j2 on three C files: one make, two compilers at a time, a link.
mkdir proj
for n in 1 2 3; do
	printf 'int f%d(void) { return %d; }\n' "$n" "$n" >"proj/f$n.c"
done
cat >proj/main.c <<'C'
int f1(void), f2(void), f3(void);
int main(void) { return f1() + f2() + f3() - 6; }
C
cat >proj/Makefile <<'M'
OBJ = main.o f1.o f2.o f3.o
prog: $(OBJ)
	cc -o prog $(OBJ)
%.o: %.c
	cc -c -o $@ $<
M
record "$TMP/make.rb" -- make -C proj -j2 -s
expect_recorded 0
[ -x proj/prog ] || fail "make did not build the program"
tree_json "$TMP/make.rb" "$TMP/tree.json"
expect_eq "make" "$(jq -r '.execs[-1].argv[0] | split("/") | last' \
	"$TMP/tree.json")" "the root"
# Five cc drivers, each under a sh -c or directly under make.
n_cc=$(jq '[.. | objects | select(has("execs")) | .execs[] |
	   select(.error == null) | .argv[0] | split("/") | last |
	   select(. == "cc")] | length' "$TMP/tree.json")
expect_eq 5 "$n_cc" "cc runs"
n_ld=$(jq '[.. | objects | select(has("execs")) | .execs[] |
	   select(.error == null) | .argv[0] | split("/") | last |
	   select(. == "ld" or . == "collect2")] | length' "$TMP/tree.json")
expect_eq 2 "$n_ld" "collect2 and ld of the link"
n_procs=$(jq '[.. | objects | select(has("execs"))] | length' \
	"$TMP/tree.json")
expect_eq "$n_procs" "$(last_data "$TMP/make.rb" end .counts.processes)" \
	"the process count"

# A daemon (a double fork and setsid) that outlives the agent is
# recorded, then killed when the agent ends.
# The daemon signals "up" once sleep has really been executed, so that
# the agent cannot end before the exec.
cat >daemon.sh <<'SH'
sleep 60 &
while [ "$(readlink /proc/$!/exe)" != /usr/bin/sleep ]; do :; done
touch up
wait
SH
record "$TMP/daemon.rb" -- sh -c '(setsid sh daemon.sh &)
	while [ ! -e up ]; do sleep 0.05; done'
expect_recorded 0
tree_json "$TMP/daemon.rb" "$TMP/tree.json"
expect_eq "KILL" "$(jq -r '.. | objects | select(has("execs")) |
	select([.execs[] | select(.error == null) | .argv] ==
	[["sleep", "60"]]) |
	.signal_name' "$TMP/tree.json")" "the daemon's end"

# A Python script that spawns children, one of them by vfork
# (posix_spawn); the shell's echo is a builtin in a forked subshell.
cat >spawn.py <<'P'
import os, subprocess
subprocess.run(["/bin/echo", "one"], check=True)
subprocess.run("echo two | cat", shell=True, check=True)
pid = os.posix_spawn("/bin/true", ["true", "three"], os.environ)
os.waitpid(pid, 0)
P
record "$TMP/py.rb" -- /usr/bin/python3 spawn.py
expect_recorded 0
expect_eq "one two" "$(tr '\n' ' ' <"$TMP/out" | sed 's/ $//')" \
	"the script's output"
want_shape='{"c":[{"c":[],"x":["echo"]},{"c":[],"x":["true"]},'
want_shape=$want_shape'{"c":[{"c":[],"x":[]},{"c":[],"x":["cat"]}],'
want_shape=$want_shape'"x":["sh"]}],"x":["python3"]}'
expect_shape "$TMP/py.rb" "$want_shape"
jq -e '.children[] | select(.execs[0].argv == ["true", "three"])' \
	"$TMP/tree.json" >/dev/null || fail "posix_spawn's argv was lost"

# The tracer loads no filter of its own in the sandbox, whose filter
# stops every exec for it: the agent has as many filters as under
# runbundle sandbox, and the execs are still traced.
sandboxed=$("$RB" sandbox -- grep Seccomp_filters /proc/self/status)
record "$TMP/filters.rb" -- sh -c 'grep Seccomp_filters /proc/self/status
	/bin/true'
expect_recorded 0
expect_eq "$sandboxed" "$(cat "$TMP/out")" "the agent's seccomp filters"
expect_shape "$TMP/filters.rb" \
	'{"c":[{"c":[],"x":["grep"]},{"c":[],"x":["true"]}],"x":["sh"]}'

# Background jobs still running when the agent ends are recorded as
# killed, whether the sandbox's init or the tracer kills them first.
# Otherwise a replay would differ from its recording in how they ended.
for n in 1 2 3; do
	record "$TMP/left$n.rb" -- sh -c \
		'for i in 1 2 3 4 5 6 7 8; do sleep 600 & done; exit 0'
	expect_recorded 0
	tree_json "$TMP/left$n.rb" "$TMP/tree.json"
	expect_eq "killed killed killed killed killed killed killed killed" \
		"$(jq -r '[.children[].end] | join(" ")' "$TMP/tree.json")" \
		"how the background jobs of recording $n ended"
done
exit 0
