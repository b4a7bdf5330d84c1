#!/bin/sh
# Start-up and teardown of `true` in runbundle's sandbox, against bare
# `true`, bubblewrap and unshare(1). Each row gives the median wall time
# of N runs (default 100) until the command exits, its ratio to bwrap,
# the median wall time until the sandbox is torn down, and the mean CPU
# time of the run and all its processes (user plus system, from
# wait4(2)). The kernel samples CPU time per tick, so one run's value is
# coarse, but the mean of many is not, and under load it is the steadier
# number.
#
# bwrap and `runbundle sandbox` both exit as soon as their sandbox's
# PID 1 reports the command's status, before the kernel has torn the
# namespaces down, and leave that PID 1 to the system's init (or a
# subreaper) to reap. bwrap 0.8.0 (Debian 12) reads the status from an
# eventfd, as `strace -f` shows. runbundle removes the part it created
# for the row "without .git" before it exits, without waiting for the
# teardown. So that the rows compare like for like, this script is a
# subreaper (PR_SET_CHILD_SUBREAPER): after each run it reaps the
# orphaned PID 1 too, before the next run starts. The CPU
# column counts that PID 1, and the column "until torn down" is the time
# until the last process of the run was reaped.
#
# `runbundle --version` shows the start-up of the executable alone. The
# last two rows time sandbox_launch() and sandbox_wait() inside one
# process (bench/sandbox_launch.c), without the start-up of the runbundle
# executable: as the recorder calls them, waiting for the teardown, and
# returning at the status, as `runbundle sandbox` does.
#
# As root the process limit goes into a cgroup v1 pids group, and as an
# ordinary user into an rlimit, so the numbers differ: bench/all.sh runs
# this script both ways.
#
# usage: bench/sandbox.sh [BUILD_DIR] [N]
set -eu

BUILD=$(realpath "${1:-build}")
RUNBUNDLE=$BUILD/runbundle
LAUNCH=$BUILD/bench/sandbox_launch_bench
N=${2:-100}
PY=/usr/bin/python3
ws=$(mktemp -d "${TMPDIR:-/tmp}/rbbench.XXXXXX")
trap 'rm -rf "$ws"' EXIT
# A workspace is usually a git repository, whose .git/hooks the default
# policy binds read-only. The row "without .git" shows the cost of
# creating that part for each run and removing it after.
mkdir -p "$ws/repo/.git/hooks" "$ws/empty"

. "$(dirname "$0")/lib.sh"
bench_require bwrap unshare

# The description of one run gives the mount table of runbundle's
# default policy, for the row "bwrap with runbundle's mounts".
(cd "$ws/repo" && "$RUNBUNDLE" sandbox --description "$ws/description" \
	-- true)

# One Python process times every run, so the timer's own start-up is
# not measured; runs of the peers are interleaved to share the noise.
$PY - "$N" "$ws" "$RUNBUNDLE" "$LAUNCH" <<'PYEOF'
import ctypes, json, os, statistics, subprocess, sys, time
n, ws, rb, launch = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]


def bwrap_mounts(description):
    """Translate runbundle's mount table into bwrap options, so that one
    row compares the two like for like on mounts. That row has no
    seccomp filter, Landlock ruleset, limits or cgroup, which runbundle
    sets up too. bwrap's --dev and --proc make the device nodes and the
    read-only parts of /proc that runbundle lists one by one, and a
    "pins" entry, which only keeps a directory in place, needs none."""
    args = []
    with open(description) as f:
        mounts = json.load(f)["mounts"]
    for m in mounts:
        path, kind, source = m["path"], m["type"], m.get("host_source")
        if kind == "proc":
            args += ["--proc", path]
        elif kind == "tmpfs" and path == "/dev":
            args += ["--dev", path]
        elif kind == "tmpfs" and path != "/":
            args += ["--tmpfs", path]
        elif kind == "symlink":
            args += ["--symlink", m["options"], path]
        elif kind in ("hidden", "exec-deny") and os.path.isdir(path):
            args += ["--tmpfs", path, "--remount-ro", path]
        elif kind in ("hidden", "exec-deny"):
            args += ["--ro-bind", "/dev/null", path]
        elif kind != "bind" or path.startswith("/dev/") or "pins" in m:
            continue
        elif m["options"].startswith("rw"):
            args += ["--bind", source or path, path]
        else:
            args += ["--ro-bind", source or path, path]
    return args


PR_SET_CHILD_SUBREAPER = 36
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
    sys.exit("bench: prctl(PR_SET_CHILD_SUBREAPER): %s" %
             os.strerror(ctypes.get_errno()))
cases = [
    ("true", ["true"]),
    ("unshare -Urnpf true", ["unshare", "-Urnpf", "true"]),
    ("bwrap --unshare-all --ro-bind / / true",
     ["bwrap", "--unshare-all", "--ro-bind", "/", "/", "true"]),
    ("bwrap with runbundle's mounts",
     ["bwrap", "--unshare-all", "--die-with-parent", "--hostname",
      "runbundle", "--chdir", ws + "/repo"] +
     bwrap_mounts(ws + "/description") + ["true"]),
    ("runbundle --version", [rb, "--version"]),
    ("runbundle sandbox -- true",
     [rb, "sandbox", "--workspace", ws + "/repo", "--", "true"]),
    ("runbundle sandbox -- true, without .git",
     [rb, "sandbox", "--workspace", ws + "/empty", "--", "true"]),
]
wall = {name: [] for name, _ in cases}
teardown = {name: [] for name, _ in cases}
cpu = {name: [] for name, _ in cases}
devnull = os.open(os.devnull, os.O_WRONLY)
os.chdir(ws)


def run(argv):
    """Run argv in ws; return its wall time until it exits and until its
    last orphan is reaped, and the CPU time of all of them, in s.
    posix_spawn() starts it with vfork semantics, so the CPU time of a
    forked copy of this interpreter is not counted."""
    start = time.perf_counter()
    pid = os.posix_spawnp(argv[0], argv, os.environ,
                          file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1)])
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("bench: %s failed with status %d" % (argv, status))
    used = usage.ru_utime + usage.ru_stime
    while True:
        try:
            _, _, usage = os.wait4(-1, 0)
        except ChildProcessError:
            break
        used += usage.ru_utime + usage.ru_stime
    return elapsed, time.perf_counter() - start, used


for _ in range(n):
    for name, argv in cases:
        elapsed, torn_down, used = run(argv)
        wall[name].append(elapsed)
        teardown[name].append(torn_down)
        cpu[name].append(used)
bwrap = statistics.median(wall[cases[2][0]])
load = open("/proc/loadavg").read().split()[:3]
print("%d runs each, load average %s before the last row." %
      (n, " ".join(load)))
print()
print("| command | median wall (ms) | ratio to bwrap "
      "| median wall until torn down (ms) | mean CPU (ms) |")
print("|---|---|---|---|---|")
for name, _ in cases:
    m = statistics.median(wall[name])
    print("| `%s` | %.2f | %.2f | %.2f | %.2f |" %
          (name, m * 1000, m / bwrap, statistics.median(teardown[name]) * 1000,
           statistics.mean(cpu[name]) * 1000))
for mode, label in (("teardown", "until torn down"),
                    ("status", "until the status")):
    ms = float(subprocess.run([launch, ws + "/repo", str(n), mode],
                              check=True, capture_output=True,
                              text=True).stdout)
    print("| `sandbox_launch()` + `sandbox_wait()` in one process, %s "
          "| %.2f | %.2f | | |" % (label, ms, ms / 1000 / bwrap))
print()
print("bwrap and runbundle sandbox return before their sandbox is torn "
      "down. The CPU column counts each sandbox's PID 1, which this "
      "script reaps as a subreaper.")
PYEOF
