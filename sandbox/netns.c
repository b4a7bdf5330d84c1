/*
 * netns.c - the sandbox's network namespace, made beside the mounts.
 *
 * The network namespace costs more than the other five together: the
 * kernel registers a loopback device and its sysctl tables, an
 * estimated 0.35 ms of a 3 ms start on the benchmark machine (perf).
 * So a thread of init makes it and brings loopback up while init
 * assembles the root on another CPU. unshare(CLONE_NEWNET) moves only
 * the calling thread, and init then joins the namespace through the
 * descriptor that the thread opened. The sandbox's user namespace owns
 * the new namespace, because the thread is already inside it.
 *
 * A thread and not a child process, because a thread shares init's
 * descriptors and memory, so the namespace's descriptor and any error
 * reach init without a pipe.
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
#define NETNS_STACK (64 * 1024)

/*
 * Make the network namespace, in the thread. The thread's error is
 * stored on the thread, so it copies the message into n, which init
 * reads after pthread_join().
 */
static void *make_netns(void *arg)
{
	struct sandbox_netns *n = arg;
	const char *hint;

	if (unshare(CLONE_NEWNET) < 0) {
		sandbox_ns_explain(errno, "unshare");
		goto fail;
	}
	if (sandbox_ns_loopback_up() < 0)
		goto fail;
	/* The thread's own namespace, which /proc/self would not give. */
	n->fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (n->fd >= 0)
		return NULL;
	sandbox_set_error("cannot open the network namespace: '%s': %s",
			  "/proc/thread-self/ns/net", strerror(errno));
fail:
	hint = sandbox_error_hint();
	snprintf(n->error, sizeof(n->error), "%s", sandbox_error());
	snprintf(n->hint, sizeof(n->hint), "%s", hint ? hint : "");
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

int sandbox_netns_start(struct sandbox_netns *n)
{
	pthread_attr_t attr;
	int rc;

	n->fd = -1;
	n->started = false;
	n->error[0] = n->hint[0] = '\0';
	rc = pthread_attr_init(&attr);
	if (rc == 0) {
		pthread_attr_setstacksize(&attr, NETNS_STACK);
		run_elsewhere(&attr);
		rc = pthread_create(&n->thread, &attr, make_netns, n);
		pthread_attr_destroy(&attr);
	}
	if (rc != 0) {
		sandbox_set_error("cannot start the sandbox: '%s': %s",
				  "network namespace", strerror(rc));
		return -1;
	}
	n->started = true;
	return 0;
}

int sandbox_netns_join(struct sandbox_netns *n)
{
	int rc = 0;

	if (n->started)
		pthread_join(n->thread, NULL);
	n->started = false;
	if (n->fd < 0) {
		sandbox_set_error("%s", n->error);
		if (n->hint[0])
			sandbox_set_hint("%s", n->hint);
		return -1;
	}
	if (setns(n->fd, CLONE_NEWNET) < 0) {
		sandbox_set_error("cannot join the network namespace: "
				  "'%s': %s", "setns", strerror(errno));
		rc = -1;
	}
	close(n->fd);
	n->fd = -1;
	return rc;
}
