/*
 * exchange.h - one model API exchange as the gateway records and replays
 * it: the request as received from the agent, and the response as it
 * reached the agent, body chunk by chunk with arrival times.
 *
 * Bodies are raw bytes exactly as sent on the wire (still compressed
 * when a Content-Encoding applies). Secrets are redacted before an
 * exchange leaves the gateway, so every copy of this structure outside
 * the gateway is safe to store.
 *
 * Memory: every pointer inside is owned by the structure and released by
 * the matching *_release() function. Adding functions return 0, or -1
 * with the message in harness_error() when memory runs out.
 */
#ifndef HARNESS_EXCHANGE_H
#define HARNESS_EXCHANGE_H

#include <stddef.h>
#include <stdint.h>

struct harness_header {
	char *name;
	char *value;
};

/* Headers in the order received; names keep their case as received. */
struct harness_headers {
	struct harness_header *items;
	size_t count;
	size_t capacity;
};

/* One piece of a response body as it arrived from the upstream. */
struct harness_chunk {
	unsigned char *data;
	size_t len;
	uint64_t offset_us;	/* microseconds since the request started */
};

struct harness_request {
	char *method;
	char *path;		/* without the query */
	char *query;		/* without '?'; NULL when absent */
	struct harness_headers headers;
	unsigned char *body;
	size_t body_len;
};

/* The outcome of an exchange. */
enum harness_outcome {
	HARNESS_COMPLETE = 0,		/* the whole response was relayed */
	HARNESS_UPSTREAM_FAILED,	/* no response: refused, DNS, TLS,
					 * timeout; the agent got a 502 */
	HARNESS_UPSTREAM_CUT,		/* the response stopped midway */
	HARNESS_CLIENT_ABORTED,		/* the agent disconnected first */
	HARNESS_NO_SCRIPT_TURN,		/* the model script ran out */
};

struct harness_response {
	int status;
	uint64_t head_offset_us; /* microseconds from the request's start
				  * until the head went to the agent, or
				  * 0 when unknown */
	struct harness_headers headers;
	struct harness_chunk *chunks;
	size_t n_chunks;
	size_t chunk_capacity;
};

struct harness_exchange {
	uint64_t seq;			/* order in which requests started,
					 * from 1 */
	char *upstream;			/* the upstream's name, or "script" */
	int64_t started_unix_us;	/* wall clock at request start */
	uint64_t duration_us;		/* until the last byte or the end */
	enum harness_outcome outcome;
	char *failure;			/* what failed, for the non-complete
					 * outcomes; NULL otherwise */
	struct harness_request request;
	struct harness_response response;
};

/* Append a copy of name and value. */
int harness_headers_add(struct harness_headers *headers, const char *name,
			const char *value);

/* The value of the first header named name (compared without case), or
 * NULL. The structure owns the string. */
const char *harness_headers_get(const struct harness_headers *headers,
				const char *name);

void harness_headers_release(struct harness_headers *headers);

/* Return the values of every header called name, joined with ", ", the
 * form of a list field sent on several lines. NULL when there is none,
 * or when memory ran out. The caller frees it. */
char *harness_headers_join(const struct harness_headers *headers,
			   const char *name);

/* Append a copy of len bytes as a chunk that arrived at offset_us. */
int harness_response_add_chunk(struct harness_response *response,
			       const void *data, size_t len,
			       uint64_t offset_us);

/* Append data itself, a malloc()ed block of at least one byte, as a
 * chunk: a loaded response of hundreds of MB is not copied once more.
 * The response owns data from then on, and frees it on failure too. */
int harness_response_take_chunk(struct harness_response *response,
				unsigned char *data, size_t len,
				uint64_t offset_us);

/* The total body length over all chunks. */
size_t harness_response_body_len(const struct harness_response *response);

void harness_request_release(struct harness_request *request);
void harness_response_release(struct harness_response *response);
void harness_exchange_release(struct harness_exchange *exchange);

/* The stable name of an outcome, as stored in bundles: "complete",
 * "upstream-failed", "upstream-cut", "client-aborted", "no-script-turn". */
const char *harness_outcome_name(enum harness_outcome outcome);

#endif
