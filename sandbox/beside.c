/*
 * beside.c - the thread that works beside init: it makes the network
 * namespace while init assembles the root on another CPU.
 *
 * The network namespace costs more than the other five together: the
 * kernel registers a loopback device and its sysctl tables, an
 * estimated 0.35 ms of a 3 ms start on the benchmark machine (perf).
 * unshare(CLONE_NEWNET) moves only the calling thread, and init then
 * joins the namespace through the descriptor that the thread opened.
 * The sandbox's user namespace owns the new namespace, because the
 * thread is already inside it.
 *
 * A thread and not a child process, because a thread shares init's
 * descriptors and memory, so the namespace's descriptor and any error
 * reach init without a pipe. Each error is stored on the thread that
 * failed (error.h), so the thread keeps its error in the struct
 * (error_keep.c), and init takes it after pthread_join().
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sandbox/error.h"
#include "sandbox/internal.h"

/* The thread's stack in bytes: it has no recursion and no large
 * buffers. */
#define BESIDE_STACK (64 * 1024)

/*
 * Explain a failed unshare(CLONE_NEWNET). The user namespace exists by
 * then, so ENOSPC is a limit on network namespaces. The thread cannot
 * read which one: /proc/sys/user shows the limits of the new user
 * namespace, not those of the caller's that were reached.
 */
static void explain_netns(int err)
{
	sandbox_set_error("cannot create the network namespace: '%s': %s",
			  "unshare", strerror(err));
	if (err == ENOSPC)
		sandbox_set_hint("a limit on network namespaces is reached: "
				 "check user.max_net_namespaces (sysctl) "
				 "where runbundle runs, or run with "
				 "--sandbox none");
}

static int make_netns(struct sandbox_beside *s)
{
	if (unshare(CLONE_NEWNET) < 0) {
		explain_netns(errno);
		return -1;
	}
	if (sandbox_ns_loopback_up() < 0)
		return -1;
	/* The thread's own namespace, which /proc/self would not give. */
	s->netns_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (s->netns_fd >= 0)
		return 0;
	sandbox_set_error("cannot open the network namespace: '%s': %s",
			  "/proc/thread-self/ns/net", strerror(errno));
	return -1;
}

static void *work(void *arg)
{
	struct sandbox_beside *s = arg;

	if (make_netns(s) < 0)
		sandbox_error_keep(&s->error);
	return NULL;
}

/*
 * Start the thread on another CPU that the sandbox may use. A new
 * thread starts on its creator's CPU. The scheduler moved it to the
 * idle one only after about 0.5 ms in traces of the benchmark, and
 * until then init and the thread took turns. With one CPU allowed,
 * nothing changes.
 */
static void run_elsewhere(pthread_attr_t *attr)
{
	cpu_set_t set;
	int cpu = sched_getcpu();

	if (cpu < 0 || sched_getaffinity(0, sizeof(set), &set) < 0)
		return;
	CPU_CLR(cpu, &set);
	if (CPU_COUNT(&set) > 0)
		pthread_attr_setaffinity_np(attr, sizeof(set), &set);
}

int sandbox_beside_start(struct sandbox_beside *s)
{
	pthread_attr_t attr;
	int rc;

	memset(s, 0, sizeof(*s));
	s->netns_fd = -1;
	rc = pthread_attr_init(&attr);
	if (rc == 0) {
		pthread_attr_setstacksize(&attr, BESIDE_STACK);
		run_elsewhere(&attr);
		rc = pthread_create(&s->thread, &attr, work, s);
		pthread_attr_destroy(&attr);
	}
	if (rc == 0) {
		s->started = true;
		return 0;
	}
	sandbox_set_error("cannot start the sandbox: '%s': %s",
			  "thread beside init", strerror(rc));
	if (rc == EAGAIN)
		sandbox_set_hint("the process limit (ulimit -u) is reached: "
				 "the sandbox needs a thread and %d "
				 "processes of its own to start",
				 SANDBOX_MIN_PROCESSES);
	return -1;
}

int sandbox_beside_join(struct sandbox_beside *s)
{
	int rc = 0;

	if (s->started)
		pthread_join(s->thread, NULL);
	s->started = false;
	if (s->netns_fd < 0)
		return sandbox_error_restore(&s->error);
	if (setns(s->netns_fd, CLONE_NEWNET) < 0) {
		sandbox_set_error("cannot join the network namespace: "
				  "'%s': %s", "setns", strerror(errno));
		rc = -1;
	}
	close(s->netns_fd);
	s->netns_fd = -1;
	return rc;
}
