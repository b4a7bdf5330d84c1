/*
 * proxy.c - the egress proxy: allowlist, acceptor and tunnel threads.
 *
 * A tunnel thread goes through these states, and every early exit
 * closes both sockets:
 *
 *	HEAD      read the request head, with a deadline
 *	CHECK     match the allowlist, resolve, check every address
 *	CONNECT   connect to a checked address, with a deadline per address
 *	RELAY     copy bytes both ways until both sides are closed
 *
 * Every wait polls the stop pipe too. sandbox_proxy_stop() writes one
 * byte to it and never reads it back, so the pipe stays readable and
 * each thread notices the stop at its next wait. getaddrinfo() is the one
 * wait that cannot watch the pipe.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/error.h"
#include "sandbox/proxy.h"
#include "sandbox/proxy_address.h"
#include "sandbox/proxy_request.h"

#define RELAY_BUFFER 65536
#define LINGER_MS 2000		/* draining a rejected client's input */
#define LINGER_BYTES (256 * 1024)

struct allow_entry {
	char host[256];		/* lowercase name, or the literal as text */
	unsigned port;
	bool is_literal;
	struct proxy_address literal;
	bool loopback_ok;	/* a loopback literal or "localhost" */
	bool pinned;
	struct proxy_address pin;
};

struct tunnel {
	struct sandbox_proxy *proxy;
	pthread_t thread;
	int client;
	int upstream;
	atomic_bool done;
	struct tunnel *next;
};

struct sandbox_proxy {
	struct allow_entry *allow;
	size_t allow_count;

	int listeners[SANDBOX_PROXY_MAX_LISTENERS];
	size_t listener_count;

	int stop_pipe[2];
	pthread_t acceptor;
	bool running;

	pthread_mutex_t lock;	/* guards tunnels, active, the violations */
	pthread_cond_t slot_free;
	struct tunnel *tunnels;
	size_t active;
	bool stopping;

	struct sandbox_proxy_violation *stored;
	size_t stored_count;

	sandbox_proxy_violation_fn on_violation;
	void *arg;

	int64_t head_ms;
	int64_t connect_ms;

	_Atomic uint64_t accepted;
	_Atomic uint64_t tunnels_made;
	_Atomic uint64_t connects;
	_Atomic uint64_t violations;
};

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

/* Split "host:port" or "[v6]:port" into its parts, host unbracketed. */
static int split_entry(const char *entry, char host[256], unsigned *port)
{
	const char *colon;
	const char *name = entry;
	size_t len;
	char *end;
	unsigned long value;

	if (entry[0] == '[') {
		const char *close = strchr(entry, ']');

		if (!close || close[1] != ':')
			return -1;
		name = entry + 1;
		len = (size_t)(close - name);
		colon = close + 1;
	} else {
		colon = strrchr(entry, ':');
		if (!colon || memchr(entry, ':', (size_t)(colon - entry)))
			return -1;
		len = (size_t)(colon - entry);
	}
	if (len == 0 || len >= 256)
		return -1;
	errno = 0;
	value = strtoul(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end || errno ||
	    value < 1 || value > 65535)
		return -2;
	memcpy(host, name, len);
	host[len] = '\0';
	*port = (unsigned)value;
	return 0;
}

/* Lowercase a name and drop one trailing dot, so that "Example.COM."
 * and "example.com" match. */
static void normalize_name(char *host)
{
	size_t len = strlen(host);

	for (size_t i = 0; i < len; i++) {
		if (host[i] >= 'A' && host[i] <= 'Z')
			host[i] = (char)(host[i] - 'A' + 'a');
	}
	if (len > 1 && host[len - 1] == '.')
		host[len - 1] = '\0';
}

static int parse_entry(const char *entry, struct allow_entry *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	rc = split_entry(entry, out->host, &out->port);
	if (rc < 0) {
		sandbox_set_error("invalid egress allowlist entry: '%s': %s",
				  entry, rc == -2 ? "port out of range"
						  : "expected host:port");
		return -1;
	}
	out->is_literal = proxy_address_parse(out->host, out->port,
					      &out->literal);
	if (out->is_literal) {
		proxy_address_format(&out->literal, out->host,
				     sizeof(out->host));
		out->loopback_ok = proxy_address_is_loopback(&out->literal);
		return 0;
	}
	normalize_name(out->host);
	out->loopback_ok = strcmp(out->host, "localhost") == 0;
	return 0;
}

int sandbox_proxy_allow(struct sandbox_proxy *proxy, const char *entry)
{
	struct allow_entry parsed;
	struct allow_entry *grown;

	if (proxy->running) {
		sandbox_set_error("cannot add egress allowlist entry: '%s': %s",
				  entry, "the proxy is running");
		return -1;
	}
	if (parse_entry(entry, &parsed) < 0)
		return -1;
	grown = realloc(proxy->allow,
			(proxy->allow_count + 1) * sizeof(*grown));
	if (!grown) {
		sandbox_set_error("cannot add egress allowlist entry: '%s': %s",
				  entry, strerror(ENOMEM));
		return -1;
	}
	proxy->allow = grown;
	proxy->allow[proxy->allow_count++] = parsed;
	return 0;
}

static struct allow_entry *find_entry(struct sandbox_proxy *proxy,
				      const struct allow_entry *key)
{
	for (size_t i = 0; i < proxy->allow_count; i++) {
		struct allow_entry *e = &proxy->allow[i];

		if (e->port != key->port || e->is_literal != key->is_literal)
			continue;
		if (e->is_literal ? proxy_address_equal(&e->literal,
							&key->literal)
				  : strcmp(e->host, key->host) == 0)
			return e;
	}
	return NULL;
}

int sandbox_proxy_pin(struct sandbox_proxy *proxy, const char *entry,
		      const char *address)
{
	struct allow_entry key;
	struct allow_entry *found;

	if (parse_entry(entry, &key) < 0)
		return -1;
	found = find_entry(proxy, &key);
	if (!found || found->is_literal) {
		sandbox_set_error("cannot pin egress destination: '%s': %s",
				  entry, found ? "already an IP address"
					       : "not on the allowlist");
		return -1;
	}
	if (!proxy_address_parse(address, found->port, &found->pin)) {
		sandbox_set_error("cannot pin egress destination: '%s': %s",
				  address, "not an IP address");
		return -1;
	}
	found->pinned = true;
	return 0;
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

static void record_violation(struct sandbox_proxy *proxy, const char *host,
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
	record_violation(t->proxy, host, port, reason);
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

	for (;;) {
		enum proxy_parse rc;
		ssize_t n;
		int ready = wait_fd(t->proxy, t->client, POLLIN, deadline);

		if (ready < 0)
			return -1;
		if (ready == 0) {
			reject(t, "408 Request Timeout", "", 0,
			       "request head timed out");
			return -1;
		}
		n = recv(t->client, buf + len, SANDBOX_PROXY_MAX_HEAD - len, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			if (len > 0)
				record_violation(t->proxy, "", 0,
						 "incomplete request head");
			return -1;
		}
		len += (size_t)n;
		rc = proxy_request_parse(buf, len, req);
		if (rc == PROXY_PARSE_OK)
			return (ssize_t)len;
		if (rc == PROXY_PARSE_MALFORMED) {
			reject(t, "400 Bad Request", "", 0, req->error);
			return -1;
		}
		if (rc == PROXY_PARSE_TOO_LARGE) {
			reject(t, "431 Request Header Fields Too Large", "", 0,
			       req->error);
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
		normalize_name(key.host);
	e = find_entry(t->proxy, &key);
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

static void *tunnel_main(void *data)
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
	if (pthread_create(&t->thread, NULL, tunnel_main, t) != 0) {
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
