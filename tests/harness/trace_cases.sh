#!/bin/sh
# runbundle trace on the hard cases: threads, a thread that execs, vfork
# and posix_spawn, execveat and fexecve, a script whose interpreter is a
# symlink, a daemon, a zombie, a long argv, a stopped process group, PID
# namespaces, and a script run in a chroot.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/harness/trace_lib.sh"

H=$TRACE_HELPER
helper=$(basename "$H")
true_path=$(readlink -f /bin/true)

# Threads are not processes.
trace_json "$TMP/threads.json" "$H" threads 8
expect_eq 0 "$status" "threads exit status"
expect_shape "$TMP/threads.json" "{\"c\":[],\"x\":[\"$helper\"]}"

# A thread that is not the leader execs: the same process goes on with
# the new program, and no thread shows up as a process.
trace_json "$TMP/texec.json" "$H" thread-exec /bin/echo from-thread
expect_eq 0 "$status" "thread-exec exit status"
expect_grep '^from-thread$' "$TMP/cmd.out"
expect_shape "$TMP/texec.json" "{\"c\":[],\"x\":[\"$helper\",\"echo\"]}"
jq_eq "$TMP/texec.json" '.execs[1].argv | join(" ")' '/bin/echo from-thread'
jq_eq "$TMP/texec.json" '.end + " " + (.exit_code | tostring)' 'exited 0'

# vfork and posix_spawn: the child runs (and execs) before its parent
# returns from the call.
for how in vfork spawn; do
	trace_json "$TMP/$how.json" "$H" $how /bin/true
	expect_eq 0 "$status" "$how exit status"
	expect_shape "$TMP/$how.json" \
		"{\"c\":[{\"c\":[],\"x\":[\"true\"]}],\"x\":[\"$helper\"]}"
	jq_eq "$TMP/$how.json" '.children[0].execs[0].exe.path' "$true_path"
done

# execveat with AT_EMPTY_PATH, and fexecve: the path is the descriptor's.
for how in execveat fexecve; do
	trace_json "$TMP/$how.json" "$H" $how /bin/true
	expect_eq 0 "$status" "$how exit status"
	expect_shape "$TMP/$how.json" "{\"c\":[],\"x\":[\"$helper\",\"true\"]}"
	jq_eq "$TMP/$how.json" '.execs[1].error' null
	jq_eq "$TMP/$how.json" '.execs[1].resolved' "$true_path"
	jq_eq "$TMP/$how.json" '.execs[1].exe.sha256' \
		"$(sha256sum "$true_path" | cut -d' ' -f1)"
done
jq_eq "$TMP/execveat.json" '.execs[1].empty_path' true

# An argv array that is not aligned, across a page end: the kernel runs
# the program, so the exec is recorded with its arguments.
trace_json "$TMP/misaligned.json" "$H" misaligned /bin/echo not-hidden
expect_eq 0 "$status" "misaligned exit status"
expect_grep '^not-hidden$' "$TMP/cmd.out"
jq_eq "$TMP/misaligned.json" '.execs[1].argv | join(" ")' \
	'/bin/echo not-hidden'

# Argument strings in a page of memfd_secret: the kernel copies them,
# but process_vm_readv cannot read them at the seccomp stop. The program
# runs with them, so the record must show them.
"$H" unreadable-args /bin/true probe >/dev/null 2>&1 && secret_ok=1 ||
	secret_ok=0
if [ "$secret_ok" = 1 ]; then
	trace_json "$TMP/unreadable.json" "$H" unreadable-args /bin/echo \
		not-hidden
	expect_eq 0 "$status" "unreadable-args exit status"
	expect_grep '^not-hidden$' "$TMP/cmd.out"
	jq_eq "$TMP/unreadable.json" '.execs[1].argv | join(" ")' \
		'/bin/echo not-hidden'
fi

# An argument that another thread rewrites while the process execs:
# the record must show what the program got, in every run. Before the
# tracer took a successful exec's strings from the new stack, about one
# run in eight recorded the other value.
i=0
while [ $i -lt 50 ]; do
	trace_json "$TMP/race.json" "$H" racing-argv
	expect_eq "$(cat "$TMP/cmd.out")" \
		"$(jq -r '.execs[1].argv[1]' "$TMP/race.json")" \
		"run $i: the argument the program got"
	i=$((i + 1))
done

# A script whose #! interpreter is a symlink: the exe is the real
# interpreter, and the script is recorded with its own hash.
mkdir "$TMP/bin"
ln -s /bin/sh "$TMP/bin/mysh"
printf '#!%s -e\necho from-script\n' "$TMP/bin/mysh" >"$TMP/script"
chmod 755 "$TMP/script"
trace_json "$TMP/script.json" "$TMP/script"
expect_eq 0 "$status" "script exit status"
expect_grep '^from-script$' "$TMP/cmd.out"
jq_eq "$TMP/script.json" '.execs[0].interpreter' "$TMP/bin/mysh"
jq_eq "$TMP/script.json" '.execs[0].exe.path' "$(readlink -f /bin/sh)"
jq_eq "$TMP/script.json" '.execs[0].script.path' "$(readlink -f "$TMP/script")"
jq_eq "$TMP/script.json" '.execs[0].script.sha256' \
	"$(sha256sum "$TMP/script" | cut -d' ' -f1)"

# A script whose interpreter is missing fails with ENOENT, as a missing
# file does. The failed exec names that interpreter; a missing file has
# none.
printf '#!%s/bin/none\n' "$TMP" >"$TMP/orphan"
chmod 755 "$TMP/orphan"
trace_json "$TMP/orphan.json" sh -c "$TMP/orphan; $TMP/absent; exit 0"
jq_eq "$TMP/orphan.json" '.children[0].execs[0].error' ENOENT
jq_eq "$TMP/orphan.json" '.children[0].execs[0].interpreter' "$TMP/bin/none"
jq_eq "$TMP/orphan.json" '.children[1].execs[0].error' ENOENT
jq_eq "$TMP/orphan.json" '.children[1].execs[0] | has("interpreter")' false

# An empty path names no file, so nothing is resolved from the cwd.
trace_json "$TMP/empty.json" /usr/bin/python3 -c 'import os
try:
    os.execv("", ["x"])
except OSError:
    pass'
jq_eq "$TMP/empty.json" '.execs[1].error' ENOENT
jq_eq "$TMP/empty.json" '.execs[1].path' ''
jq_eq "$TMP/empty.json" '.execs[1].resolved' null

# The kernel gives a script's interpreter its own argv: the interpreter
# and the script's path replace argv[0]. The record keeps the call's
# argv, with the caller's argv[0], through two "#!" and through fexecve.
printf '#!%s\n' "$TMP/script" >"$TMP/outer"
chmod 755 "$TMP/outer"
trace_json "$TMP/script-as.json" "$H" exec-as "$TMP/outer" given '' 'a b'
expect_eq 0 "$status" "exec-as exit status"
jq_eq "$TMP/script-as.json" '.execs[1].argv | @json' '["given","","a b"]'
jq_eq "$TMP/script-as.json" '.execs[1].interpreter' "$TMP/script"
trace_json "$TMP/script-fd.json" "$H" fexecve "$TMP/script" x
expect_eq 0 "$status" "fexecve of a script exit status"
jq_eq "$TMP/script-fd.json" '.execs[1].argv | @json' \
	"[\"$TMP/script\",\"x\"]"

# A daemon (double fork, setsid) outlives the traced command: it is
# recorded, then killed at the end, and trace does not wait for it.
trace_json "$TMP/daemon.json" "$H" daemon /bin/sleep 600
expect_eq 0 "$status" "daemon exit status"
expect_shape "$TMP/daemon.json" \
	"{\"c\":[{\"c\":[{\"c\":[],\"x\":[\"sleep\"]}],\"x\":[]}],\
\"x\":[\"$helper\"]}"
jq_eq "$TMP/daemon.json" '.children[0].children[0].end' killed
jq_eq "$TMP/daemon.json" '.children[0].children[0].signal_name' KILL
jq_eq "$TMP/daemon.json" '.children[0].end' exited
daemon_pid=$(jq '.children[0].children[0].pid' "$TMP/daemon.json")
state=$(cut -d')' -f2 "/proc/$daemon_pid/stat" 2>/dev/null | cut -c2 || true)
case $state in
""|Z) ;;	# gone, or dead and waiting for init to reap it
*) fail "the daemon still runs (state $state)" ;;
esac

# A process whose leader thread has exited while another thread runs
# on is killed at the end like any other, without a wait for it.
trace_json "$TMP/leader.json" "$H" leader-exits
expect_eq 0 "$status" "leader-exits exit status"
jq_eq "$TMP/leader.json" '.children[0].end' killed
jq_eq "$TMP/leader.json" '.children[0].signal_name' KILL

# A vfork parent whose child neither execs nor exits stops for nothing
# until then. Both are killed at the end, without a wait for the child.
trace_json "$TMP/vfork-waits.json" "$H" vfork-waits
expect_eq 0 "$status" "vfork-waits exit status"
jq_eq "$TMP/vfork-waits.json" '.children[0].end' killed
jq_eq "$TMP/vfork-waits.json" '.children[0].children[0].end' killed

# A zombie: the child's exit is recorded although its parent never
# reaps it.
trace_json "$TMP/zombie.json" "$H" zombie
expect_eq 0 "$status" "zombie exit status"
jq_eq "$TMP/zombie.json" \
	'.children[0].end + " " + (.children[0].exit_code | tostring)' \
	'exited 7'

# An argv of 200 KB: every argument, every byte.
trace_json "$TMP/long.json" "$H" long-argv 2000
expect_eq 0 "$status" "long-argv exit status"
jq_eq "$TMP/long.json" '.execs[1].argv | length' 2001
jq_eq "$TMP/long.json" '[.execs[1].argv[1:][] | length] | add' 200000
letter=$(echo abcdefghijklmnopqrstuvwxyz | cut -c$((2000 % 26 + 1)))
jq_eq "$TMP/long.json" '.execs[1].argv[2000]' \
	"$(printf '%100s' '' | tr ' ' "$letter")"

# A stopped process group stays stopped until SIGCONT: group-stops are
# resumed with PTRACE_LISTEN, not PTRACE_CONT.
trace_json "$TMP/stop.json" "$H" stop-group
expect_eq 0 "$status" "stop-group exit status"
expect_grep '^stopped and continued$' "$TMP/cmd.out"
jq_eq "$TMP/stop.json" '[.children[] | .signal_name] | join(",")' TERM,TERM

# Python spawning children: subprocess (vfork in CPython 3.11), fork plus
# exec, and a shell.
cat >"$TMP/spawn.py" <<'PY'
import os, subprocess
subprocess.run(["/bin/echo", "from-subprocess"], check=True)
pid = os.fork()
if pid == 0:
    os.execv("/bin/true", ["true", "from-fork"])
os.waitpid(pid, 0)
subprocess.run("exit 0", shell=True, check=True)
PY
trace_json "$TMP/py.json" /usr/bin/python3 "$TMP/spawn.py"
expect_eq 0 "$status" "python exit status"
want_shape='{"c":[{"c":[],"x":["echo"]},{"c":[],"x":["sh"]},'
want_shape=$want_shape'{"c":[],"x":["true"]}],"x":["python3"]}'
expect_shape "$TMP/py.json" "$want_shape"
jq_eq "$TMP/py.json" '[.children[].execs[0].argv[-1]] | join(",")' \
	'from-subprocess,from-fork,exit 0'
# A program overwritten in place between two runs: the second exec is
# hashed again, although its stat data is looked up in the cache first.
cp /bin/true "$TMP/prog"
true_sum=$(sha256sum "$TMP/prog" | cut -d' ' -f1)
trace_json "$TMP/rewrite.json" sh -c "'$TMP/prog'; cat /bin/false >'$TMP/prog'
	'$TMP/prog'; exit 0"
expect_eq 0 "$status" "rewrite exit status"
jq_eq "$TMP/rewrite.json" '.children[0].execs[0].exe.sha256' "$true_sum"
jq_eq "$TMP/rewrite.json" '.children[2].execs[0].exe.sha256' \
	"$(sha256sum "$TMP/prog" | cut -d' ' -f1)"

# New user and PID namespaces: each process is recorded with its host
# pid and with the pid it saw, from /proc/PID/status NSpid.
if unshare --user --map-root-user --pid --fork true 2>/dev/null; then
	trace_json "$TMP/ns.json" unshare --user --map-root-user --pid \
		--fork --mount-proc sh -c '/bin/echo $$'
	expect_eq 0 "$status" "unshare exit status"
	expect_grep '^1$' "$TMP/cmd.out"
	want_shape='{"c":[{"c":[{"c":[],"x":["echo"]}],"x":["sh"]}],'
	want_shape=$want_shape'"x":["unshare"]}'
	expect_shape "$TMP/ns.json" "$want_shape"
	jq_eq "$TMP/ns.json" '.children[0].ns_pid' 1
	jq_eq "$TMP/ns.json" '.children[0].ns_pids | length' 2
	jq_eq "$TMP/ns.json" '.children[0].ns_pids[0] == .children[0].pid' true
	jq_eq "$TMP/ns.json" '.children[0].children[0].ns_pid' 2
fi

# A process in the tracer's own PID namespace has its pid alone.
jq_eq "$TMP/py.json" '[.children[] | .ns_pids == [.pid]] | all' true

# A script run in a chroot, between execs in the host's root: its path
# resolves in the root of the process that runs it, each time.
root=$TMP/root
for f in /bin/sh $(ldd /bin/sh | grep -o '/[^ ]*'); do
	mkdir -p "$root$(dirname "$f")"
	cp -L "$f" "$root$f"
done
printf '#!/bin/sh\necho in-root\n' >"$root/run-me"
chmod 755 "$root/run-me"
trace_json "$TMP/chroot.json" sh -c \
	'/bin/true; chroot "$1" /run-me; /bin/true; chroot "$1" /run-me' \
	sh "$root"
expect_eq 0 "$status" "chroot exit status"
expect_eq "in-root
in-root" "$(cat "$TMP/cmd.out")" "output of the chrooted script"
for i in 1 3; do
	jq_eq "$TMP/chroot.json" ".children[$i].execs[1].interpreter" /bin/sh
	jq_eq "$TMP/chroot.json" ".children[$i].execs[1].script.path" \
		"$(readlink -f "$root/run-me")"
	jq_eq "$TMP/chroot.json" ".children[$i].execs[1].script.sha256" \
		"$(sha256sum "$root/run-me" | cut -d' ' -f1)"
done
jq_eq "$TMP/chroot.json" '.children[2].execs[0].exe.path' "$true_path"

# Relative paths in the chroot that leave their directory, through an
# absolute symlink or a ".." at the top, continue from the chroot's
# root too, which the tracer's own root does not have.
mkdir "$root/sub" "$root/scripts"
ln -s /scripts "$root/sub/link"
cp "$root/run-me" "$root/scripts/run-rel"
trace_json "$TMP/chroot_rel.json" chroot "$root" /bin/sh -c \
	'cd /sub && ./link/run-rel && cd / && ../../run-me'
expect_eq 0 "$status" "chroot relative exit status"
scripts='[.. | .execs? // empty | .[] | select(.script.path != null) |
	.script.path + " " + .script.sha256] | sort | join(",")'
rel=$(readlink -f "$root/scripts/run-rel")
top=$(readlink -f "$root/run-me")
sum=$(sha256sum "$root/run-me" | cut -d' ' -f1)
expected=$(printf '%s %s\n%s %s\n' "$rel" "$sum" "$top" "$sum" | sort |
	paste -sd,)
jq_eq "$TMP/chroot_rel.json" "$scripts" "$expected"

# A cwd outside the chroot (a chroot without chdir): ".." climbs the
# real tree, and the script is the one that ran.
mkdir -p "$TMP/outside/x"
printf '#!/bin/sh\necho outside\n' >"$TMP/outside/run-out"
chmod 755 "$TMP/outside/run-out"
(cd "$TMP/outside/x" && trace_json "$TMP/outside.json" /usr/bin/python3 -c '
import os, sys
os.chroot(sys.argv[1])
os.execv("../run-out", ["../run-out"])' "$root")
expect_eq outside "$(cat "$TMP/cmd.out")" "output of the outside script"
jq_eq "$TMP/outside.json" \
	'[.. | .execs? // empty | .[] | select(.path == "../run-out") |
	.script.path] | .[0]' "$(readlink -f "$TMP/outside/run-out")"

# A mount over a directory above the cwd: ".." from the cwd stays on the
# mount the cwd is on, not on the one its path now leads to.
m=$TMP/over
mkdir -p "$m"
trace_json "$TMP/over.json" unshare -m sh -c '
	m=$1
	mount -t tmpfs first "$m" && mkdir -p "$m/d1/d2" "$m/d1/sub2" &&
	printf "#!/bin/sh\\necho first\\n" >"$m/d1/sub2/run" &&
	chmod 755 "$m/d1/sub2/run" && mount -t tmpfs second "$m/d1/sub2" &&
	printf "#!/bin/sh\\necho second\\n" >"$m/d1/sub2/run" &&
	chmod 755 "$m/d1/sub2/run" && cd "$m/d1/d2" &&
	mount --bind "$m" "$m" && ../sub2/run' sh "$m"
expect_eq second "$(cat "$TMP/cmd.out")" "output of the mounted script"
jq_eq "$TMP/over.json" \
	'[.. | .execs? // empty | .[] | select(.path == "../sub2/run") |
	.script.sha256] | .[0]' \
	"$(printf '#!/bin/sh\necho second\n' | sha256sum | cut -d' ' -f1)"

# Another process swaps the directories of a relative path while the
# tracer looks it up: the recorded script is always the one that ran.
s=$TMP/swap
mkdir -p "$s/p/X" "$s/p/Y" "$s/good" "$s/bad"
ln -s "$s/good" "$s/p/X/link"
ln -s "$s/bad" "$s/p/Y/link"
for d in good bad; do
	printf '#!/bin/sh\necho %s\n' "$d" >"$s/$d/run"
	chmod 755 "$s/$d/run"
done
(cd "$s" && exec "$H" swap-dirs p/X p/Y) &
swapper=$!
mismatches=0
i=0
while [ $i -lt 30 ]; do
	(cd "$s" && trace_json "$TMP/swap.json" sh -c \
		'cd p/X && exec ./link/run')
	ran=$(cat "$TMP/cmd.out")
	recorded=$(jq -r '.. | .execs? // empty | .[] |
		select(.path == "./link/run") | .script.path' "$TMP/swap.json")
	[ "$recorded" = "$s/$ran/run" ] || mismatches=$((mismatches + 1))
	i=$((i + 1))
done
kill "$swapper"
wait "$swapper" 2>/dev/null || true
expect_eq 0 "$mismatches" "scripts recorded other than the one that ran"

# Another process replaces the script itself, with one of another
# interpreter: the recorded hash and interpreter belong to the script
# that ran, or are unknown.
r=$TMP/replace
mkdir "$r"
printf '#!/bin/sh\necho A\n' >"$r/a.sh"
printf '#!/bin/bash\necho B\n' >"$r/b.sh"
chmod 755 "$r/a.sh" "$r/b.sh"
cp "$r/a.sh" "$r/s.sh"
(cd "$r" && exec /usr/bin/python3 -c '
import os
while True:
    for name in ("a.sh", "b.sh"):
        os.link(name, "t.sh")
        os.replace("t.sh", "s.sh")') &
replacer=$!
(cd "$r" && trace_json "$TMP/replace.json" sh -c \
	'i=0; while [ $i -lt 100 ]; do ./s.sh; i=$((i + 1)); done')
kill "$replacer"
wait "$replacer" 2>/dev/null || true
a=$(sha256sum "$r/a.sh" | cut -d' ' -f1)
b=$(sha256sum "$r/b.sh" | cut -d' ' -f1)
expect_eq 0 "$(jq --arg a "$a" --arg b "$b" '[.. | .execs? // empty | .[] |
	select(.path == "./s.sh") | select(
	(.script.sha256 == $a and .interpreter != "/bin/sh") or
	(.script.sha256 == $b and .interpreter != "/bin/bash") or
	(.interpreter == "/bin/sh" and (.exe.path | endswith("bash"))) or
	(.interpreter == "/bin/bash" and (.exe.path | endswith("bash") |
	not)))] | length' "$TMP/replace.json")" \
	"scripts whose hash or interpreter is not the one that ran"

# The tracer's thread requests the shortest slice while it traces, and
# the traced processes keep the default slice. /proc/PID/sched shows
# the slice from Linux 6.12 on.
if grep -qs '^se\.slice' /proc/self/sched; then
	default_slice=$(awk '/^se\.slice/ { print $3 }' /proc/self/sched)
	trace_json "$TMP/slice.json" sh -c \
		'awk "/^se\\.slice/ { print \$3 }" /proc/$PPID/sched \
		/proc/self/sched'
	expect_eq 0 "$status" "slice exit status"
	expect_eq "100000
$default_slice" "$(cat "$TMP/cmd.out")" "slices of the tracer and a tracee"
fi
