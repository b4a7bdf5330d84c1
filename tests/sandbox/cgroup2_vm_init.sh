#!/bin/sh
# The init of the virtual machine that cgroup2_vm.sh boots: a kernel
# with only cgroup v2, busybox and the runbundle under test. Prints one
# "check NAME: VALUE" line for each fact the test compares, then powers
# the machine off.

# An initramfs cannot be pivoted from, so the first stage copies itself
# to a tmpfs and switches to it.
if [ "$$" = 1 ] && [ ! -e /stage2 ]; then
	mount -t proc proc /proc
	mkdir /newroot && mount -t tmpfs -o size=600m root /newroot
	for d in usr bin sbin lib lib64 etc init; do cp -a "/$d" /newroot/; done
	mkdir -p /newroot/proc /newroot/sys /newroot/dev /newroot/tmp \
		/newroot/opt /newroot/home /newroot/root /newroot/run
	touch /newroot/stage2
	umount /proc
	exec switch_root /newroot /init
fi

mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mount -t cgroup2 none /sys/fs/cgroup
cg=/sys/fs/cgroup
echo "+pids +memory" >$cg/cgroup.subtree_control
echo 'rb:x:1000:1000::/tmp:/bin/sh' >>/etc/passwd
echo 'rb:x:1000:' >>/etc/group
cat >/tmp/p.json <<'J'
{"version": 1, "exec": {"deny": []},
 "limits": {"processes": 20, "memory_bytes": "64M"}}
J
chmod 644 /tmp/p.json
mkdir /tmp/ws && chown rb:rb /tmp/ws && cd /tmp/ws

# Sixty sleeps against a limit of 20: the shell stops at the first fork
# that the limit refuses.
bomb='for i in $(seq 60); do sleep 2 & done 2>/dev/null; echo started; wait'

# via FILE LIMIT: how LIMIT was applied, from the description in FILE.
via() {
	grep -A2 "\"$2\":" "$1" | sed -n 's/.*"via":[^"]*"\([^"]*\)".*/\1/p'
}

# left DIR: what the run left in DIR: its runbundle directories, the
# controllers it enables, and its processes. The shell's own command
# substitutions count in the last, so a cgroup that contains the shell
# shows more than one.
left() {
	echo "dirs=$(ls "$1" | grep -c runbundle)" \
		"control='$(cat "$1/cgroup.subtree_control")'" \
		"procs=$(wc -l <"$1/cgroup.procs")"
}

# limit_hit FILE: yes when the run's output reports forks that the
# process limit stopped: the sandbox names the limit, a recording counts
# the violation.
limit_hit() {
	grep -qE "process limit|, 1 policy violation$" "$1" && echo yes ||
		echo no
}

# 1: in the root cgroup, where pids and memory are enabled already.
runbundle sandbox --policy /tmp/p.json --description /tmp/d1.json \
	-- sh -c "$bomb" >/tmp/o1 2>&1
echo "check root-limited: $(limit_hit /tmp/o1)"
echo "check root-processes: $(via /tmp/d1.json processes)"
echo "check root-memory: $(via /tmp/d1.json memory_bytes)"
# The run's cgroup while its command sleeps: memory.max alone would let
# the command swap out what goes past it, so swap is off there. The
# cgroup exists before its limits are written, and the command enters it
# after, so the check waits for the command.
runbundle sandbox --policy /tmp/p.json -- sleep 30 >/tmp/o1b 2>&1 &
swap=
for i in $(seq 100); do
	if [ -n "$(cat $cg/runbundle-*/cgroup.procs 2>/dev/null)" ]; then
		swap=$(cat $cg/runbundle-*/memory.swap.max)
		break
	fi
	sleep 0.2
done
echo "check root-swap: $swap"
kill -TERM $! && wait $!

# A sort over the memory limit, which the OOM killer ends, while the
# command itself exits 0. runbundle names the limit in its messages and
# its report, and a recording stores it as a violation.
oom='head -c 300000000 /dev/zero | sort >/dev/null; echo "sort $?"'
runbundle sandbox --policy /tmp/p.json --description /tmp/d2.json \
	-- sh -c "$oom" >/tmp/o2 2>&1
echo "check root-oom: $(grep sort /tmp/o2)"
said="^runbundle: policy violation: memory limit: '67108864': 1 process"
echo "check root-oom-said: $(grep -c "$said killed by the OOM killer" \
	/tmp/o2)"
echo "check root-oom-report: $(tr -d '\t\n' </tmp/d2.json | sed -n \
	's/.*"kind":"limit","what":"memory_bytes","why":"\([^"]*\)".*/\1/p')"
mkdir /tmp/wsm && cd /tmp/wsm
runbundle record -o /tmp/m.rb --policy /tmp/p.json -- sh -c "$oom" \
	>/tmp/o2b 2>&1
cd /tmp/ws
runbundle inspect /tmp/m.rb >/tmp/o2c 2>&1
echo "check record-oom: $(grep -c '^  limit: limits.memory_bytes' /tmp/o2c)"
runbundle log /tmp/m.rb >/tmp/o2d 2>&1
echo "check record-oom-log: $(grep -o 'limits.memory_bytes .*' /tmp/o2d)"

# 2: alone in a scope, as under systemd-run --scope -p Delegate=yes.
mkdir $cg/scope
sh -c "echo \$\$ >$cg/scope/cgroup.procs; exec runbundle sandbox \
	--policy /tmp/p.json --description /tmp/d3.json \
	-- sh -c 'cat /proc/self/cgroup; $bomb'" >/tmp/o3 2>&1
echo "check scope-limited: $(limit_hit /tmp/o3)"
echo "check scope-processes: $(via /tmp/d3.json processes)"
echo "check scope-agent: $(grep -c '^0::/scope/runbundle-[0-9]*$' /tmp/o3)"
echo "check scope-left: $(left $cg/scope)"

# 3: a recording alone in a scope: the relay and the recorder both move.
sh -c "echo \$\$ >$cg/scope/cgroup.procs; exec runbundle record \
	-o /tmp/r.rb --policy /tmp/p.json -- sh -c '$bomb'" >/tmp/o4 2>&1
echo "check record-limited: $(limit_hit /tmp/o4)"
echo "check record-left: $(left $cg/scope)"

# 4: its replay, run twice at once: the workers that replay it find
# the move made by their parent. When one runs without the limit, the
# command's sixty sleeps all end with status 0.
sh -c "echo \$\$ >$cg/scope/cgroup.procs; exec runbundle replay \
	--trust-policy --repeat 2 /tmp/r.rb" >/tmp/o4b 2>&1
echo "check repeat-unlimited: $(grep -c 'exit 0 2 times' /tmp/o4b)"
echo "check repeat-left: $(left $cg/scope)"

# 4b: a run without process or memory limits. Its replays leave the
# cgroup as it is, so each agent writes the cgroup that the recorded
# agent wrote, and the replays match the recording.
cat >/tmp/n.json <<'J'
{"version": 1, "exec": {"deny": []}, "limits": {"processes": 0}}
J
chmod 644 /tmp/n.json
mkdir /tmp/ws0
sh -c "cd /tmp/ws0; echo \$\$ >$cg/scope/cgroup.procs; exec runbundle \
	record -o /tmp/n.rb --policy /tmp/n.json \
	-- sh -c 'cat /proc/self/cgroup >cg.txt'" >/tmp/o4c 2>&1
sh -c "echo \$\$ >$cg/scope/cgroup.procs; exec runbundle replay \
	--trust-policy --repeat 2 /tmp/n.rb" >/tmp/o4d 2>&1
echo "check repeat-nolimit: $(grep -c ': 2 identical,' /tmp/o4d)"
echo "check repeat-nolimit-cgroup: $(cat /tmp/ws0/cg.txt)"

# 5: an ordinary user in a scope delegated to it.
mkdir $cg/user
chown rb:rb $cg/user $cg/user/cgroup.procs $cg/user/cgroup.subtree_control
su rb -s /bin/sh -c "sleep 1; exec runbundle sandbox --policy /tmp/p.json \
	--description /tmp/d5.json -- sh -c '$bomb'" >/tmp/o5 2>&1 &
echo $! >$cg/user/cgroup.procs
wait $!
echo "check user-limited: $(limit_hit /tmp/o5)"
echo "check user-processes: $(via /tmp/d5.json processes)"
echo "check user-left: $(left $cg/user)"

# 6: in a cgroup that contains another process too: rlimits.
mkdir $cg/shared && echo $$ >$cg/shared/cgroup.procs
runbundle sandbox --policy /tmp/p.json --description /tmp/d6.json \
	-- true >/tmp/o6 2>&1
echo "check shared-processes: $(via /tmp/d6.json processes)"
note='^note: limits.processes is not enforced'
echo "check shared-note: $(grep -c "$note" /tmp/o6)"
echo "check shared-left: $(left $cg/shared | cut -d' ' -f1-2)"
echo $$ >$cg/cgroup.procs

# 7: the default policy on a busybox system, whose su, mount and chroot
# are links to /usr/bin/busybox. The denied names are covered, and the
# shell and the other commands that busybox serves still run. This
# busybox's shell runs an applet named without a path itself, with no
# exec to deny, so the commands name their paths.
runbundle sandbox -- sh -c 'echo works
	/usr/bin/su -c true 2>/dev/null; echo "su $?"
	/bin/mount >/dev/null 2>&1; echo "mount $?"
	ls / >/dev/null; echo "ls $?"' >/tmp/o7 2>&1
echo "check busybox-default: $(grep -E '^(works|su|mount|ls)' /tmp/o7 |
	tr '\n' ' ')"

for f in /tmp/o*; do sed "s|^|output ${f#/tmp/}: |" "$f"; done
echo "check done: yes"
poweroff -f
