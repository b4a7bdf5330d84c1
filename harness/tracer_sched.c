/*
 * tracer_sched.c - ask the scheduler for short slices while the tracer
 * loop runs.
 *
 * Every ptrace stop waits until the tracer thread runs, handles it in
 * tens of microseconds and sleeps again. Since Linux 6.12 a fair-class
 * thread may request a shorter slice (sched_attr.sched_runtime, at
 * least 100 us), which gives it earlier virtual deadlines, so that its
 * wakeups preempt a busy CPU sooner. It needs no privilege, and older
 * kernels ignore the field.
 *
 * That matters most when the agent runs in a session of its own, as in
 * the sandbox, whose init calls setsid. The session is a scheduling
 * autogroup of its own, so the tracer's wakeups compete with the
 * agent's whole group and with every other session on the machine.
 * This was measured on 2 shared CPUs at a load average of 14, with
 * "runbundle trace" on a shell loop of 1,000 execs of /bin/true. In a
 * new session the loop took 1.5 times as long (medians of 2530 ms
 * against 1720 ms), and this slice brought it back to 2180 ms.
 *
 * A caller allowed to lower nice values (root, or RLIMIT_NICE) also
 * gives the thread a nice value TRACER_NICE_BOOST lower than its own,
 * so that a stop is handled before the agent's busy processes run on.
 * Nothing the agent starts inherits it: the tracer thread creates no
 * process, and the root process exists before the loop begins.
 */
#include <linux/sched.h>
#include <linux/sched/types.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "harness/tracer_internal.h"

/* The shortest slice the kernel accepts, in nanoseconds. */
#define TRACER_SLICE_NS 100000

/* How much lower the tracer's nice value is than the caller's, where
 * the caller may lower it. */
#define TRACER_NICE_BOOST 10

static int get_attr(struct sched_attr *attr)
{
	memset(attr, 0, sizeof(*attr));
	return (int)syscall(SYS_sched_getattr, 0, attr, sizeof(*attr), 0);
}

static int set_attr(struct sched_attr *attr)
{
	return (int)syscall(SYS_sched_setattr, 0, attr, 0);
}

void tracer_sched_begin(struct tracer_sched *saved)
{
	struct sched_attr attr;

	saved->changed = false;
	if (get_attr(&attr) < 0)
		return;
	if (attr.sched_policy != SCHED_NORMAL &&
	    attr.sched_policy != SCHED_BATCH)
		return;
	saved->policy = attr.sched_policy;
	saved->nice = attr.sched_nice;
	saved->runtime = attr.sched_runtime;
	saved->flags = attr.sched_flags;

	/* No thread or process created from here on inherits the slice:
	 * SCHED_FLAG_RESET_ON_FORK gives it SCHED_NORMAL, the default
	 * slice, and nice 0 in place of a negative nice. */
	attr.size = sizeof(attr);
	attr.sched_runtime = TRACER_SLICE_NS;
	attr.sched_flags |= SCHED_FLAG_RESET_ON_FORK;
	attr.sched_nice = saved->nice - TRACER_NICE_BOOST;
	if (attr.sched_nice < -20)
		attr.sched_nice = -20;
	saved->changed = set_attr(&attr) == 0;
	if (saved->changed)
		return;

	/* Without the right to lower it, the nice value stays. */
	attr.sched_nice = saved->nice;
	saved->changed = set_attr(&attr) == 0;
}

void tracer_sched_end(const struct tracer_sched *saved)
{
	struct sched_attr attr = {
		.size = sizeof(attr),
		.sched_policy = saved->policy,
		.sched_nice = saved->nice,
		.sched_runtime = saved->runtime,
		.sched_flags = saved->flags,
	};

	if (saved->changed)
		set_attr(&attr);
}
