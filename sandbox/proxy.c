/*
 * proxy.c - the egress proxy's life cycle: listeners, the acceptor
 * thread, the tunnel threads it starts and joins, and the violations.
 *
 * sandbox_proxy_stop() writes one byte to the stop pipe and never reads
 * it back. So the pipe stays readable, and every thread, the acceptor
 * and each tunnel, notices the stop at its next wait.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sandbox/error.h"
#include "sandbox/proxy_internal.h"

struct sandbox_proxy *sandbox_proxy_new(sandbox_proxy_violation_fn
					on_violation, void *arg)
{
	struct sandbox_proxy *proxy = calloc(1, sizeof(*proxy));

	if (proxy)
		proxy->stored = calloc(SANDBOX_PROXY_MAX_STORED,
				       sizeof(*proxy->stored));
	if (!proxy || !proxy->stored) {
		free(proxy);
		sandbox_set_error("cannot create egress proxy: '%s': %s",
				  "memory", strerror(ENOMEM));
		return NULL;
	}
	proxy->stop_pipe[0] = proxy->stop_pipe[1] = -1;
	proxy->on_violation = on_violation;
	proxy->arg = arg;
	proxy->head_ms = SANDBOX_PROXY_HEAD_TIMEOUT * 1000;
	proxy->connect_ms = SANDBOX_PROXY_CONNECT_TIMEOUT * 1000;
	pthread_mutex_init(&proxy->lock, NULL);
	pthread_cond_init(&proxy->slot_free, NULL);
	return proxy;
}

int sandbox_proxy_add_listener(struct sandbox_proxy *proxy, int fd)
{
	int flags = fcntl(fd, F_GETFL);

	if (proxy->running ||
	    proxy->listener_count == SANDBOX_PROXY_MAX_LISTENERS) {
		sandbox_set_error("cannot add proxy listener: '%d': %s", fd,
				  proxy->running ? "the proxy is running"
						 : "too many listeners");
		close(fd);
		return -1;
	}
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		sandbox_set_error("cannot add proxy listener: '%d': %s", fd,
				  strerror(errno));
		close(fd);
		return -1;
	}
	proxy->listeners[proxy->listener_count++] = fd;
	return 0;
}

static void sanitize(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src);
	for (char *p = dst; *p; p++) {
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	}
}

void proxy_record_violation(struct sandbox_proxy *proxy, const char *host,
			    unsigned port, const char *reason)
{
	struct sandbox_proxy_violation v = { .port = port };

	sanitize(v.host, sizeof(v.host), host);
	snprintf(v.reason, sizeof(v.reason), "%s", reason);

	pthread_mutex_lock(&proxy->lock);
	if (proxy->stored_count < SANDBOX_PROXY_MAX_STORED)
		proxy->stored[proxy->stored_count++] = v;
	atomic_fetch_add(&proxy->violations, 1);
	pthread_mutex_unlock(&proxy->lock);

	if (proxy->on_violation)
		proxy->on_violation(&v, proxy->arg);
}

/* Join and free the tunnels whose threads have ended. Called with the
 * lock held. */
static void reap(struct sandbox_proxy *proxy, bool all)
{
	struct tunnel **link = &proxy->tunnels;

	while (*link) {
		struct tunnel *t = *link;

		if (!all && !atomic_load(&t->done)) {
			link = &t->next;
			continue;
		}
		*link = t->next;
		pthread_mutex_unlock(&proxy->lock);
		pthread_join(t->thread, NULL);
		free(t);
		pthread_mutex_lock(&proxy->lock);
	}
}

static void start_tunnel(struct sandbox_proxy *proxy, int client)
{
	struct tunnel *t = calloc(1, sizeof(*t));

	if (!t) {
		close(client);
		return;
	}
	t->proxy = proxy;
	t->client = client;
	t->upstream = -1;

	pthread_mutex_lock(&proxy->lock);
	if (pthread_create(&t->thread, NULL, proxy_tunnel_main, t) != 0) {
		pthread_mutex_unlock(&proxy->lock);
		close(client);
		free(t);
		return;
	}
	t->next = proxy->tunnels;
	proxy->tunnels = t;
	proxy->active++;
	pthread_mutex_unlock(&proxy->lock);
}

/* Wait for a free tunnel slot. Returns false when the proxy stops. */
static bool wait_for_slot(struct sandbox_proxy *proxy)
{
	bool ok;

	pthread_mutex_lock(&proxy->lock);
	reap(proxy, false);
	while (proxy->active >= SANDBOX_PROXY_MAX_TUNNELS && !proxy->stopping)
		pthread_cond_wait(&proxy->slot_free, &proxy->lock);
	ok = !proxy->stopping;
	pthread_mutex_unlock(&proxy->lock);
	return ok;
}

static void accept_ready(struct sandbox_proxy *proxy,
			 const struct pollfd *fds)
{
	for (size_t i = 0; i < proxy->listener_count; i++) {
		int client;

		if (!(fds[i].revents & POLLIN))
			continue;
		client = accept4(proxy->listeners[i], NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (client < 0)
			continue;
		atomic_fetch_add(&proxy->accepted, 1);
		start_tunnel(proxy, client);
	}
}

static void *acceptor_main(void *data)
{
	struct sandbox_proxy *proxy = data;
	struct pollfd fds[SANDBOX_PROXY_MAX_LISTENERS + 1];
	size_t n = proxy->listener_count;

	for (size_t i = 0; i < n; i++)
		fds[i] = (struct pollfd){ .fd = proxy->listeners[i],
					  .events = POLLIN };
	fds[n] = (struct pollfd){ .fd = proxy->stop_pipe[0], .events = POLLIN };

	while (wait_for_slot(proxy)) {
		if (poll(fds, n + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (fds[n].revents)
			break;
		accept_ready(proxy, fds);
	}
	return NULL;
}

int sandbox_proxy_set_timeouts(struct sandbox_proxy *proxy,
			       unsigned head_ms, unsigned connect_ms)
{
	if (proxy->running || head_ms == 0 || connect_ms == 0) {
		sandbox_set_error("cannot set proxy timeouts: '%u ms, %u ms': "
				  "%s", head_ms, connect_ms,
				  proxy->running ? "the proxy is running"
						 : "a timeout of 0");
		return -1;
	}
	proxy->head_ms = head_ms;
	proxy->connect_ms = connect_ms;
	return 0;
}

int sandbox_proxy_start(struct sandbox_proxy *proxy)
{
	int rc;

	if (proxy->running || proxy->stopping) {
		sandbox_set_error("cannot start egress proxy: '%s': %s",
				  "state", proxy->running ? "already running"
				  : "a stopped proxy cannot start again");
		return -1;
	}
	if (pipe2(proxy->stop_pipe, O_CLOEXEC) < 0) {
		sandbox_set_error("cannot start egress proxy: '%s': %s",
				  "pipe2", strerror(errno));
		return -1;
	}
	rc = pthread_create(&proxy->acceptor, NULL, acceptor_main, proxy);
	if (rc != 0) {
		sandbox_set_error("cannot start egress proxy: '%s': %s",
				  "pthread_create", strerror(rc));
		return -1;
	}
	proxy->running = true;
	return 0;
}

void sandbox_proxy_stop(struct sandbox_proxy *proxy)
{
	ssize_t n;

	if (!proxy->running)
		return;
	pthread_mutex_lock(&proxy->lock);
	proxy->stopping = true;
	pthread_cond_broadcast(&proxy->slot_free);
	pthread_mutex_unlock(&proxy->lock);
	do
		n = write(proxy->stop_pipe[1], "", 1);
	while (n < 0 && errno == EINTR);

	pthread_join(proxy->acceptor, NULL);
	pthread_mutex_lock(&proxy->lock);
	reap(proxy, true);
	pthread_mutex_unlock(&proxy->lock);
	proxy->running = false;
}

void sandbox_proxy_stats(struct sandbox_proxy *proxy,
			 struct sandbox_proxy_stats *out)
{
	out->accepted = atomic_load(&proxy->accepted);
	out->tunnels = atomic_load(&proxy->tunnels_made);
	out->connects = atomic_load(&proxy->connects);
	out->violations = atomic_load(&proxy->violations);
}

ssize_t sandbox_proxy_violations(struct sandbox_proxy *proxy,
				 struct sandbox_proxy_violation **out)
{
	size_t count;

	*out = NULL;
	pthread_mutex_lock(&proxy->lock);
	count = proxy->stored_count;
	if (count > 0) {
		*out = malloc(count * sizeof(**out));
		if (*out)
			memcpy(*out, proxy->stored, count * sizeof(**out));
	}
	pthread_mutex_unlock(&proxy->lock);

	if (count > 0 && !*out) {
		sandbox_set_error("cannot copy proxy violations: '%zu': %s",
				  count, strerror(ENOMEM));
		return -1;
	}
	return (ssize_t)count;
}

void sandbox_proxy_free(struct sandbox_proxy *proxy)
{
	if (!proxy)
		return;
	sandbox_proxy_stop(proxy);
	for (size_t i = 0; i < proxy->listener_count; i++)
		close(proxy->listeners[i]);
	for (int i = 0; i < 2; i++) {
		if (proxy->stop_pipe[i] >= 0)
			close(proxy->stop_pipe[i]);
	}
	pthread_cond_destroy(&proxy->slot_free);
	pthread_mutex_destroy(&proxy->lock);
	free(proxy->allow);
	free(proxy->stored);
	free(proxy);
}
