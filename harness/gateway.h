/*
 * gateway.h - the model gateway: an HTTP/1.1 server between an agent and
 * its model API that records, replays or scripts every exchange.
 *
 * Modes, chosen by the configuration:
 *
 *   record   forward each request to an upstream with libcurl, relay the
 *            response to the agent as its bytes arrive, and record it;
 *   replay   serve recorded exchanges without network access (a request
 *            that matches none is a divergence, handled as configured);
 *   script   answer from a model script, recorded like an upstream.
 *
 * Invariants:
 *  1. Every exchange that reaches the sink is redacted: the credential
 *     headers (Authorization, Proxy-Authorization, x-api-key, Cookie,
 *     Set-Cookie) carry HARNESS_REDACTED, and every configured secret is
 *     masked wherever it occurs, in headers, the query and both bodies.
 *  2. Bodies are stored raw, chunk by chunk as relayed; a compressed
 *     body is stored compressed, unless a secret was found inside it
 *     (see docs/gateway.md: it is then stored decoded and masked).
 *  3. Exchanges are numbered in the order their requests started (seq
 *     from 1); the sink receives them in the order they finished.
 *  4. The sink's callbacks never run concurrently with each other.
 *     before_forward and diverged run on the request's connection
 *     thread; finished runs on a sink thread of its own, so a slow sink
 *     does not delay the next request, and every exchange has been
 *     delivered when harness_gateway_stop() returns.
 *
 * Upstream selection: a request whose path starts with "/NAME/" goes to
 * the upstream called NAME, with that prefix removed; a request with an
 * "x-runbundle-upstream: NAME" header goes to NAME; any other request goes
 * to the first upstream. The upstream's base URL path is prefixed to the
 * remaining request path.
 *
 * Errors: harness_gateway_start() returns NULL and stores a message in
 * harness_error(). Failures while serving are answered to the agent over
 * HTTP and recorded; they never stop the gateway.
 */
#ifndef HARNESS_GATEWAY_H
#define HARNESS_GATEWAY_H

#include <stddef.h>

#include "harness/exchange.h"

/* The marker that replaces a redacted header value. Masked secrets inside
 * bodies keep their length (see harness_redact_bytes()). */
#define HARNESS_REDACTED "[REDACTED]"

/*
 * The default limit on one response body. A model's response is a few
 * MiB at most, while an upstream that streams without end would make
 * the recorder grow without bound, because it keeps about 3 times the
 * body until the exchange is stored.
 */
#define HARNESS_MAX_RESPONSE_BODY ((size_t)256 << 20)

/* The start of the failure text of an exchange cut at
 * max_response_body, for callers that tell the user about it. */
#define HARNESS_OVER_LIMIT "response body over the limit"

struct harness_script;
struct harness_gateway;

/* One model API endpoint. The strings belong to the caller and must
 * outlive the gateway. */
struct harness_upstream {
	const char *name;	 /* selects the upstream, see above */
	const char *url;	 /* base URL: "http://127.0.0.1:8080/v1" */
	const char *auth_header; /* the header the secret goes in, such as
				  * "Authorization" or "x-api-key"; NULL
				  * forwards the agent's own credentials */
	const char *auth_prefix; /* put before the secret: "Bearer " */
	const char *secret;	 /* the credential; NULL for none */
};

/* The action of a replaying gateway on a request that matches nothing. */
enum harness_divergence_action {
	HARNESS_DIVERGE_STOP = 0, /* respond 400 with the report */
	HARNESS_DIVERGE_CLOSEST,  /* serve the closest recording */
	HARNESS_DIVERGE_FORWARD,  /* forward to the upstream and record */
};

/*
 * Callbacks that receive what the gateway records. Any may be NULL. They
 * are called one at a time (see invariant 4 for the threads).
 */
struct harness_gateway_sink {
	/* Called once the whole request has arrived and was redacted,
	 * before any response is sent. A nonzero return stops the
	 * request: the agent gets a 503 and the exchange is recorded as
	 * failed. The exchange has no response yet. */
	int (*before_forward)(void *ctx, const struct harness_exchange *ex);

	/* Called with each finished exchange. The callee owns it and
	 * releases it with harness_exchange_release() and free(). */
	void (*finished)(void *ctx, struct harness_exchange *ex);

	/* Called in replay mode for a request that matched no recording:
	 * report is the JSON text of the divergence report (see
	 * docs/gateway.md), owned by the gateway. */
	void (*diverged)(void *ctx, const struct harness_exchange *ex,
			 const char *report);
	void *ctx;
};

struct harness_gateway_config {
	const char *listen_host; /* "127.0.0.1" when NULL */
	unsigned short port;	 /* 0 picks a free port */
	int listen_fd;		 /* an already listening socket, used
				  * instead of host and port; -1 for none.
				  * The gateway does not close it. */

	const struct harness_upstream *upstreams;
	size_t n_upstreams;
	const char *const *secrets; /* more values to mask, besides the
				     * upstreams' own */
	size_t n_secrets;

	size_t max_request_body;     /* bytes; larger requests get 413 */
	size_t max_response_body;    /* bytes of one response body that
				      * are relayed and recorded; the
				      * exchange is cut there. 0:
				      * HARNESS_MAX_RESPONSE_BODY */
	unsigned connect_timeout_ms; /* 0: 10 s */
	unsigned idle_timeout_ms;    /* no byte from upstream for this long
				      * ends the exchange; 0: 300 s */
	unsigned agent_timeout_ms;   /* an agent connection silent this long
				      * while the gateway waits for the agent
				      * is closed, rounded up to whole
				      * seconds; 0: 60 s */

	/* Replay mode when recorded is not NULL or replay is set. The
	 * gateway keeps the pointer, so the array must outlive it. */
	const struct harness_exchange *recorded;
	size_t n_recorded;
	int replay; /* nonzero: replay mode even with no recording, in
		     * which every request diverges and none goes out */
	int fast; /* nonzero: ignore the recorded pacing */
	enum harness_divergence_action on_divergence;
	const char *const *ignore_headers; /* more volatile header names */
	size_t n_ignore_headers;
	const char *const *match_rules; /* "regex:PATTERN" or "path:PATH",
					 * see harness_normalizer_add_rule() */
	size_t n_match_rules;

	/* Script mode when script is not NULL. The caller keeps
	 * ownership; the script must outlive the gateway. */
	struct harness_script *script;

	struct harness_gateway_sink sink;
};

/*
 * Start serving in background threads. Returns the gateway, or NULL with
 * a message in harness_error() when the configuration is invalid or the
 * address cannot be bound.
 */
struct harness_gateway *
harness_gateway_start(const struct harness_gateway_config *config);

/*
 * Check an upstream's name and URL without starting anything: an http or
 * https URL that libcurl parses, with no empty port and no user name or
 * password (credentials go in auth_header and secret, which are masked),
 * and a secret without control characters. Returns 0, or -1 with a
 * message and a hint that never quote the URL or the secret.
 * harness_gateway_start() runs it on each upstream.
 */
int harness_upstream_check(const struct harness_upstream *upstream);

/* Return the offset of the first byte of secret that cannot go into a
 * header value (a control character such as CR or LF), or -1 when there
 * is none. */
long harness_secret_bad_byte(const char *secret);

/* The TCP port the gateway listens on. */
unsigned short harness_gateway_port(const struct harness_gateway *gateway);

/* The numeric address it listens on, as "127.0.0.1" or "::1", or "" when
 * getsockname() returns none. The gateway owns the string. */
const char *harness_gateway_host(const struct harness_gateway *gateway);

/* The number of requests that diverged in replay mode so far. */
size_t harness_gateway_divergences(const struct harness_gateway *gateway);

/* The number of recorded exchanges not yet served in replay mode. */
size_t harness_gateway_unused(const struct harness_gateway *gateway);

/* Stop accepting, end the open connections, wait for the threads and
 * free the gateway. NULL is ignored. */
void harness_gateway_stop(struct harness_gateway *gateway);

#endif
