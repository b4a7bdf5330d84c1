/*
 * proxy_bench.c - the egress proxy's throughput and tunnel set-up time
 * against a direct loopback connection.
 *
 * A sink server on 127.0.0.1 reads and discards. The benchmark sends
 * MIB mebibytes to it directly and through a tunnel, and opens CONNS
 * connections one after the other directly and through the proxy (the
 * proxy's reply "200 Connection established" ends a tunnel set-up).
 * Each figure is the fastest of 5 runs.
 *
 * Usage: proxy_bench [MIB [CONNS]]   (defaults 512 and 500)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/error.h"
#include "sandbox/proxy.h"

#define RUNS 5
#define CHUNK (256 * 1024)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int listen_loopback(unsigned *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(fd, 512) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) < 0) {
		perror("proxy_bench: listen");
		exit(1);
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

static int connect_loopback(unsigned port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		perror("proxy_bench: connect");
		exit(1);
	}
	return fd;
}

static void *sink_one(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char *buf = malloc(CHUNK);

	while (buf && read(fd, buf, CHUNK) > 0)
		;
	free(buf);
	close(fd);
	return NULL;
}

static void *sink_main(void *arg)
{
	int listener = (int)(intptr_t)arg;
	int fd;

	while ((fd = accept(listener, NULL, NULL)) >= 0) {
		pthread_t t;

		if (pthread_create(&t, NULL, sink_one, (void *)(intptr_t)fd))
			close(fd);
		else
			pthread_detach(t);
	}
	return NULL;
}

/* Open a tunnel to port through the proxy at proxy_port. */
static int open_tunnel(unsigned proxy_port, unsigned port)
{
	char req[128];
	char reply[256];
	size_t got = 0;
	int fd = connect_loopback(proxy_port);
	int len = snprintf(req, sizeof(req),
			   "CONNECT 127.0.0.1:%u HTTP/1.1\r\n\r\n", port);

	if (write(fd, req, (size_t)len) != len)
		exit(1);
	while (got < 4 || memcmp(reply + got - 4, "\r\n\r\n", 4) != 0) {
		if (got == sizeof(reply) || read(fd, reply + got, 1) != 1) {
			fprintf(stderr, "proxy_bench: cannot open tunnel: "
				"'127.0.0.1:%u': invalid reply\n", port);
			exit(1);
		}
		got++;
	}
	if (strncmp(reply, "HTTP/1.1 200", 12) != 0) {
		fprintf(stderr, "proxy_bench: cannot open tunnel: "
			"'127.0.0.1:%u': rejected by the proxy\n", port);
		exit(1);
	}
	return fd;
}

static double send_mib(int fd, long mib)
{
	static char buf[CHUNK];
	double start = now_s();

	for (long i = 0; i < mib * 4; i++) {
		size_t off = 0;

		while (off < CHUNK) {
			ssize_t n = write(fd, buf + off, CHUNK - off);

			if (n <= 0)
				exit(1);
			off += (size_t)n;
		}
	}
	close(fd);
	return (double)mib / (now_s() - start);
}

static double best_of(double *runs, bool higher)
{
	double best = runs[0];

	for (int i = 1; i < RUNS; i++) {
		if (higher ? runs[i] > best : runs[i] < best)
			best = runs[i];
	}
	return best;
}

int main(int argc, char **argv)
{
	long mib = argc > 1 ? atol(argv[1]) : 512;
	long conns = argc > 2 ? atol(argv[2]) : 500;
	unsigned sink_port, proxy_port;
	int sink = listen_loopback(&sink_port);
	struct sandbox_proxy *proxy = sandbox_proxy_new(NULL, NULL);
	double direct[RUNS], tunnel[RUNS], open_direct[RUNS], open_proxy[RUNS];
	char entry[32];
	pthread_t sink_thread;
	double d, t;

	signal(SIGPIPE, SIG_IGN);
	snprintf(entry, sizeof(entry), "127.0.0.1:%u", sink_port);
	if (!proxy || sandbox_proxy_allow(proxy, entry) < 0 ||
	    sandbox_proxy_add_listener(proxy,
				       listen_loopback(&proxy_port)) < 0 ||
	    sandbox_proxy_start(proxy) < 0) {
		fprintf(stderr, "proxy_bench: %s\n", sandbox_error());
		return 1;
	}
	pthread_create(&sink_thread, NULL, sink_main, (void *)(intptr_t)sink);

	for (int r = 0; r < RUNS; r++) {
		direct[r] = send_mib(connect_loopback(sink_port), mib);
		tunnel[r] = send_mib(open_tunnel(proxy_port, sink_port), mib);

		d = now_s();
		for (long i = 0; i < conns; i++)
			close(connect_loopback(sink_port));
		open_direct[r] = (now_s() - d) * 1e6 / (double)conns;
		t = now_s();
		for (long i = 0; i < conns; i++)
			close(open_tunnel(proxy_port, sink_port));
		open_proxy[r] = (now_s() - t) * 1e6 / (double)conns;
	}

	d = best_of(direct, true);
	t = best_of(tunnel, true);
	printf("throughput, direct   %8.0f MiB/s\n", d);
	printf("throughput, tunnel   %8.0f MiB/s  (%.2fx direct)\n", t, t / d);
	d = best_of(open_direct, false);
	t = best_of(open_proxy, false);
	printf("connect, direct      %8.1f us\n", d);
	printf("connect, tunnel      %8.1f us  (%.1fx direct)\n", t, t / d);
	sandbox_proxy_free(proxy);
	return 0;
}
