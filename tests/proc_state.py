# proc_state.py - the scheduling state of processes, for the tests that
# stop and continue runbundle with job control signals.
import time


def state(pid):
    """The state letter of /proc/PID/stat: R, S, D, T and so on."""
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def settle(pids, stopped):
    """Return the states of pids once each is stopped (or each is not),
    or as they are after 30 s. A stop or a continue takes effect only
    once the process runs, and one in a system call finishes it first,
    which took over 5 s when several test suites shared 2 CPUs, and
    over 10 s in uninterruptible sleep (D) under heavy disk writes."""
    for _ in range(600):
        states = tuple(state(p) for p in pids)
        if all((s == "T") == stopped for s in states):
            break
        time.sleep(0.05)
    return states
