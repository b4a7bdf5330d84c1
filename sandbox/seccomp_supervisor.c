/*
 * seccomp_supervisor.c - the host-side thread that replies EPERM to each
 * notification of a denied call and records it as a violation, and lets
 * each reported call go on after inspecting it (seccomp_report.c).
 *
 * The thread polls the listener and a wake pipe. It stores a violation,
 * or passes an attempt to the callback, before it replies, so that once
 * the call has returned in the sandbox, the count already includes it.
 * It ends when stopped, or when the listener reports POLLHUP because no
 * process uses the filter any more.
 */
#include <errno.h>
#include <linux/seccomp.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <seccomp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/error.h"
#include "sandbox/seccomp_internal.h"

struct sandbox_seccomp_supervisor {
	int listener;		/* closed by the thread when it ends */
	size_t req_size;	/* buffer sizes the kernel asks for */
	size_t resp_size;
	int wake[2];		/* a byte on wake[1] stops the thread */
	struct seccomp_notif *req;	/* the thread's buffers, allocated
					 * before it starts */
	struct seccomp_notif_resp *resp;
	pthread_t thread;
	bool running;		/* the thread was started and not joined */

	sandbox_seccomp_violation_fn on_violation;
	void *arg;

	pthread_mutex_t lock;	/* guards the three below */
	struct sandbox_seccomp_violation *stored;	/* or NULL */
	size_t stored_count;
	size_t stored_capacity;
	_Atomic uint64_t count;
	_Atomic uint64_t attempts;
	struct sandbox_seccomp_attempt attempt;	/* the thread's scratch */
};

static void name_syscall(struct sandbox_seccomp_violation *v, uint32_t arch)
{
	char *name = seccomp_syscall_resolve_num_arch(arch, v->nr);

	if (name && strlen(name) < sizeof(v->syscall))
		snprintf(v->syscall, sizeof(v->syscall), "%s", name);
	else
		snprintf(v->syscall, sizeof(v->syscall), "syscall_%d", v->nr);
	free(name);
}

/*
 * Make room for one more stored violation, growing the array by
 * doubling up to SANDBOX_SECCOMP_MAX_STORED. Most runs have none, and
 * allocating all of it up front cost a run about 26 page faults.
 * Returns false when the array is full or cannot grow: the violation is
 * then only counted. Called with sup->lock held.
 */
static bool store_room(struct sandbox_seccomp_supervisor *sup)
{
	struct sandbox_seccomp_violation *grown;
	size_t capacity;

	if (sup->stored_count < sup->stored_capacity)
		return true;
	if (sup->stored_capacity == SANDBOX_SECCOMP_MAX_STORED)
		return false;
	capacity = sup->stored_capacity ? 2 * sup->stored_capacity : 16;
	if (capacity > SANDBOX_SECCOMP_MAX_STORED)
		capacity = SANDBOX_SECCOMP_MAX_STORED;
	grown = realloc(sup->stored, capacity * sizeof(*grown));
	if (!grown)
		return false;
	sup->stored = grown;
	sup->stored_capacity = capacity;
	return true;
}

static void record(struct sandbox_seccomp_supervisor *sup,
		   const struct seccomp_notif *req)
{
	struct sandbox_seccomp_violation v = {
		.pid = (pid_t)req->pid,
		.nr = req->data.nr,
		.error = EPERM,
	};

	memcpy(v.args, req->data.args, sizeof(v.args));
	name_syscall(&v, req->data.arch);

	pthread_mutex_lock(&sup->lock);
	if (store_room(sup))
		sup->stored[sup->stored_count++] = v;
	atomic_fetch_add(&sup->count, 1);
	pthread_mutex_unlock(&sup->lock);

	if (sup->on_violation)
		sup->on_violation(&v, sup->arg);
}

static void report(struct sandbox_seccomp_supervisor *sup,
		   const struct seccomp_notif *req)
{
	struct sandbox_seccomp_violation v = {
		.pid = (pid_t)req->pid,
		.nr = req->data.nr,
		.attempt = &sup->attempt,
	};

	if (!sandbox_seccomp_inspect(sup->listener, req, &sup->attempt))
		return;
	memcpy(v.args, req->data.args, sizeof(v.args));
	name_syscall(&v, req->data.arch);
	atomic_fetch_add(&sup->attempts, 1);
	if (sup->on_violation)
		sup->on_violation(&v, sup->arg);
}

/*
 * Receive and reply to one notification. Returns -1 when the listener
 * is unusable. ENOENT means the caller died, or was interrupted by a
 * signal, between the notification and the receive or the reply. The
 * ioctls are called directly because libseccomp 2.5 reports every
 * failure of its wrappers as ECANCELED, which hides ENOENT.
 */
static int handle_one(struct sandbox_seccomp_supervisor *sup,
		      struct seccomp_notif *req,
		      struct seccomp_notif_resp *resp)
{
	int rc;

	memset(req, 0, sup->req_size);
	rc = ioctl(sup->listener, SECCOMP_IOCTL_NOTIF_RECV, req);
	if (rc < 0)
		return (errno == ENOENT || errno == EINTR) ? 0 : -1;

	memset(resp, 0, sup->resp_size);
	resp->id = req->id;
	if (sandbox_seccomp_is_reported(&req->data)) {
		report(sup, req);
		resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	} else {
		record(sup, req);
		resp->error = -EPERM;
	}
	rc = ioctl(sup->listener, SECCOMP_IOCTL_NOTIF_SEND, resp);
	if (rc < 0 && errno != ENOENT && errno != EINTR)
		return -1;
	return 0;
}

/*
 * The kernel may use larger structures than these headers know, so the
 * buffers take the size it reports. They are allocated by the thread
 * that starts the supervisor, because a first malloc() on a new thread
 * sets up an arena of its own, which costs more than the rest of an
 * idle supervisor.
 */
static int alloc_buffers(struct sandbox_seccomp_supervisor *sup)
{
	struct seccomp_notif_sizes sizes = { 0 };

	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0)
		return -1;
	sup->req_size = sizes.seccomp_notif > sizeof(*sup->req) ?
		sizes.seccomp_notif : sizeof(*sup->req);
	sup->resp_size = sizes.seccomp_notif_resp > sizeof(*sup->resp) ?
		sizes.seccomp_notif_resp : sizeof(*sup->resp);
	sup->req = calloc(1, sup->req_size);
	sup->resp = calloc(1, sup->resp_size);
	return (sup->req && sup->resp) ? 0 : -1;
}

static void *supervise(void *data)
{
	struct sandbox_seccomp_supervisor *sup = data;
	struct pollfd fds[2] = {
		{ .fd = sup->listener, .events = POLLIN },
		{ .fd = sup->wake[0], .events = POLLIN },
	};

	for (;;) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (fds[1].revents)
			break;
		if (fds[0].revents & POLLIN) {
			if (handle_one(sup, sup->req, sup->resp) < 0)
				break;
		} else if (fds[0].revents & (POLLHUP | POLLERR | POLLNVAL)) {
			break;
		}
	}

	/* Closing the listener makes pending and later denied calls fail
	 * with ENOSYS instead of waiting for a reply that never comes. */
	close(sup->listener);
	sup->listener = -1;
	return NULL;
}

static struct sandbox_seccomp_supervisor *supervisor_new(int listener)
{
	struct sandbox_seccomp_supervisor *sup = calloc(1, sizeof(*sup));

	if (!sup)
		return NULL;
	sup->listener = listener;
	sup->wake[0] = sup->wake[1] = -1;
	pthread_mutex_init(&sup->lock, NULL);
	return sup;
}

struct sandbox_seccomp_supervisor *
sandbox_seccomp_supervisor_start(int listener,
				 sandbox_seccomp_violation_fn on_violation,
				 void *arg)
{
	struct sandbox_seccomp_supervisor *sup = supervisor_new(listener);
	int rc;

	if (!sup) {
		sandbox_set_error("cannot start seccomp supervisor: '%d': %s",
				  listener, strerror(ENOMEM));
		close(listener);
		return NULL;
	}
	sup->on_violation = on_violation;
	sup->arg = arg;
	if (alloc_buffers(sup) < 0) {
		sandbox_set_error("cannot start seccomp supervisor: '%s': %s",
				  "buffers", strerror(errno));
		sandbox_seccomp_supervisor_free(sup);
		return NULL;
	}
	if (pipe2(sup->wake, O_CLOEXEC) < 0) {
		sandbox_set_error("cannot start seccomp supervisor: '%s': %s",
				  "pipe2", strerror(errno));
		sandbox_seccomp_supervisor_free(sup);
		return NULL;
	}
	rc = pthread_create(&sup->thread, NULL, supervise, sup);
	if (rc != 0) {
		sandbox_set_error("cannot start seccomp supervisor: '%s': %s",
				  "pthread_create", strerror(rc));
		sandbox_seccomp_supervisor_free(sup);
		return NULL;
	}
	sup->running = true;
	return sup;
}

uint64_t sandbox_seccomp_supervisor_count(
	struct sandbox_seccomp_supervisor *sup)
{
	return atomic_load(&sup->count);
}

uint64_t sandbox_seccomp_supervisor_attempts(
	struct sandbox_seccomp_supervisor *sup)
{
	return atomic_load(&sup->attempts);
}

ssize_t sandbox_seccomp_supervisor_violations(
	struct sandbox_seccomp_supervisor *sup,
	struct sandbox_seccomp_violation **out)
{
	size_t count;

	*out = NULL;
	pthread_mutex_lock(&sup->lock);
	count = sup->stored_count;
	if (count > 0) {
		*out = malloc(count * sizeof(**out));
		if (*out)
			memcpy(*out, sup->stored, count * sizeof(**out));
	}
	pthread_mutex_unlock(&sup->lock);

	if (count > 0 && !*out) {
		sandbox_set_error("cannot copy seccomp violations: '%zu': %s",
				  count, strerror(ENOMEM));
		return -1;
	}
	return (ssize_t)count;
}

void sandbox_seccomp_supervisor_stop(struct sandbox_seccomp_supervisor *sup)
{
	if (sup->running) {
		ssize_t n;

		do
			n = write(sup->wake[1], "", 1);
		while (n < 0 && errno == EINTR);
		pthread_join(sup->thread, NULL);
		sup->running = false;
	}
	if (sup->listener >= 0) {
		close(sup->listener);
		sup->listener = -1;
	}
}

void sandbox_seccomp_supervisor_free(struct sandbox_seccomp_supervisor *sup)
{
	if (!sup)
		return;
	sandbox_seccomp_supervisor_stop(sup);
	for (int i = 0; i < 2; i++) {
		if (sup->wake[i] >= 0)
			close(sup->wake[i]);
	}
	pthread_mutex_destroy(&sup->lock);
	free(sup->req);
	free(sup->resp);
	free(sup->stored);
	free(sup);
}
