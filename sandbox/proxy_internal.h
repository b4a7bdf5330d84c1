/*
 * proxy_internal.h - the egress proxy's state, shared by its files
 * (internal to the sandbox library).
 *
 *	proxy.c         life cycle, listeners, acceptor, violations
 *	proxy_allow.c   the allowlist
 *	proxy_tunnel.c  one client's thread: head, checks, connect, relay
 */
#ifndef SANDBOX_PROXY_INTERNAL_H
#define SANDBOX_PROXY_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "sandbox/proxy.h"
#include "sandbox/proxy_address.h"

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

/* Parse an allowlist entry "host:port" or "[v6]:port" into out. Returns
 * 0, or -1 with a message naming the entry. */
int proxy_parse_entry(const char *entry, struct allow_entry *out);

/* Lowercase a name and drop one trailing dot, in place. */
void proxy_normalize_name(char *host);

/* The allowlist entry that key matches, or NULL. */
struct allow_entry *proxy_find_entry(struct sandbox_proxy *proxy,
				     const struct allow_entry *key);

/* Store a violation and call the callback. Safe on any thread. */
void proxy_record_violation(struct sandbox_proxy *proxy, const char *host,
			    unsigned port, const char *reason);

/* The thread of one accepted client. data is its struct tunnel. */
void *proxy_tunnel_main(void *data);

#endif
