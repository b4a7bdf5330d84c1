/*
 * proxy_tunnel.c - the thread of one egress proxy client.
 *
 * A tunnel thread goes through these states, and every early exit
 * closes both sockets:
 *
 *	HEAD      read the request head, with a deadline
 *	CHECK     match the allowlist, resolve, check every address
 *	CONNECT   connect to a checked address, with a deadline per address
 *	RELAY     copy bytes both ways until both sides are closed
 *
 * Every wait polls the proxy's stop pipe too. getaddrinfo() is the one
 * wait that cannot watch it.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/proxy_internal.h"
#include "sandbox/proxy_request.h"

#define RELAY_BUFFER 65536
#define LINGER_MS 2000		/* draining a rejected client's input */
#define LINGER_BYTES (256 * 1024)

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Wait until fd has events, the deadline (CLOCK_MONOTONIC ms, or -1 for
 * none) passes, or the proxy stops. Returns 1 when ready, 0 on timeout,
 * -1 on stop or error.
 */
static int wait_fd(struct sandbox_proxy *proxy, int fd, short events,
		   int64_t deadline)
{
	for (;;) {
		struct pollfd fds[2] = {
			{ .fd = fd, .events = events },
			{ .fd = proxy->stop_pipe[0], .events = POLLIN },
		};
		int timeout = -1;
		int rc;

		if (deadline >= 0) {
			int64_t left = deadline - now_ms();

			if (left <= 0)
				return 0;
			timeout = left > 60000 ? 60000 : (int)left;
		}
		rc = poll(fds, 2, timeout);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0 || fds[1].revents)
			return -1;
		if (fds[0].revents)
			return 1;
	}
}

static void write_all(struct sandbox_proxy *proxy, int fd, const char *buf,
		      size_t len)
{
	int64_t deadline = now_ms() + proxy->head_ms;

	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN &&
		    wait_fd(proxy, fd, POLLOUT, deadline) == 1)
			continue;
		return;
	}
}

static void reply(struct tunnel *t, const char *status, const char *why)
{
	char buf[512];
	char body[160];
	int body_len = snprintf(body, sizeof(body), "runbundle proxy: %s\n",
				why);
	int len = snprintf(buf, sizeof(buf),
			   "HTTP/1.1 %s\r\n"
			   "Content-Type: text/plain\r\n"
			   "Content-Length: %d\r\n"
			   "Connection: close\r\n"
			   "\r\n%s", status, body_len, body);

	write_all(t->proxy, t->client, buf, (size_t)len);
}

/*
 * Close the sending side and drain what the client still sends, for a
 * bounded time and amount. Closing a socket with unread input makes the
 * kernel send a reset, which can destroy the error reply before the
 * client has read it.
 */
static void linger(struct tunnel *t)
{
	int64_t deadline = now_ms() + LINGER_MS;
	size_t drained = 0;
	char buf[4096];

	shutdown(t->client, SHUT_WR);
	while (drained < LINGER_BYTES &&
	       wait_fd(t->proxy, t->client, POLLIN, deadline) == 1) {
		ssize_t n = recv(t->client, buf, sizeof(buf), 0);

		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break;
		drained += (size_t)n;
	}
}

static void reject(struct tunnel *t, const char *status, const char *host,
		   unsigned port, const char *reason)
{
	proxy_record_violation(t->proxy, host, port, reason);
	reply(t, status, reason);
	linger(t);
}

/*
 * Read the head into buf (SANDBOX_PROXY_MAX_HEAD bytes). Returns the
 * bytes read with req parsed, or -1 after replying (or on a client that
 * closed before sending anything).
 */
static ssize_t read_head(struct tunnel *t, char *buf,
			 struct proxy_request *req)
{
	int64_t deadline = now_ms() + t->proxy->head_ms;
	size_t len = 0;

	memset(req, 0, sizeof(*req));
	for (;;) {
		enum proxy_parse rc;
		ssize_t n;
		int ready = wait_fd(t->proxy, t->client, POLLIN, deadline);

		if (ready < 0)
			return -1;
		if (ready == 0) {
			reject(t, "408 Request Timeout", req->target, 0,
			       "request head timed out");
			return -1;
		}
		n = recv(t->client, buf + len, SANDBOX_PROXY_MAX_HEAD - len, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			/* A closed connection sends no more, so the target
			 * at the end of its head is whole. */
			if (n == 0)
				proxy_request_ended(buf, len, req);
			if (len > 0)
				proxy_record_violation(
					t->proxy, req->target, 0,
					"incomplete request head");
			return -1;
		}
		len += (size_t)n;
		rc = proxy_request_parse(buf, len, req);
		if (rc == PROXY_PARSE_OK)
			return (ssize_t)len;
		/* A rejected request keeps the target it sent, when its
		 * request line got that far, so the record shows it. */
		if (rc == PROXY_PARSE_MALFORMED) {
			reject(t, "400 Bad Request", req->target, 0,
			       req->error);
			return -1;
		}
		if (rc == PROXY_PARSE_TOO_LARGE) {
			reject(t, "431 Request Header Fields Too Large",
			       req->target, 0, req->error);
			return -1;
		}
	}
}

/* Resolve the entry's name and store its addresses. Returns the count,
 * or -1 with a reason. */
static int resolve(const struct allow_entry *e, struct proxy_address *out,
		   int max, const char **reason)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICSERV,
	};
	struct addrinfo *res = NULL;
	char service[8];
	int count = 0;

	if (e->is_literal || e->pinned) {
		out[0] = e->is_literal ? e->literal : e->pin;
		return 1;
	}
	snprintf(service, sizeof(service), "%u", e->port);
	if (getaddrinfo(e->host, service, &hints, &res) != 0 || !res) {
		*reason = "name does not resolve";
		return -1;
	}
	for (struct addrinfo *ai = res; ai && count < max; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(out[count].ss))
			continue;
		memset(&out[count], 0, sizeof(out[count]));
		memcpy(&out[count].ss, ai->ai_addr, ai->ai_addrlen);
		out[count].len = ai->ai_addrlen;
		count++;
	}
	freeaddrinfo(res);
	if (count == 0)
		*reason = "name has no usable address";
	return count > 0 ? count : -1;
}

/* Connect to addr with a deadline. Returns the socket, or -1. */
static int connect_one(struct tunnel *t, const struct proxy_address *addr)
{
	int64_t deadline = now_ms() + t->proxy->connect_ms;
	int fd = socket(addr->ss.ss_family,
			SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int err = 0;
	socklen_t err_len = sizeof(err);

	if (fd < 0)
		return -1;
	atomic_fetch_add(&t->proxy->connects, 1);
	if (connect(fd, (const struct sockaddr *)&addr->ss, addr->len) == 0)
		return fd;
	if (errno != EINPROGRESS ||
	    wait_fd(t->proxy, fd, POLLOUT, deadline) != 1 ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len) < 0 ||
	    err != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Steps CHECK and CONNECT. Returns the upstream socket, or -1 after
 * replying. */
static int open_upstream(struct tunnel *t, const struct proxy_request *req)
{
	struct proxy_address addrs[16];
	struct allow_entry key;
	char shown[260];
	struct allow_entry *e;
	const char *reason = NULL;
	int count;

	/* Brackets keep "host:port" readable for an IPv6 literal. */
	snprintf(shown, sizeof(shown), req->host_is_ipv6 ? "[%s]" : "%s",
		 req->host);
	memset(&key, 0, sizeof(key));
	snprintf(key.host, sizeof(key.host), "%s", req->host);
	key.port = req->port;
	key.is_literal = proxy_address_parse(req->host, req->port,
					     &key.literal);
	if (!key.is_literal && req->host_is_ipv6) {
		reject(t, "400 Bad Request", shown, req->port,
		       "invalid IPv6 address");
		return -1;
	}
	if (!key.is_literal)
		proxy_normalize_name(key.host);
	e = proxy_find_entry(t->proxy, &key);
	if (!e) {
		reject(t, "403 Forbidden", shown, req->port,
		       key.is_literal ? "IP address not on the allowlist"
				      : "host not on the allowlist");
		return -1;
	}

	/* A lookup that fails is the network's fault, not the agent's, so
	 * it gets 502 and is no violation. */
	count = resolve(e, addrs, 16, &reason);
	if (count < 0) {
		reply(t, "502 Bad Gateway", reason);
		return -1;
	}
	for (int i = 0; i < count && !reason; i++)
		reason = proxy_address_forbidden(&addrs[i], e->loopback_ok);
	if (reason) {
		char why[96];

		snprintf(why, sizeof(why), "%s%s",
			 e->is_literal ? "" : "name resolves to ",
			 reason);
		reject(t, "403 Forbidden", shown, req->port, why);
		return -1;
	}

	for (int i = 0; i < count; i++) {
		int fd = connect_one(t, &addrs[i]);

		if (fd >= 0)
			return fd;
	}
	reply(t, "502 Bad Gateway", "cannot connect to the destination");
	return -1;
}

/* One direction of the relay. */
struct pipe_state {
	int from;
	int to;
	char *buf;
	size_t len;
	size_t off;
	bool eof;	/* from sent EOF; to was shut down once drained */
};

static int pump_in(struct pipe_state *p)
{
	ssize_t n = recv(p->from, p->buf, RELAY_BUFFER, 0);

	if (n < 0)
		return (errno == EINTR || errno == EAGAIN) ? 0 : -1;
	if (n == 0) {
		p->eof = true;
		shutdown(p->to, SHUT_WR);
		return 0;
	}
	p->len = (size_t)n;
	p->off = 0;
	return 0;
}

static int pump_out(struct pipe_state *p)
{
	ssize_t n = send(p->to, p->buf + p->off, p->len - p->off,
			 MSG_NOSIGNAL);

	if (n < 0)
		return (errno == EINTR || errno == EAGAIN) ? 0 : -1;
	p->off += (size_t)n;
	if (p->off == p->len)
		p->len = p->off = 0;
	return 0;
}

static void set_events(struct pollfd *fd, const struct pipe_state *p,
		       struct pollfd *to)
{
	if (p->len == 0 && !p->eof)
		fd->events |= POLLIN;
	if (p->len > 0)
		to->events |= POLLOUT;
}

/* Step RELAY: copy both ways without blocking, so a peer that does not
 * read cannot stop the other direction. */
static void relay(struct tunnel *t, char *up_buf, char *down_buf)
{
	struct pipe_state up = { t->client, t->upstream, up_buf, 0, 0, false };
	struct pipe_state down = { t->upstream, t->client, down_buf, 0, 0,
				   false };

	while (!(up.eof && down.eof)) {
		struct pollfd fds[3] = {
			{ .fd = t->client },
			{ .fd = t->upstream },
			{ .fd = t->proxy->stop_pipe[0], .events = POLLIN },
		};

		set_events(&fds[0], &up, &fds[1]);
		set_events(&fds[1], &down, &fds[0]);
		if (poll(fds, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (fds[2].revents || (fds[0].revents & (POLLERR | POLLNVAL)) ||
		    (fds[1].revents & (POLLERR | POLLNVAL)))
			return;
		/* POLLHUP means this end can be neither read nor written,
		 * so once its input is drained nothing is left to do. */
		if (((fds[0].revents & POLLHUP) && up.eof) ||
		    ((fds[1].revents & POLLHUP) && down.eof))
			return;
		if ((fds[0].events & POLLIN) &&
		    (fds[0].revents & (POLLIN | POLLHUP)) && pump_in(&up) < 0)
			return;
		if ((fds[1].events & POLLIN) &&
		    (fds[1].revents & (POLLIN | POLLHUP)) && pump_in(&down) < 0)
			return;
		if ((fds[1].revents & POLLOUT) && pump_out(&up) < 0)
			return;
		if ((fds[0].revents & POLLOUT) && pump_out(&down) < 0)
			return;
	}
}

static void serve(struct tunnel *t, char *bufs)
{
	static const char established[] =
		"HTTP/1.1 200 Connection established\r\n\r\n";
	struct proxy_request req;
	ssize_t len = read_head(t, bufs, &req);
	int upstream;

	if (len < 0)
		return;
	if (!req.is_connect) {
		reject(t, "403 Forbidden", req.target, 0,
		       "only CONNECT is served: plain HTTP is not forwarded");
		return;
	}
	upstream = open_upstream(t, &req);
	if (upstream < 0)
		return;

	t->upstream = upstream;
	atomic_fetch_add(&t->proxy->tunnels_made, 1);

	write_all(t->proxy, t->client, established, sizeof(established) - 1);
	/* Bytes the client sent after the head, such as a TLS ClientHello,
	 * belong to the tunnel. */
	write_all(t->proxy, upstream, bufs + req.head_len,
		  (size_t)len - req.head_len);
	relay(t, bufs, bufs + RELAY_BUFFER);
}

void *proxy_tunnel_main(void *data)
{
	struct tunnel *t = data;
	struct sandbox_proxy *proxy = t->proxy;
	char *bufs = malloc(2 * RELAY_BUFFER);

	if (bufs)
		serve(t, bufs);
	free(bufs);

	pthread_mutex_lock(&proxy->lock);
	close(t->client);
	t->client = -1;
	if (t->upstream >= 0)
		close(t->upstream);
	t->upstream = -1;
	proxy->active--;
	pthread_cond_signal(&proxy->slot_free);
	pthread_mutex_unlock(&proxy->lock);
	atomic_store(&t->done, true);
	return NULL;
}
