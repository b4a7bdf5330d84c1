/*
 * test_proxy.c - the egress proxy over real loopback sockets: tunnels to
 * an echo server, rejected destinations, malformed and oversized heads,
 * many tunnels at once, libcurl as a client, and a clean stop.
 *
 * The program first moves into a network namespace of its own with only
 * loopback, so that even a proxy bug could not send a packet to
 * 169.254.169.254 or any other address off this host. The cases that
 * ask for such addresses are skipped when that namespace cannot be made.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <microhttpd.h>

#include "sandbox/error.h"
#include "sandbox/proxy.h"

static bool isolated;	/* in a network namespace with only loopback */

/* The proxy under test, its port, and the echo server's port. */
struct fixture {
	struct sandbox_proxy *proxy;
	unsigned proxy_port;
	unsigned echo_port;
	int echo_listener;
	pthread_t echo_thread;
};

static int listen_loopback(unsigned *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 128), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

static void *echo_one(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char buf[4096];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (write(fd, buf, (size_t)n) != n)
			break;
	}
	close(fd);
	return NULL;
}

/* Accept until the listener is shut down, one detached thread each. */
static void *echo_main(void *arg)
{
	int listener = (int)(intptr_t)arg;
	int fd;

	while ((fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		pthread_t t;

		if (pthread_create(&t, NULL, echo_one, (void *)(intptr_t)fd))
			close(fd);
		else
			pthread_detach(t);
	}
	return NULL;
}

static struct fixture *fixture_new(void)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->echo_listener = listen_loopback(&f->echo_port);
	assert_int_equal(pthread_create(&f->echo_thread, NULL, echo_main,
					(void *)(intptr_t)f->echo_listener), 0);
	f->proxy = sandbox_proxy_new(NULL, NULL);
	assert_non_null(f->proxy);
	return f;
}

/* Add an allowlist entry; %u in the format becomes the echo port. */
static void allow(struct fixture *f, const char *fmt)
{
	char entry[300];

	snprintf(entry, sizeof(entry), fmt, f->echo_port);
	if (sandbox_proxy_allow(f->proxy, entry) < 0)
		fail_msg("%s", sandbox_error());
}

static void fixture_start(struct fixture *f)
{
	int fd = listen_loopback(&f->proxy_port);

	assert_int_equal(sandbox_proxy_add_listener(f->proxy, fd), 0);
	assert_int_equal(sandbox_proxy_start(f->proxy), 0);
}

static void fixture_free(struct fixture *f)
{
	sandbox_proxy_free(f->proxy);
	shutdown(f->echo_listener, SHUT_RDWR);
	pthread_join(f->echo_thread, NULL);
	close(f->echo_listener);
	free(f);
}

static int connect_proxy(const struct fixture *f)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)f->proxy_port);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

static void send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		/* The proxy may close on an oversized head before reading
		 * all of it. */
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

/* Read the reply head and return its status code, or -1 on EOF. The
 * head is read byte by byte so no tunnel byte is consumed. */
static int read_status(int fd)
{
	char head[1024];
	size_t len = 0;
	int status = -1;

	while (len + 1 < sizeof(head)) {
		if (read(fd, head + len, 1) != 1)
			return -1;
		len++;
		if (len >= 4 && memcmp(head + len - 4, "\r\n\r\n", 4) == 0)
			break;
	}
	head[len] = '\0';
	if (sscanf(head, "HTTP/1.1 %d ", &status) != 1)
		return -1;
	return status;
}

/* Send a request and return the status the proxy replied. */
static int request(const struct fixture *f, const char *head, size_t len)
{
	int fd = connect_proxy(f);
	int status;

	send_all(fd, head, len);
	status = read_status(fd);
	close(fd);
	return status;
}

static int connect_to(const struct fixture *f, const char *fmt)
{
	char head[512];
	int len = snprintf(head, sizeof(head), "CONNECT ");

	len += snprintf(head + len, sizeof(head) - (size_t)len, fmt,
			f->echo_port);
	len += snprintf(head + len, sizeof(head) - (size_t)len,
			" HTTP/1.1\r\nHost: x\r\n\r\n");
	return request(f, head, (size_t)len);
}

static void read_exactly(int fd, char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);

		assert_true(n > 0);
		got += (size_t)n;
	}
}

static struct sandbox_proxy_violation last_violation(const struct fixture *f)
{
	struct sandbox_proxy_violation *all = NULL;
	struct sandbox_proxy_violation v;
	ssize_t n = sandbox_proxy_violations(f->proxy, &all);

	assert_true(n > 0);
	v = all[n - 1];
	free(all);
	return v;
}

static uint64_t connects(const struct fixture *f)
{
	struct sandbox_proxy_stats stats;

	sandbox_proxy_stats(f->proxy, &stats);
	return stats.connects;
}

static void allowed_tunnel_echoes(void **state)
{
	static const char msg[] = "hello through the tunnel";
	struct fixture *f = fixture_new();
	char head[256];
	char buf[64];
	int len;
	int fd;

	(void)state;
	allow(f, "127.0.0.1:%u");
	fixture_start(f);

	/* Bytes sent right after the head belong to the tunnel. */
	fd = connect_proxy(f);
	len = snprintf(head, sizeof(head), "CONNECT 127.0.0.1:%u HTTP/1.1\r\n"
		       "Host: 127.0.0.1\r\n\r\nearly", f->echo_port);
	send_all(fd, head, (size_t)len);
	assert_int_equal(read_status(fd), 200);
	read_exactly(fd, buf, 5);
	assert_memory_equal(buf, "early", 5);
	send_all(fd, msg, sizeof(msg));
	read_exactly(fd, buf, sizeof(msg));
	assert_memory_equal(buf, msg, sizeof(msg));
	close(fd);

	fixture_free(f);
}

static void localhost_name_allowed(void **state)
{
	struct fixture *f = fixture_new();
	struct sandbox_proxy_stats stats;

	(void)state;
	allow(f, "localhost:%u");
	fixture_start(f);
	assert_int_equal(connect_to(f, "LocalHost:%u"), 200);
	sandbox_proxy_stats(f->proxy, &stats);
	assert_int_equal(stats.tunnels, 1);
	assert_int_equal(stats.violations, 0);
	fixture_free(f);
}

static void host_not_on_list_rejected(void **state)
{
	struct fixture *f = fixture_new();
	struct sandbox_proxy_violation v;

	(void)state;
	allow(f, "127.0.0.1:%u");
	fixture_start(f);
	assert_int_equal(connect_to(f, "registry.invalid:443"), 403);
	v = last_violation(f);
	assert_string_equal(v.host, "registry.invalid");
	assert_int_equal(v.port, 443);
	assert_string_equal(v.reason, "host not on the allowlist");

	/* The port is part of the entry. */
	assert_int_equal(connect_to(f, "127.0.0.1:1"), 403);
	assert_int_equal(connects(f), 0);
	fixture_free(f);
}

static void raw_ip_not_on_list_rejected(void **state)
{
	struct fixture *f = fixture_new();
	struct sandbox_proxy_violation v;

	(void)state;
	allow(f, "localhost:%u");
	fixture_start(f);
	assert_int_equal(connect_to(f, "127.0.0.2:%u"), 403);
	v = last_violation(f);
	assert_string_equal(v.host, "127.0.0.2");
	assert_int_equal(v.port, f->echo_port);
	assert_string_equal(v.reason, "IP address not on the allowlist");
	assert_int_equal(connect_to(f, "[::2]:%u"), 403);
	v = last_violation(f);
	assert_string_equal(v.host, "[::2]");
	assert_int_equal(connect_to(f, "127.0.0.1:%u"), 403);
	assert_int_equal(connects(f), 0);
	fixture_free(f);
}

/* Each forbidden address is on the allowlist, so only the address check
 * can reject it, and the connect counter shows that nothing was sent. */
static void forbidden_addresses_never_connected(void **state)
{
	static const struct {
		const char *entry;
		const char *target;
		const char *reason;
	} cases[] = {
		{ "169.254.169.254:80", "169.254.169.254:80",
		  "link-local address" },
		{ "169.254.169.254:80", "[::ffff:169.254.169.254]:80",
		  "link-local address" },
		{ "[fe80::1]:80", "[fe80::1]:80", "link-local address" },
		{ "[fd00::1]:80", "[fd00::1]:80", "unique-local address" },
		{ "[fc00::1]:443", "[fc00::1]:443", "unique-local address" },
		{ "[64:ff9b::a9fe:a9fe]:80", "[64:ff9b::a9fe:a9fe]:80",
		  "link-local address" },
		{ "0.0.0.0:80", "0.0.0.0:80", "unspecified address" },
		{ "[::]:80", "[::]:80", "unspecified address" },
		{ "224.0.0.1:80", "224.0.0.1:80", "multicast address" },
		{ "255.255.255.255:80", "255.255.255.255:80",
		  "broadcast address" },
	};
	struct fixture *f = fixture_new();

	(void)state;
	if (!isolated) {
		fixture_free(f);
		skip();
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		allow(f, cases[i].entry);
	fixture_start(f);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sandbox_proxy_violation v;

		assert_int_equal(connect_to(f, cases[i].target), 403);
		v = last_violation(f);
		assert_string_equal(v.reason, cases[i].reason);
	}
	assert_int_equal(connects(f), 0);
	fixture_free(f);
}

static void metadata_not_on_list_rejected(void **state)
{
	struct fixture *f = fixture_new();
	struct sandbox_proxy_violation v;

	(void)state;
	if (!isolated) {
		fixture_free(f);
		skip();
	}
	fixture_start(f);
	assert_int_equal(connect_to(f, "169.254.169.254:80"), 403);
	v = last_violation(f);
	assert_string_equal(v.host, "169.254.169.254");
	assert_int_equal(v.port, 80);
	assert_int_equal(connects(f), 0);
	fixture_free(f);
}

/* A pinned name resolves to the pin, which is checked like any address:
 * a public name must not lead to metadata or to the host's loopback. */
static void name_resolving_to_forbidden_rejected(void **state)
{
	struct fixture *f = fixture_new();
	struct sandbox_proxy_violation v;
	char entry[64];

	(void)state;
	if (!isolated) {
		fixture_free(f);
		skip();
	}
	allow(f, "metadata.test:80");
	allow(f, "registry.test:%u");
	allow(f, "ula.test:443");
	assert_int_equal(sandbox_proxy_pin(f->proxy, "metadata.test:80",
					   "169.254.169.254"), 0);
	snprintf(entry, sizeof(entry), "registry.test:%u", f->echo_port);
	assert_int_equal(sandbox_proxy_pin(f->proxy, entry, "127.0.0.1"), 0);
	assert_int_equal(sandbox_proxy_pin(f->proxy, "ula.test:443",
					   "fd12:3456::1"), 0);
	fixture_start(f);

	assert_int_equal(connect_to(f, "metadata.test:80"), 403);
	v = last_violation(f);
	assert_string_equal(v.reason, "name resolves to link-local address");
	assert_int_equal(connect_to(f, "registry.test:%u"), 403);
	v = last_violation(f);
	assert_string_equal(v.reason, "name resolves to loopback address");
	assert_int_equal(connect_to(f, "ula.test:443"), 403);
	v = last_violation(f);
	assert_string_equal(v.reason, "name resolves to unique-local address");
	assert_int_equal(connects(f), 0);
	fixture_free(f);
}

/* Only in the private namespace, where a DNS query cannot leave the
 * host: the lookup fails, which is no violation. */
static void unresolvable_name_gets_502(void **state)
{
	struct fixture *f = fixture_new();
	struct sandbox_proxy_stats stats;

	(void)state;
	if (!isolated) {
		fixture_free(f);
		skip();
	}
	allow(f, "nothing.invalid:443");
	fixture_start(f);
	assert_int_equal(connect_to(f, "nothing.invalid:443"), 502);
	sandbox_proxy_stats(f->proxy, &stats);
	assert_int_equal(stats.violations, 0);
	assert_int_equal(stats.connects, 0);
	fixture_free(f);
}

static void pinned_name_tunnels(void **state)
{
	struct fixture *f = fixture_new();
	char entry[64];

	(void)state;
	allow(f, "localhost:%u");
	snprintf(entry, sizeof(entry), "localhost:%u", f->echo_port);
	assert_int_equal(sandbox_proxy_pin(f->proxy, entry, "127.0.0.1"), 0);
	fixture_start(f);
	assert_int_equal(connect_to(f, "localhost:%u"), 200);
	assert_int_equal(connects(f), 1);
	fixture_free(f);
}

static void malformed_requests_get_400(void **state)
{
	static const char *bad[] = {
		"GARBAGE\r\n\r\n",
		"CONNECT\r\n\r\n",
		"CONNECT 127.0.0.1 HTTP/1.1\r\n\r\n",
		"CONNECT 127.0.0.1:99999 HTTP/1.1\r\n\r\n",
		"CONNECT [::1 HTTP/1.1\r\n\r\n",
		"CONNECT 127.0.0.1:80 HTTP/9.9\r\n\r\n",
		"CONNECT 127.0.0.1:80 HTTP/1.1\n\n",
		"CONNECT 127.0.0.1:80 HTTP/1.1\r\nNo-Colon\r\n\r\n",
		"CONNECT 127.0.0.1:80 HTTP/1.1\r\nA: b\r\n folded\r\n\r\n",
		"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03",
		"CONNECT [1::2::3]:80 HTTP/1.1\r\n\r\n",
	};
	struct fixture *f = fixture_new();
	struct sandbox_proxy_stats stats;
	size_t count = sizeof(bad) / sizeof(bad[0]);

	(void)state;
	fixture_start(f);
	for (size_t i = 0; i < count; i++) {
		int status = request(f, bad[i], strlen(bad[i]));

		if (status != 400)
			print_error("case %zu: status %d\n", i, status);
		assert_int_equal(status, 400);
	}
	sandbox_proxy_stats(f->proxy, &stats);
	assert_int_equal(stats.violations, count);
	assert_int_equal(stats.connects, 0);
	fixture_free(f);
}

static void oversized_head_gets_431(void **state)
{
	struct fixture *f = fixture_new();
	size_t size = 4 * SANDBOX_PROXY_MAX_HEAD;
	char *head = malloc(size);
	char many[4096];
	size_t pos = 0;

	(void)state;
	assert_non_null(head);
	fixture_start(f);

	pos = (size_t)snprintf(head, size, "CONNECT 127.0.0.1:80 HTTP/1.1\r\n"
			       "X-Pad: ");
	memset(head + pos, 'p', size - pos);
	assert_int_equal(request(f, head, size), 431);

	pos = (size_t)snprintf(many, sizeof(many),
			       "CONNECT 127.0.0.1:80 HTTP/1.1\r\n");
	for (int i = 0; i <= SANDBOX_PROXY_MAX_HEADERS; i++)
		pos += (size_t)snprintf(many + pos, sizeof(many) - pos,
					"X-%d: v\r\n", i);
	pos += (size_t)snprintf(many + pos, sizeof(many) - pos, "\r\n");
	assert_int_equal(request(f, many, pos), 431);

	free(head);
	fixture_free(f);
}

static void slow_head_gets_408(void **state)
{
	struct fixture *f = fixture_new();
	struct sandbox_proxy_violation v;
	int fd;

	(void)state;
	assert_int_equal(sandbox_proxy_set_timeouts(f->proxy, 0, 1), -1);
	assert_int_equal(sandbox_proxy_set_timeouts(f->proxy, 100, 1000), 0);
	allow(f, "127.0.0.1:%u");
	fixture_start(f);
	fd = connect_proxy(f);
	send_all(fd, "CONNECT 127.0.0.1:", 18);
	assert_int_equal(read_status(fd), 408);
	close(fd);
	v = last_violation(f);
	assert_string_equal(v.reason, "request head timed out");
	assert_int_equal(connects(f), 0);
	fixture_free(f);
}

/* A client that closes after its target sends no more of it, so the
 * head it left unfinished names that target as sent. */
static void closed_head_names_its_target(void **state)
{
	struct fixture *f = fixture_new();
	struct sandbox_proxy_violation v;
	char byte;
	int fd;

	(void)state;
	fixture_start(f);
	fd = connect_proxy(f);
	send_all(fd, "CONNECT 10.0.0.1:443", 20);
	shutdown(fd, SHUT_WR);
	assert_int_equal(read(fd, &byte, 1), 0);
	close(fd);
	v = last_violation(f);
	assert_string_equal(v.host, "10.0.0.1:443");
	assert_string_equal(v.reason, "incomplete request head");
	assert_int_equal(connects(f), 0);
	fixture_free(f);
}

/* A head rejected after its request line names that line's target:
 * too large, too many lines, a stray byte, a bad version, too slow. */
static void rejected_heads_name_their_target(void **state)
{
	static const char *bad[] = {
		"CONNECT 10.0.0.1:443 HTTP/2.0\r\n\r\n",
		"CONNECT 10.0.0.1:443 HTTP/1.1\r\nX: \x01\r\n\r\n",
		"CONNECT 10.0.0.1:443 HTTP/1.1\n\n",
	};
	struct fixture *f = fixture_new();
	struct sandbox_proxy_violation v;
	char head[2 * SANDBOX_PROXY_MAX_HEAD];
	size_t pos;
	int fd;

	(void)state;
	assert_int_equal(sandbox_proxy_set_timeouts(f->proxy, 100, 1000), 0);
	fixture_start(f);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(request(f, bad[i], strlen(bad[i])), 400);
		v = last_violation(f);
		assert_string_equal(v.host, "10.0.0.1:443");
	}

	pos = (size_t)snprintf(head, sizeof(head),
			       "CONNECT 10.0.0.1:443 HTTP/1.1\r\nX-Pad: ");
	memset(head + pos, 'p', sizeof(head) - pos);
	assert_int_equal(request(f, head, sizeof(head)), 431);
	v = last_violation(f);
	assert_string_equal(v.host, "10.0.0.1:443");

	pos = (size_t)snprintf(head, sizeof(head),
			       "CONNECT 10.0.0.1:443 HTTP/1.1\r\n");
	for (int i = 0; i <= SANDBOX_PROXY_MAX_HEADERS; i++)
		pos += (size_t)snprintf(head + pos, sizeof(head) - pos,
					"X-%d: v\r\n", i);
	pos += (size_t)snprintf(head + pos, sizeof(head) - pos, "\r\n");
	assert_int_equal(request(f, head, pos), 431);
	v = last_violation(f);
	assert_string_equal(v.host, "10.0.0.1:443");

	fd = connect_proxy(f);
	send_all(fd, "CONNECT 10.0.0.1:443 HTTP/1.1\r\n", 31);
	assert_int_equal(read_status(fd), 408);
	close(fd);
	v = last_violation(f);
	assert_string_equal(v.host, "10.0.0.1:443");

	/* A target that has not ended yet is not named. */
	fd = connect_proxy(f);
	send_all(fd, "CONNECT 10.0.0.1:4", 18);
	assert_int_equal(read_status(fd), 408);
	close(fd);
	v = last_violation(f);
	assert_string_equal(v.host, "");
	assert_int_equal(connects(f), 0);
	fixture_free(f);
}

static void plain_http_rejected(void **state)
{
	struct fixture *f = fixture_new();
	struct sandbox_proxy_violation v;
	char head[256];
	int len;

	(void)state;
	allow(f, "127.0.0.1:%u");
	fixture_start(f);
	len = snprintf(head, sizeof(head), "GET http://127.0.0.1:%u/ "
		       "HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", f->echo_port);
	assert_int_equal(request(f, head, (size_t)len), 403);
	v = last_violation(f);
	assert_non_null(strstr(v.host, "http://127.0.0.1:"));
	assert_non_null(strstr(v.reason, "plain HTTP"));
	assert_int_equal(connects(f), 0);
	fixture_free(f);
}

#define TUNNELS 64

static void many_concurrent_tunnels(void **state)
{
	struct fixture *f = fixture_new();
	struct sandbox_proxy_stats stats;
	int fds[TUNNELS];
	char head[128];

	(void)state;
	allow(f, "127.0.0.1:%u");
	fixture_start(f);

	/* Every tunnel stays open until all are established, so the
	 * proxy serves them all at the same time. */
	for (int i = 0; i < TUNNELS; i++) {
		int len = snprintf(head, sizeof(head),
				   "CONNECT 127.0.0.1:%u HTTP/1.1\r\n\r\n",
				   f->echo_port);

		fds[i] = connect_proxy(f);
		send_all(fds[i], head, (size_t)len);
	}
	for (int i = 0; i < TUNNELS; i++)
		assert_int_equal(read_status(fds[i]), 200);
	for (int i = 0; i < TUNNELS; i++) {
		char msg[32], buf[32];
		int len = snprintf(msg, sizeof(msg), "tunnel %d", i);

		send_all(fds[i], msg, (size_t)len);
		read_exactly(fds[i], buf, (size_t)len);
		assert_memory_equal(buf, msg, (size_t)len);
	}
	sandbox_proxy_stats(f->proxy, &stats);
	assert_int_equal(stats.tunnels, TUNNELS);
	assert_int_equal(stats.accepted, TUNNELS);
	for (int i = 0; i < TUNNELS; i++)
		close(fds[i]);
	fixture_free(f);
}

/* A large transfer in both directions at once: a relay that blocked on
 * one direction would deadlock here. */
static void both_directions_at_once(void **state)
{
	struct fixture *f = fixture_new();
	size_t size = 4 << 20;
	char *out = malloc(size);
	char *in = malloc(size);
	size_t sent = 0, got = 0;
	char head[128];
	int fd;
	int len;

	(void)state;
	assert_non_null(out);
	assert_non_null(in);
	for (size_t i = 0; i < size; i++)
		out[i] = (char)(i * 7);
	allow(f, "127.0.0.1:%u");
	fixture_start(f);
	fd = connect_proxy(f);
	len = snprintf(head, sizeof(head),
		       "CONNECT 127.0.0.1:%u HTTP/1.1\r\n\r\n", f->echo_port);
	send_all(fd, head, (size_t)len);
	assert_int_equal(read_status(fd), 200);
	assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);

	while (got < size) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (sent < size)
			p.events |= POLLOUT;
		assert_true(poll(&p, 1, -1) > 0);
		if (p.revents & POLLOUT) {
			n = send(fd, out + sent, size - sent, MSG_NOSIGNAL);
			if (n > 0)
				sent += (size_t)n;
		}
		if (p.revents & POLLIN) {
			n = read(fd, in + got, size - got);
			assert_true(n > 0 || (n < 0 && errno == EAGAIN));
			if (n > 0)
				got += (size_t)n;
		}
	}
	assert_memory_equal(in, out, size);
	close(fd);
	free(out);
	free(in);
	fixture_free(f);
}

static void stop_closes_open_tunnels(void **state)
{
	struct fixture *f = fixture_new();
	char head[128];
	char byte;
	int fd, idle;
	int len;

	(void)state;
	allow(f, "127.0.0.1:%u");
	fixture_start(f);
	fd = connect_proxy(f);
	len = snprintf(head, sizeof(head),
		       "CONNECT 127.0.0.1:%u HTTP/1.1\r\n\r\n", f->echo_port);
	send_all(fd, head, (size_t)len);
	assert_int_equal(read_status(fd), 200);

	/* One client that never sends its head, accepted before the stop
	 * so that the proxy owns it. */
	idle = connect_proxy(f);
	for (;;) {
		struct sandbox_proxy_stats stats;

		sandbox_proxy_stats(f->proxy, &stats);
		if (stats.accepted == 2)
			break;
		usleep(1000);
	}

	sandbox_proxy_stop(f->proxy);
	assert_int_equal(read(fd, &byte, 1), 0);
	assert_int_equal(read(idle, &byte, 1), 0);
	sandbox_proxy_stop(f->proxy);
	close(fd);
	close(idle);
	fixture_free(f);
}

static size_t discard(char *ptr, size_t size, size_t n, void *data)
{
	(void)ptr;
	(void)data;
	return size * n;
}

static enum MHD_Result serve_ok(void *cls, struct MHD_Connection *conn,
				const char *url, const char *method,
				const char *version, const char *data,
				size_t *data_size, void **ptr)
{
	static const char body[] = "ok\n";
	struct MHD_Response *resp;
	enum MHD_Result rc;

	(void)cls; (void)url; (void)method; (void)version;
	(void)data; (void)data_size; (void)ptr;
	resp = MHD_create_response_from_buffer(sizeof(body) - 1,
					       (void *)body,
					       MHD_RESPMEM_PERSISTENT);
	rc = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return rc;
}

/* curl with HTTPS_PROXY-style tunnelling, as agents' tools use it. */
static void curl_tunnels_through_proxy(void **state)
{
	struct fixture *f = fixture_new();
	struct MHD_Daemon *httpd;
	const union MHD_DaemonInfo *info;
	unsigned http_port;
	char url[128], proxy_url[64], entry[64];
	long code = 0, connect_code = 0;
	CURL *curl;

	(void)state;
	httpd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL,
				 NULL, serve_ok, NULL,
				 MHD_OPTION_SOCK_ADDR, &(struct sockaddr_in){
					 .sin_family = AF_INET,
					 .sin_addr.s_addr =
						 htonl(INADDR_LOOPBACK) },
				 MHD_OPTION_END);
	assert_non_null(httpd);
	info = MHD_get_daemon_info(httpd, MHD_DAEMON_INFO_BIND_PORT);
	http_port = info->port;
	snprintf(entry, sizeof(entry), "127.0.0.1:%u", http_port);
	assert_int_equal(sandbox_proxy_allow(f->proxy, entry), 0);
	fixture_start(f);

	curl = curl_easy_init();
	assert_non_null(curl);
	snprintf(proxy_url, sizeof(proxy_url), "http://127.0.0.1:%u",
		 f->proxy_port);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/", http_port);
	curl_easy_setopt(curl, CURLOPT_PROXY, proxy_url);
	curl_easy_setopt(curl, CURLOPT_HTTPPROXYTUNNEL, 1L);
	curl_easy_setopt(curl, CURLOPT_NOPROXY, "");
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	assert_int_equal(curl_easy_perform(curl), CURLE_OK);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
	assert_int_equal(code, 200);

	/* A port that is not on the list: curl gets the 403. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/", f->echo_port);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	assert_int_not_equal(curl_easy_perform(curl), CURLE_OK);
	curl_easy_getinfo(curl, CURLINFO_HTTP_CONNECTCODE, &connect_code);
	assert_int_equal(connect_code, 403);

	curl_easy_cleanup(curl);
	MHD_stop_daemon(httpd);
	fixture_free(f);
}

static void allowlist_entries_validated(void **state)
{
	static const struct {
		const char *entry;
		const char *why;
	} bad[] = {
		{ "example.com:99999", "port out of range" },
		{ "example.com:0", "port out of range" },
		{ "example.com:-1", "port out of range" },
		{ "example.com:", "port out of range" },
		{ "example.com", "expected host:port" },
		{ "::1:443", "expected host:port" },
		{ "[::1]443", "expected host:port" },
		{ ":443", "expected host:port" },
	};
	struct sandbox_proxy *proxy = sandbox_proxy_new(NULL, NULL);

	(void)state;
	assert_non_null(proxy);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(sandbox_proxy_allow(proxy, bad[i].entry), -1);
		assert_non_null(strstr(sandbox_error(), bad[i].entry));
		assert_non_null(strstr(sandbox_error(), bad[i].why));
	}
	assert_int_equal(sandbox_proxy_allow(proxy, "[::1]:443"), 0);
	assert_int_equal(sandbox_proxy_allow(proxy, "Registry.Example.:443"),
			 0);
	assert_int_equal(sandbox_proxy_pin(proxy, "registry.example:443",
					   "192.0.2.1"), 0);
	assert_int_equal(sandbox_proxy_pin(proxy, "other.example:443",
					   "192.0.2.1"), -1);
	assert_int_equal(sandbox_proxy_pin(proxy, "registry.example:443",
					   "not-an-ip"), -1);
	sandbox_proxy_free(proxy);
}

static void count_violation(const struct sandbox_proxy_violation *v,
			    void *arg)
{
	(void)v;
	(*(int *)arg)++;
}

static void violation_callback_called(void **state)
{
	struct fixture *f = fixture_new();
	int called = 0;

	(void)state;
	sandbox_proxy_free(f->proxy);
	f->proxy = sandbox_proxy_new(count_violation, &called);
	assert_non_null(f->proxy);
	fixture_start(f);
	assert_int_equal(connect_to(f, "a.invalid:443"), 403);
	sandbox_proxy_stop(f->proxy);
	assert_int_equal(called, 1);
	fixture_free(f);
}

/* Move into a network namespace with loopback only, and bring lo up. */
static bool isolate_network(void)
{
	struct ifreq ifr = { 0 };
	int fd;

	if (unshare(geteuid() == 0 ? CLONE_NEWNET
				   : CLONE_NEWUSER | CLONE_NEWNET) < 0)
		return false;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		close(fd);
		return false;
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) {
		close(fd);
		return false;
	}
	close(fd);
	return true;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(allowed_tunnel_echoes),
		cmocka_unit_test(localhost_name_allowed),
		cmocka_unit_test(host_not_on_list_rejected),
		cmocka_unit_test(raw_ip_not_on_list_rejected),
		cmocka_unit_test(forbidden_addresses_never_connected),
		cmocka_unit_test(metadata_not_on_list_rejected),
		cmocka_unit_test(name_resolving_to_forbidden_rejected),
		cmocka_unit_test(unresolvable_name_gets_502),
		cmocka_unit_test(pinned_name_tunnels),
		cmocka_unit_test(malformed_requests_get_400),
		cmocka_unit_test(oversized_head_gets_431),
		cmocka_unit_test(slow_head_gets_408),
		cmocka_unit_test(rejected_heads_name_their_target),
		cmocka_unit_test(closed_head_names_its_target),
		cmocka_unit_test(plain_http_rejected),
		cmocka_unit_test(many_concurrent_tunnels),
		cmocka_unit_test(both_directions_at_once),
		cmocka_unit_test(stop_closes_open_tunnels),
		cmocka_unit_test(curl_tunnels_through_proxy),
		cmocka_unit_test(allowlist_entries_validated),
		cmocka_unit_test(violation_callback_called),
	};

	signal(SIGPIPE, SIG_IGN);
	isolated = isolate_network();
	if (!isolated)
		fprintf(stderr, "cannot make a network namespace: %s: the "
			"cases with off-host addresses are skipped\n",
			strerror(errno));
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
