/*
 * proxy.h - the egress proxy: HTTP CONNECT tunnels from the sandbox to
 * an allowlist of host:port destinations.
 *
 * The proxy runs on the host side, without privilege, and serves
 * listening sockets that the caller creates inside the sandbox's network
 * namespace and hands over (SCM_RIGHTS). The agent reaches it through
 * HTTPS_PROXY and HTTP_PROXY. Invariants:
 *
 *  1. Only "CONNECT host:port HTTP/1.x" is served. Any other method,
 *     including an absolute-form plain HTTP request, gets 403 and counts
 *     as a violation: forwarding plain HTTP would mean parsing and
 *     rewriting whole requests and responses, and every registry worth
 *     allowing speaks HTTPS.
 *  2. The request head is bounded (SANDBOX_PROXY_MAX_HEAD bytes,
 *     SANDBOX_PROXY_MAX_HEADERS lines) and parsed strictly; malformed or
 *     oversized input gets 400 or 431 and the connection is closed.
 *  3. A destination is tunnelled only when host:port matches an
 *     allowlist entry exactly (names case-insensitively, IP literals by
 *     address). A raw IP address is one more host that must be on the
 *     list.
 *  4. The proxy resolves names itself (the sandbox has no resolver),
 *     checks every resolved address, and connects only to an address
 *     it checked, so a second lookup cannot swap it.
 *  5. Whatever the allowlist contains, it never connects to link-local or
 *     metadata addresses (169.254.0.0/16, fe80::/10), unique-local ones
 *     (fc00::/7), unspecified, multicast or broadcast addresses, also
 *     when a name resolves to one of them or when one hides in an
 *     IPv4-mapped IPv6 address. The check happens before any socket
 *     toward the destination exists.
 *  6. Loopback destinations are reached only through an allowlist entry
 *     that is itself a loopback literal or "localhost", so a public name
 *     that resolves to 127.0.0.1 cannot open the host's own services.
 *  7. Every rejected request is a violation (host, port, reason) that
 *     the caller can read; the number stored is bounded, the count is
 *     not.
 *
 * The request head is parsed here and not with libmicrohttpd: as of
 * 0.9.75 it hands a connection's raw socket to the application only
 * for a 101 upgrade, not after a 200 reply to CONNECT, and it serves
 * one listening socket per daemon.
 *
 * Threads: one acceptor thread, and one thread per tunnel, at most
 * SANDBOX_PROXY_MAX_TUNNELS at a time (later clients wait in the
 * listen backlog). sandbox_proxy_stop() shuts every socket down and
 * joins every thread.
 *
 * Errors: functions return -1 (or NULL) and store a message that
 * sandbox_error() returns. Nothing here prints or exits.
 */
#ifndef SANDBOX_PROXY_H
#define SANDBOX_PROXY_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#define SANDBOX_PROXY_MAX_HEAD 8192	/* bytes, request line included */
#define SANDBOX_PROXY_MAX_HEADERS 64	/* header lines */
#define SANDBOX_PROXY_MAX_TUNNELS 256
#define SANDBOX_PROXY_MAX_LISTENERS 8
#define SANDBOX_PROXY_MAX_STORED 1024	/* violations kept in memory */
#define SANDBOX_PROXY_HEAD_TIMEOUT 10	/* default seconds to send the head */
#define SANDBOX_PROXY_CONNECT_TIMEOUT 10 /* default seconds per address */

struct sandbox_proxy;

/* One rejected request. host is the host the client sent, an IPv6
 * literal in brackets, with control characters replaced by '?' and cut
 * to fit. port is 0 when the request had no valid port. */
struct sandbox_proxy_violation {
	char host[256];
	unsigned port;
	char reason[96];
};

/* Called on a tunnel thread for each violation, after it is stored. It
 * must not call back into the proxy. */
typedef void (*sandbox_proxy_violation_fn)(
	const struct sandbox_proxy_violation *violation, void *arg);

/* Create a stopped proxy with an empty allowlist. on_violation may be
 * NULL. Returns NULL with a message when memory runs out. */
struct sandbox_proxy *sandbox_proxy_new(sandbox_proxy_violation_fn
					on_violation, void *arg);

/*
 * Add "host:port" to the allowlist. host is a DNS name, an IPv4 literal
 * or a bracketed IPv6 literal ("[::1]:443"); port is 1 to 65535.
 * Returns 0, or -1 with a message naming the entry. Only before start.
 */
int sandbox_proxy_allow(struct sandbox_proxy *proxy, const char *entry);

/*
 * Pin the name of an allowlisted entry to one address instead of
 * resolving it, as curl's --resolve does, for replay on a network that
 * resolves differently. The address passes the same checks as a resolved
 * one (invariants 5 and 6). Returns 0, or -1 with a message. Only before
 * start.
 */
int sandbox_proxy_pin(struct sandbox_proxy *proxy, const char *entry,
		      const char *address);

/*
 * Serve fd, a listening stream socket, which the proxy owns from now on
 * (also on failure). Returns 0, or -1 with a message when more than
 * SANDBOX_PROXY_MAX_LISTENERS are added. Only before start.
 */
int sandbox_proxy_add_listener(struct sandbox_proxy *proxy, int fd);

/*
 * Set the time a client has to send its request head and the time each
 * connect to a destination address may take, in milliseconds (at least
 * 1). The defaults are SANDBOX_PROXY_HEAD_TIMEOUT and
 * SANDBOX_PROXY_CONNECT_TIMEOUT seconds. Returns 0, or -1 with a
 * message. Only before start.
 */
int sandbox_proxy_set_timeouts(struct sandbox_proxy *proxy,
			       unsigned head_ms, unsigned connect_ms);

/* Start the acceptor thread. Returns 0, or -1 with a message. */
int sandbox_proxy_start(struct sandbox_proxy *proxy);

/*
 * Stop accepting, close every tunnel and join every thread. Calling it
 * twice, or on a proxy never started, is harmless.
 */
void sandbox_proxy_stop(struct sandbox_proxy *proxy);

/* Counters, safe to read while the proxy runs. */
struct sandbox_proxy_stats {
	uint64_t accepted;	/* client connections accepted */
	uint64_t tunnels;	/* tunnels established */
	uint64_t connects;	/* connect() calls toward destinations */
	uint64_t violations;	/* rejected requests, stored or not */
};

void sandbox_proxy_stats(struct sandbox_proxy *proxy,
			 struct sandbox_proxy_stats *out);

/*
 * Copy the stored violations, oldest first, into a new array that the
 * caller frees with free(). *out is NULL when there are none. Returns
 * the number copied, or -1 with a message when memory ran out.
 */
ssize_t sandbox_proxy_violations(struct sandbox_proxy *proxy,
				 struct sandbox_proxy_violation **out);

/* Stop the proxy if needed and free it, closing its listeners. NULL is
 * ignored. */
void sandbox_proxy_free(struct sandbox_proxy *proxy);

#endif
