#!/bin/sh
# Signals to the command's process while the sandbox starts it. Without
# a terminal that process is in runbundle's process group from the
# moment init starts it, so a SIGTERM to the group reached it before it
# ran the command. runbundle then ended the start with "unexpected
# message from the sandbox", in about one run of 30. Such a signal must
# act on the command instead: runbundle exits with 143 (or 0 with
# --sandbox none, where the process leaves the group at once). A
# SIGKILL, which no process can hold back, must end the start with a
# message that names it, or kill the command (137). Neither leaves a
# process, created part or cgroup behind. In both modes, as root and as
# the test user.
. "$TESTS_DIR/lib.sh"
ATTACK=/bin/true
. "$TESTS_DIR/sandbox/escape_lib.sh"

# signal_runs TERM|KILL RUNS COMMAND...: run COMMAND, which starts
# runbundle, RUNS times, each in a process group of its own.
#   TERM: send SIGTERM to the group over and over until init has one
#         pending, which it forwards to the command's process, and then
#         one to that process alone, which gets it in its setup or
#         later. runbundle starts with SIGTERM blocked, and keeps it so,
#         so that the signals reach the sandbox's processes only. Init
#         counts a SIGTERM more than 100 ms after the first as a second
#         one, which kills the command. With --sandbox none, init waits
#         for signals while the command's process sets up, so a group
#         signal sent that late failed the run, as under ASan on a busy
#         machine.
#   KILL: send SIGKILL to the command's process as soon as it shows,
#         the child of init, which is runbundle's child.
# Prints one line per run that failed: its status, what it left and its
# messages.
signal_runs() {
	/usr/bin/python3 - "$@" <<'PY'
import glob, os, signal, subprocess, sys, time

KILLED = ("runbundle: cannot start the command: 'SIGKILL': its process "
          "ended before the command ran")

def start(name):
    if name == "TERM":
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    os.setpgid(0, 0)

def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []

def has_pending(pid, sig):
    """Whether process pid has sig pending, which it blocks."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("ShdPnd:"):
                    return int(line.split()[1], 16) >> (sig - 1) & 1
    except OSError:
        pass
    return False

def term(run):
    # Init takes a SIGTERM only after it started the command's process.
    # A signal sent while init has neither one pending nor a child thus
    # cannot come after the one it takes.
    while run.poll() is None:
        if any(has_pending(init, signal.SIGTERM) or children(init)
               for init in children(run.pid)):
            break
        try:
            os.killpg(run.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
    while run.poll() is None:
        for init in children(run.pid):
            for agent in children(init):
                try:
                    os.kill(agent, signal.SIGTERM)
                except ProcessLookupError:
                    pass
                return

def kill(run):
    while run.poll() is None:
        for init in children(run.pid):
            for agent in children(init):
                os.kill(agent, signal.SIGKILL)
                return

def running(pgid):
    """Whether a process of the group runs. One that has exited counts
    as gone: init outlives runbundle, and its new parent, PID 1, may
    take a while to reap it."""
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] not in "ZX":
            return True
    return False

def gone(pgid):
    """Whether no process of the group runs, within 5 s: init may
    outlive runbundle for a moment."""
    for _ in range(100):
        if not running(pgid):
            return True
        time.sleep(0.05)
    return False

def cgroups(pid):
    """The cgroups of runbundle PID left, which are children of ours
    (sandbox/limits.c)."""
    with open("/proc/self/cgroup") as f:
        paths = {line.rstrip("\n").split(":", 2)[2] for line in f}
    found = []
    for mount in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified",
                  "/sys/fs/cgroup/pids"):
        for path in paths:
            base = "%s/runbundle-%d" % ((mount + path).rstrip("/"), pid)
            found += glob.glob(base) + glob.glob(base + "-*")
    return found

def leftovers(pid):
    found = "" if gone(pid) else ", a process is left"
    for cgroup in cgroups(pid):
        found += ", %s is left" % cgroup
    return found

name, runs, argv = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
good = {"TERM": {(0, ""), (143, "")},
        "KILL": {(137, ""), (125, KILLED)}}[name]
for _ in range(runs):
    run = subprocess.Popen(argv, preexec_fn=lambda: start(name),
                           stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if name == "TERM":
        term(run)
    else:
        kill(run)
    err = run.stderr.read().decode().strip().replace("\n", " | ")
    status = run.wait()
    left = leftovers(run.pid)
    if (status, err) not in good or left:
        print("status %d%s: %s" % (status, left, err))
PY
}

for who in $IDENTITIES; do
	ws=$(workspace "$who")
	if [ "$who" = user ] && [ "$(id -u)" -eq 0 ]; then
		set -- setpriv --reuid="$TEST_USER" --regid="$TEST_USER" \
			--init-groups -- "$UNPRIV_RUNBUNDLE"
	else
		set -- "$RUNBUNDLE"
	fi
	for mode in namespaces none; do
		for sig in TERM KILL; do
			rm -rf "$ws/.git"
			(cd "$ws" && signal_runs "$sig" 20 "$@" sandbox \
				--workspace "$ws" --sandbox "$mode" -- \
				sleep 0.2) >"$TMP/failed"
			if [ -s "$TMP/failed" ]; then
				cat "$TMP/failed" >&2
				fail "$who $mode: $(wc -l <"$TMP/failed") of" \
					"20 runs failed under SIG$sig"
			fi
			[ ! -e "$ws/.git" ] ||
				fail "$who $mode: a run under SIG$sig left .git"
		done
	done
done
exit 0
