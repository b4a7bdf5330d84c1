#!/bin/sh
# Limits in cgroup v2, in a virtual machine whose kernel mounts only
# cgroup v2, since a host with the pids and memory controllers on cgroup
# v1 never takes that path. The machine boots the host's kernel under
# QEMU's emulation with an initramfs of busybox and the runbundle under
# test. cgroup2_vm_init.sh runs the cases there: the root cgroup, with
# a command that the OOM killer ends at the memory limit, and a scope of
# runbundle's own (as systemd-run --scope gives). Then a recording in
# one, an ordinary user's delegated scope, and a cgroup shared with
# another process, which gets rlimits.
#
# Skipped without qemu-system-x86_64, busybox (busybox-static) or a
# kernel in /boot (linux-image-amd64).
. "$TESTS_DIR/lib.sh"

qemu=$(command -v qemu-system-x86_64) || skip "qemu-system-x86_64 is missing"
busybox=$(command -v busybox) || skip "busybox is missing"
kernel=$(ls /boot/vmlinuz-* 2>/dev/null | tail -n 1)
[ -r "$kernel" ] || skip "no readable kernel in /boot"
file -L "$busybox" 2>/dev/null | grep -q 'statically linked' ||
	skip "busybox is not statically linked"

root=$TMP/root
mkdir -p "$root/usr/bin" "$root/usr/lib" "$root/usr/lib64" "$root/etc"
for d in bin sbin; do ln -s usr/bin "$root/$d"; done
ln -s usr/lib "$root/lib"
ln -s usr/lib64 "$root/lib64"
cp "$busybox" "$root/usr/bin/busybox"
for applet in $("$busybox" --list); do
	[ -e "$root/usr/bin/$applet" ] || ln -s busybox "$root/usr/bin/$applet"
done

# runbundle, its commands module, and every library they load, at the
# host's paths.
module=$(dirname "$RUNBUNDLE")/runbundle-commands.so
cp "$RUNBUNDLE" "$module" "$root/usr/bin/"
for lib in $(ldd "$RUNBUNDLE" "$module" | awk '/=> \// { print $3 }
	/^\t\/[^ ]+ \(/ { print $1 }' | sort -u) \
	/lib/x86_64-linux-gnu/libcrypto.so.3; do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done
echo 'root:x:0:0::/root:/bin/sh' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"
cp "$TESTS_DIR/sandbox/cgroup2_vm_init.sh" "$root/init"
chmod 755 "$root/init"
(cd "$root" && find . | cpio -o -H newc 2>/dev/null | gzip -1) \
	>"$TMP/initramfs.gz"

timeout 400 "$qemu" -accel tcg -cpu max -m 1536 -smp 2 \
	-kernel "$kernel" -initrd "$TMP/initramfs.gz" -nographic -no-reboot \
	-nic none -append "console=ttyS0 rdinit=/init panic=-1 quiet" \
	</dev/null >"$TMP/console" 2>&1
tr -d '\r' <"$TMP/console" >"$TMP/out"

# check NAME: the value the machine printed for NAME.
check() {
	sed -n "s/^check $1: //p" "$TMP/out"
}

if [ "$(check done)" != yes ]; then
	tail -n 40 "$TMP/out" >&2
	fail "the virtual machine did not run the cases to the end"
fi
expect_eq yes "$(check root-limited)" "forks stopped by the limit, root cgroup"
expect_eq cgroup2 "$(check root-processes)" "process limit, root cgroup"
expect_eq cgroup2 "$(check root-memory)" "memory limit, root cgroup"
expect_eq 0 "$(check root-swap)" "swap of the run's cgroup"
expect_eq "sort 137" "$(check root-oom)" "a command over the memory limit"
expect_eq 1 "$(check root-oom-said)" "the memory limit named, sandbox"
expect_eq "1 process killed by the OOM killer" "$(check root-oom-report)" \
	"the memory limit in the report"
expect_eq 1 "$(check record-oom)" "the memory limit in a recording"
expect_eq "limits.memory_bytes (67108864) reached: 1 process killed by the \
OOM killer" "$(check record-oom-log)" "the memory limit in the log"
expect_eq yes "$(check scope-limited)" "forks stopped by the limit, scope"
expect_eq cgroup2 "$(check scope-processes)" "process limit, scope"
expect_eq 1 "$(check scope-agent)" "the command in the run's cgroup"
expect_eq "dirs=0 control='' procs=0" "$(check scope-left)" \
	"the scope after the run"
expect_eq yes "$(check record-limited)" "forks stopped by the limit, recording"
expect_eq "dirs=0 control='' procs=0" "$(check record-left)" \
	"the scope after the recording"
expect_eq 0 "$(check repeat-unlimited)" \
	"replays of --repeat whose command ran without the process limit"
expect_eq "dirs=0 control='' procs=0" "$(check repeat-left)" \
	"the scope after the replays"
expect_eq 0::/scope "$(check repeat-nolimit-cgroup)" \
	"the cgroup of a recorded command without limits"
expect_eq 1 "$(check repeat-nolimit)" \
	"replays without limits that match their recording"
expect_eq yes "$(check user-limited)" "forks stopped by the limit, user"
expect_eq cgroup2 "$(check user-processes)" "process limit, user's scope"
expect_eq "dirs=0 control='' procs=0" "$(check user-left)" \
	"the user's scope after the run"
expect_eq "rlimit (not enforced for root)" "$(check shared-processes)" \
	"process limit, cgroup shared with another process"
expect_eq 1 "$(check shared-note)" "the note that the limit is not enforced"
expect_eq "dirs=0 control=''" "$(check shared-left)" \
	"the shared cgroup after the run"
expect_eq "works su 126 mount 126 ls 0 " "$(check busybox-default)" \
	"the default policy with busybox's commands"
