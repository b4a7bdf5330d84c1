/*
 * gateway_internal.h - what the gateway's files share: the gateway, the
 * state of one TCP connection and of one request.
 *
 * Threads: libmicrohttpd runs one thread per agent connection, and every
 * callback of a connection (the access handler, the content reader, the
 * completion callback) runs on that thread. So a request's state needs no
 * lock; only the gateway's counters, its pool of idle curl handles, the
 * matcher and the sink are shared.
 */
#ifndef HARNESS_GATEWAY_INTERNAL_H
#define HARNESS_GATEWAY_INTERNAL_H

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include <curl/curl.h>
#include <microhttpd.h>

#include "harness/gateway.h"
#include "harness/redact.h"

/* The memory of one agent connection, in bytes. The request's head,
 * the response's head and the relay buffer share it. libmicrohttpd
 * 0.9.75 zeroes all of it after each request (callgrind counted 384 KiB
 * of memset a request with 256 KiB here), so it is kept small. A
 * request head of 60,000 bytes still fits, as measured. */
#define GATEWAY_MEMORY (64 * 1024)

/* The maximum of request and response head bytes, together, that a
 * connection relays. Measured with a 64 KiB connection and curl as the
 * agent: a response head of 64,000 bytes beside a small request arrived,
 * and one of 66,000 did not. Request and response heads of 32,000 and
 * 32,768 bytes arrived, and of 34,000 and 32,768 did not. */
#define GATEWAY_MAX_HEADS (63 * 1024)

struct harness_matcher;
struct harness_normalizer;
struct gateway_sink_item;

struct harness_gateway {
	struct MHD_Daemon *daemon;
	struct harness_gateway_config config;
	struct harness_secrets secrets;
	/* For each upstream of config, its key and the key's encoded
	 * forms, which the relay masks; empty for one without a key. */
	struct harness_secrets *upstream_keys;
	unsigned short port;
	char host[64];	/* numeric address it listens on, or "" */
	volatile sig_atomic_t stopping; /* harness_gateway_stop() began */
	int own_fd; /* the socket listen_on() opened, or -1 */
	unsigned agent_timeout_s; /* libmicrohttpd's connection timeout */

	pthread_mutex_t lock; /* next_seq, divergences and the idle pool */
	uint64_t next_seq;
	size_t divergences;

	pthread_mutex_t sink_lock; /* held while a sink callback runs */

	/* Finished exchanges on their way to the sink thread
	 * (gateway_sink.c), under queue_lock. */
	pthread_mutex_t queue_lock;
	pthread_cond_t queue_cond;
	struct gateway_sink_item *queue_head;
	struct gateway_sink_item *queue_tail;
	int queue_closed;
	int queue_ready; /* the lock and condition exist */
	pthread_t sink_thread;
	int sink_running;

	/* Curl handles of closed agent connections, with their upstream
	 * connections still open, for the next agent connection to reuse;
	 * under lock. */
	struct gateway_conn *idle;
	size_t n_idle;

	struct harness_normalizer *normalizer; /* replay mode only */
	struct harness_matcher *matcher;
};

/* One agent connection: its socket and the curl handles reused by its
 * requests, so that keep-alive to the agent keeps the upstream
 * connection alive too. */
struct gateway_conn {
	int fd;
	CURL *easy;
	CURLM *multi;
	struct gateway_conn *next; /* in the gateway's idle pool */
};

/* A response served from stored chunks, paced by their offsets. */
struct gateway_playback {
	const struct harness_response *response;
	size_t chunk;
	size_t offset; /* bytes of chunk already sent */
	int paced;
	int cut; /* end with an error, as the recording did */
	uint64_t end_us; /* the offset at which the recorded body ended */
	/* The offset by which the agent should close the connection, as
	 * the recorded agent did, or 0 when the recorded one did not. */
	uint64_t abandon_limit_us;
	struct harness_response owned; /* a scripted response */
};

/* A transfer to an upstream, driven from the connection's thread. */
struct gateway_forward {
	CURL *easy;
	CURLM *multi;
	struct curl_slist *headers;
	char *url;
	char error[CURL_ERROR_SIZE];
	int headers_done;      /* the final response head arrived */
	int headers_done_seen; /* headers_done at the last drive() */
	int done;	       /* the transfer ended */
	CURLcode result;
	long status;
	unsigned char *pending; /* received but not relayed yet */
	size_t pending_len;
	size_t pending_off;
	size_t pending_capacity;
	size_t safe_len; /* pending up to here is masked and may go out */
	size_t relayed;	 /* bytes of the body handed to the agent */
	int relaying;	 /* set when the agent gets the upstream's body */
	size_t piece;	 /* the recorded chunk that the next byte is in */
	size_t piece_end; /* the body offset where that chunk ends */
	int whole;	 /* the body is read whole before any goes out */
	int decoded;	 /* pending is the decoded body */
	int too_large;	 /* a whole body outgrew what is read whole */
	size_t body_bytes; /* of the body, relayed or pending */
	int over_limit;	   /* the body passed max_response_body */
	/* The upstream's key and its encoded forms, or none; not owned. */
	const struct harness_secrets *keys;
	int client_gone;
	int watch_client; /* poll the agent's socket for a close */
};

struct gateway_request {
	struct harness_gateway *gw;
	struct gateway_conn *conn;
	char *uri;   /* as received: path and query */
	const char *raw_target; /* libmicrohttpd's copy of uri, which it
				 * parses in place (gateway_check.c) */
	size_t raw_target_len;
	struct MHD_Connection *connection;
	int started; /* the first access handler call ran */
	int answered;
	struct timespec t0; /* monotonic start */

	struct harness_request live; /* as received, secrets included */
	size_t body_capacity;
	int too_large;
	const char *invalid; /* why a header cannot be relayed, or NULL */
	int close;	     /* close the connection after the response */

	struct harness_exchange *ex;	/* the redacted record */
	struct harness_secrets secrets; /* the gateway's, and the
					 * credentials this request carried */
	int have_secrets;
	const struct harness_upstream *upstream;
	const char *upstream_path; /* inside uri, after the prefix */

	struct gateway_forward forward;
	struct gateway_playback playback;
};

/* Microseconds since the request started. */
uint64_t gateway_elapsed_us(const struct gateway_request *req);

/* Set the exchange's outcome and failure text (copied; NULL for none),
 * unless an outcome other than complete was set before. */
void gateway_set_outcome(struct gateway_request *req,
			 enum harness_outcome outcome, const char *failure);

/* Queue a JSON error made by the gateway, and record it as the
 * exchange's response: {"error": {"type": "runbundle_gateway_error",
 * "code": code, "message": message}} plus extra members when not NULL
 * (taken over). */
enum MHD_Result gateway_queue_error(struct MHD_Connection *connection,
				    struct gateway_request *req,
				    unsigned status, const char *code,
				    const char *message, void *extra);

/* Nonzero for headers that belong to one hop and are never relayed. */
int gateway_is_hop_header(const char *name);

/* Add the relayable headers of a response to an MHD response: without
 * Content-Encoding when drop_coding is set, and with every key of keys
 * masked, and a header that hides one left out, unless keys is NULL.
 * Returns 0, or -1 when libmicrohttpd rejects a header. */
int gateway_add_headers(struct MHD_Response *response,
			const struct harness_response *resp,
			const struct harness_secrets *keys, int drop_coding);

/* Return the first header that is not relayed as it is, or NULL.
 * gateway_add_headers() fails on such a header. */
const struct harness_header *
gateway_unsendable_header(const struct harness_response *resp);

/* Return why a header cannot be sent (RFC 9110, sections 5.1 and 5.5):
 * a name that is not a token, or a value with a control byte other than
 * HTAB. NULL when it can. */
const char *gateway_header_flaw(const struct harness_header *h);

/* Read the length that the Content-Length fields give. Returns 0 with
 * *n set when every value is the same number, 1 when there is none, and
 * -1 when a value is not a number or the values differ. */
int gateway_content_length(const struct harness_headers *headers,
			   uint64_t *n);

/* Create the response without a body for a 204 or a 304. */
struct MHD_Response *
gateway_bodiless_response(const struct harness_response *resp);

/* Nonzero when the agent closed its connection. Clears *watch when
 * the socket carries a pipelined request instead, which makes it
 * unusable as a close signal. */
int gateway_client_gone(int fd, int *watch);

/* Restart the connection's idle timeout. Called whenever a callback of
 * this request returns to libmicrohttpd after waiting for an upstream or
 * for pacing, because libmicrohttpd 0.9.75 counts that wait as silence
 * of the agent and would close the connection after it. */
void gateway_touch(struct gateway_request *req);

/* Nonzero when the header block has bytes that libmicrohttpd parsed but
 * did not hand over, as a NUL byte in the request line or a header value
 * and a folded header line cause (gateway_check.c). method and version
 * are the access handler's. */
int gateway_has_hidden_bytes(struct MHD_Connection *connection,
			     const struct gateway_request *req,
			     const char *method, const char *version);

/* Forwarding (gateway_forward.c). */
int gateway_conn_init(struct gateway_conn *conn);
void gateway_conn_release(struct gateway_conn *conn);
enum MHD_Result gateway_forward(struct MHD_Connection *connection,
				struct gateway_request *req);
void gateway_forward_finish(struct gateway_request *req);

/*
 * Masking the upstream's key in what is relayed (gateway_mask.c).
 * - gateway_mask_init() points f's keys at keys, which must outlive f.
 * - gateway_mask_room() is 0 when len more bytes would make a body read
 *   whole too large to check.
 * - gateway_mask_pending() masks what arrived and sets safe_len.
 * - gateway_mask_compressed() is nonzero when the body must be read
 *   whole and decoded before it is relayed.
 * - gateway_mask_decode() then decodes it. It returns 0 when pending is
 *   now the decoded, masked body, 1 when the body goes out as sent, and
 *   -1 with a message in harness_error() when it cannot be checked.
 */
void gateway_mask_init(struct gateway_forward *f,
		       const struct harness_secrets *keys);
int gateway_mask_room(struct gateway_forward *f, size_t len);
void gateway_mask_pending(struct gateway_forward *f);
int gateway_mask_compressed(const struct gateway_forward *f,
			    const struct harness_headers *headers);
int gateway_mask_decode(struct gateway_forward *f,
			const struct harness_headers *headers);

/* The sink thread (gateway_sink.c). gateway_sink_push() takes over the
 * exchange; gateway_sink_stop() delivers what is queued, then ends the
 * thread. */
int gateway_sink_start(struct harness_gateway *gw);
void gateway_sink_push(struct harness_gateway *gw, struct harness_exchange *ex);
void gateway_sink_stop(struct harness_gateway *gw);

/* Serving stored responses (gateway_serve.c). */
enum MHD_Result gateway_serve_script(struct MHD_Connection *connection,
				     struct gateway_request *req);
enum MHD_Result gateway_serve_replay(struct MHD_Connection *connection,
				     struct gateway_request *req);
int gateway_replay_init(struct harness_gateway *gw);
void gateway_replay_release(struct harness_gateway *gw);

#endif
