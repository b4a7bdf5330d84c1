/*
 * gateway.c - the gateway's HTTP server: accepting requests with
 * libmicrohttpd, collecting them, dispatching them by mode, and handing
 * each finished exchange to the sink.
 *
 * A request goes through these steps, all on its connection's thread:
 *  1. uri_log: the raw URI arrives; the request state is created.
 *  2. access (first call): headers are complete; the exchange gets its
 *     seq and start time.
 *  3. access (with data): the body is collected, up to the limit.
 *  4. access (last call): the redacted copy is made, the sink's
 *     before_forward runs, and the response is queued: forwarded,
 *     replayed, scripted, or an error of the gateway.
 *  5. the content reader relays the body (gateway_forward.c and
 *     gateway_serve.c).
 *  6. completed: the outcome is settled, the response is redacted and
 *     the exchange goes to the sink.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "harness/error.h"
#include "harness/gateway_internal.h"

#define DEFAULT_MAX_BODY ((size_t)64 << 20)

/* The default of --agent-timeout: how long a connection may stay silent
 * while the gateway waits for the agent, before and between requests and
 * inside a request's head or body. It is nginx's default
 * client_header_timeout and client_body_timeout, and well above the 4 to
 * 5 s after which the Node and Python HTTP clients drop idle connections
 * themselves. While the gateway works on a request, gateway_touch()
 * keeps it from counting (see docs/gateway.md). */
#define DEFAULT_AGENT_TIMEOUT_MS 60000u

/* Agent connections served at once. Each has a thread and may hold two
 * file descriptors (its socket and the upstream connection of its curl
 * handle), so the limit is also kept within RLIMIT_NOFILE. */
#define MAX_CONNECTIONS 4096
#define RESERVED_FDS 64

/* Headers of one hop (RFC 9110, section 7.6.1), and those that
 * libmicrohttpd or libcurl set themselves. */
static const char *const hop_headers[] = {
	"connection",
	"keep-alive",
	"proxy-connection",
	"te",
	"trailer",
	"upgrade",
	"transfer-encoding",
	"content-length",
	"proxy-authenticate",
};

int gateway_is_hop_header(const char *name)
{
	for (size_t i = 0; i < sizeof(hop_headers) / sizeof(*hop_headers); i++)
		if (strcasecmp(name, hop_headers[i]) == 0)
			return 1;
	return 0;
}

/* RFC 9110, section 5.6.2: the bytes of a token (a method, a header
 * name). */
static int is_token(const char *s, size_t len)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";

	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (!(ch >= '0' && ch <= '9') && !(ch >= 'a' && ch <= 'z') &&
		    !(ch >= 'A' && ch <= 'Z') && !(ch && strchr(extra, ch)))
			return 0;
	}
	return 1;
}

/* RFC 9110, section 5.5: a field value has no control byte but HTAB. */
static int is_field_value(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return 0;
	}
	return 1;
}

/* Add one header. libmicrohttpd 0.9.75 rejects an empty value, so it is
 * sent as one space, which RFC 9110 (section 5.5) reads as empty. */
static int add_header(struct MHD_Response *response, const char *name,
		      const char *value)
{
	if (MHD_add_response_header(response, name, *value ? value : " ") !=
	    MHD_YES)
		return -1;
	return 0;
}

/* Add one header, with every key of keys masked in its value. */
static int add_masked(struct MHD_Response *response,
		      const struct harness_header *h,
		      const struct harness_secrets *keys)
{
	char *value = strdup(h->value);
	int rc;

	if (!value)
		return -1;
	harness_redact_bytes(keys, (unsigned char *)value, strlen(value));
	rc = add_header(response, h->name, value);
	free(value);
	return rc;
}

/* Nonzero when a header of resp goes to the agent. A 204's
 * Content-Length, which RFC 9110 forbids, goes too: the agent gets the
 * head that the exchange records, and RFC 9112, section 6.3, has a
 * client read a 204 without a body whatever its fields say. */
static int is_relayed(const struct harness_response *resp, const char *name)
{
	if (resp->status == 204 && strcasecmp(name, "content-length") == 0)
		return 1;
	return !gateway_is_hop_header(name);
}

int gateway_add_headers(struct MHD_Response *response,
			const struct harness_response *resp,
			const struct harness_secrets *keys, int drop_coding)
{
	const struct harness_headers *headers = &resp->headers;

	for (size_t i = 0; i < headers->count; i++) {
		const struct harness_header *h = &headers->items[i];

		if (!is_relayed(resp, h->name))
			continue;
		/* RFC 9110, section 5.5, lets a proxy reject such a value,
		 * and an agent's HTTP parser may reject it too. libmicrohttpd
		 * 0.9.75 sends control bytes raw. */
		if (gateway_header_flaw(h))
			return -1;
		if (drop_coding && strcasecmp(h->name, "content-encoding") == 0)
			continue;
		if (!keys) {
			if (add_header(response, h->name, h->value) < 0)
				return -1;
			continue;
		}
		if (harness_header_hides_secret(keys, h))
			continue;
		if (add_masked(response, h, keys) < 0)
			return -1;
	}
	return 0;
}

/* libmicrohttpd 0.9.75 sends no body with a 204 or a 304, so it never
 * calls this. */
static ssize_t no_body(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)cls;
	(void)pos;
	(void)buf;
	(void)max;
	return MHD_CONTENT_READER_END_WITH_ERROR;
}

/* Read the length that the Content-Length fields give. RFC 9110,
 * section 8.6, lets a recipient take one number repeated ("2, 2", or
 * two fields) as that number. */
int gateway_content_length(const struct harness_headers *headers,
			   uint64_t *n)
{
	int found = 0;

	for (size_t i = 0; i < headers->count; i++) {
		const char *p = headers->items[i].value;

		if (strcasecmp(headers->items[i].name, "content-length") != 0)
			continue;
		for (;;) {
			unsigned long long value;
			char *end;

			p += strspn(p, " \t");
			if (*p < '0' || *p > '9')
				return -1;
			errno = 0;
			value = strtoull(p, &end, 10);
			if (errno || value == ULLONG_MAX ||
			    (found && value != *n))
				return -1;
			*n = value;
			found = 1;
			p = end + strspn(end, " \t");
			if (*p == '\0')
				break;
			if (*p++ != ',')
				return -1;
		}
	}
	return found ? 0 : 1;
}

/* A 304's Content-Length is the length of the body that a 200 would
 * have had (RFC 9110, section 8.6), so the agent gets the upstream's
 * own, or none. libmicrohttpd 0.9.75 gives a 304 the length of the
 * response it sends, or Transfer-Encoding: chunked when that length is
 * unknown, unless the response is of HTTP/1.0's kind, which costs the
 * agent its connection. A 204 gets the upstream's Content-Length fields
 * as they came (gateway_add_headers()). libmicrohttpd accepts them only
 * with MHD_RF_INSANITY_HEADER_CONTENT_LENGTH, and adds none to a 204. */
struct MHD_Response *
gateway_bodiless_response(const struct harness_response *resp)
{
	struct MHD_Response *response;
	uint64_t n = 0;

	if (resp->status == 204) {
		response = MHD_create_response_from_buffer(
			0, "", MHD_RESPMEM_PERSISTENT);
		if (response &&
		    MHD_set_response_options(
			    response, MHD_RF_INSANITY_HEADER_CONTENT_LENGTH,
			    MHD_RO_END) != MHD_YES) {
			MHD_destroy_response(response);
			return NULL;
		}
		return response;
	}
	if (harness_headers_get(&resp->headers, "transfer-encoding"))
		return MHD_create_response_from_callback(
			MHD_SIZE_UNKNOWN, 1, no_body, NULL, NULL);
	if (gateway_content_length(&resp->headers, &n) == 0)
		return MHD_create_response_from_callback(n, 1, no_body, NULL,
							 NULL);
	response = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 1,
						     no_body, NULL, NULL);
	if (response &&
	    MHD_set_response_options(response,
				     MHD_RF_HTTP_1_0_COMPATIBLE_STRICT,
				     MHD_RO_END) != MHD_YES) {
		MHD_destroy_response(response);
		return NULL;
	}
	return response;
}

/* Return the first relayed header that gateway_header_flaw() finds
 * fault with. */
const struct harness_header *
gateway_unsendable_header(const struct harness_response *resp)
{
	const struct harness_headers *headers = &resp->headers;

	for (size_t i = 0; i < headers->count; i++) {
		const struct harness_header *h = &headers->items[i];

		if (is_relayed(resp, h->name) && gateway_header_flaw(h))
			return h;
	}
	return NULL;
}

const char *gateway_header_flaw(const struct harness_header *h)
{
	if (!is_token(h->name, strlen(h->name)))
		return "its name is not a token";
	if (!is_field_value(h->value, strlen(h->value)))
		return "its value has a control byte other than HTAB";
	return NULL;
}

static uint64_t timespec_us(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000u + (uint64_t)ts->tv_nsec / 1000;
}

uint64_t gateway_elapsed_us(const struct gateway_request *req)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return timespec_us(&now) - timespec_us(&req->t0);
}

void gateway_set_outcome(struct gateway_request *req,
			 enum harness_outcome outcome, const char *failure)
{
	struct harness_exchange *ex = req->ex;

	if (!ex || ex->outcome != HARNESS_COMPLETE)
		return;
	ex->outcome = outcome;
	free(ex->failure);
	ex->failure = failure ? strdup(failure) : NULL;
}

int gateway_client_gone(int fd, int *watch)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN | POLLRDHUP};
	char byte;
	ssize_t n;

	if (fd < 0 || !*watch || poll(&pfd, 1, 0) <= 0)
		return 0;
	if (pfd.revents & (POLLHUP | POLLERR | POLLRDHUP))
		return 1;
	n = recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		return 1;
	*watch = 0;
	return 0;
}

static int record_local_response(struct gateway_request *req, unsigned status,
				 const char *body)
{
	struct harness_response *resp = &req->ex->response;
	char length[24];

	resp->status = (int)status;
	resp->head_offset_us = gateway_elapsed_us(req);
	/* libmicrohttpd sends a body from a buffer with its length. The
	 * record keeps that length, so the replay sends it too. */
	snprintf(length, sizeof(length), "%zu", strlen(body));
	if (harness_headers_add(&resp->headers, "Content-Type",
				"application/json") < 0 ||
	    harness_headers_add(&resp->headers, "Content-Length", length) < 0)
		return -1;
	return harness_response_add_chunk(resp, body, strlen(body),
					  resp->head_offset_us);
}

enum MHD_Result gateway_queue_error(struct MHD_Connection *connection,
				    struct gateway_request *req,
				    unsigned status, const char *code,
				    const char *message, void *extra)
{
	cJSON *root = cJSON_CreateObject(), *error;
	struct MHD_Response *response;
	enum MHD_Result rc = MHD_NO;
	char *text;

	error = cJSON_AddObjectToObject(root, "error");
	cJSON_AddStringToObject(error, "type", "runbundle_gateway_error");
	cJSON_AddStringToObject(error, "code", code);
	cJSON_AddStringToObject(error, "message", message);
	if (extra)
		cJSON_AddItemToObject(error, "details", extra);
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (!text)
		return MHD_NO;

	if (req->ex && req->ex->response.status == 0)
		record_local_response(req, status, text);
	response = MHD_create_response_from_buffer(strlen(text), text,
						   MHD_RESPMEM_MUST_FREE);
	if (!response) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(response, "Content-Type", "application/json");
	if (req->close)
		MHD_add_response_header(response, MHD_HTTP_HEADER_CONNECTION,
					"close");
	rc = MHD_queue_response(connection, status, response);
	MHD_destroy_response(response);
	req->answered = 1;
	return rc;
}

/* NOTE: libmicrohttpd 0.9.75 closes a connection whose request line has
 * no space ("GET", "GARBAGE") without a response and before it calls
 * this or any other callback. It shuts the socket down for writing
 * before the close notification, so no 400 can be sent. */
static void *uri_log(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct gateway_request *req = calloc(1, sizeof(*req));
	const union MHD_ConnectionInfo *info;

	if (!req)
		return NULL;
	req->gw = cls;
	req->uri = strdup(uri);
	req->raw_target = uri;
	req->raw_target_len = strlen(uri);
	req->connection = c;
	clock_gettime(CLOCK_MONOTONIC, &req->t0);
	info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (info)
		req->conn = info->socket_context;
	return req;
}

/*
 * Return whether s can be a request target, which has no whitespace,
 * control byte or byte above 0x7f (RFC 9112, section 3.2, and RFC 3986,
 * section 2). libmicrohttpd 0.9.75 ends the target at the last space,
 * so "GET /a b HTTP/1.1" gives "/a b". libcurl percent-encodes a byte
 * above 0x7f, so the upstream would get another target than recorded.
 */
static int is_request_target(const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch <= 0x20 || ch >= 0x7f)
			return 0;
	}
	return 1;
}

/* Collects the headers and notes the first one that cannot be relayed
 * byte for byte. libmicrohttpd 0.9.75 cuts a value at a NUL byte; the
 * length it reports still counts the bytes after it. */
static enum MHD_Result copy_header(void *cls, enum MHD_ValueKind kind,
				   const char *key, size_t key_size,
				   const char *value, size_t value_size)
{
	struct gateway_request *req = cls;

	(void)kind;
	if (!value)
		value = "";
	if (!req->invalid &&
	    (!is_token(key, key_size) || strlen(key) != key_size ||
	     strlen(value) != value_size || !is_field_value(value, value_size)))
		req->invalid = "a header name or value has a control byte";
	return harness_headers_add(&req->live.headers, key, value) == 0
		       ? MHD_YES
		       : MHD_NO;
}

/* NOTE: a Content-Length that libmicrohttpd 0.9.75 cannot parse ("abc",
 * "-5") gets its own 400 with the header block written twice, because
 * its request loop resets the state after queuing that reply. The access
 * handler is never called for it, so the gateway cannot send its own.
 *
 * The framing checks of RFC 9112, section 6.3, that libmicrohttpd
 * 0.9.75 leaves out: it reads the first Content-Length and lets a
 * second one, or a Transfer-Encoding beside it, pass. A request framed
 * two ways could be read one way here and another way upstream, so it
 * is rejected and the connection closed. */
static const char *check_framing(const struct harness_headers *headers)
{
	const char *length = NULL;
	int chunked = 0;

	for (size_t i = 0; i < headers->count; i++) {
		const struct harness_header *h = &headers->items[i];

		/* libmicrohttpd 0.9.75 reads a body as chunked only when the
		 * first Transfer-Encoding is exactly "chunked". Any other
		 * coding ("gzip, chunked", "identity") makes it read until
		 * the agent closes, so the request would hang. */
		if (strcasecmp(h->name, "transfer-encoding") == 0) {
			if (chunked || strcasecmp(h->value, "chunked") != 0)
				return "the request's Transfer-Encoding is not "
				       "a single 'chunked', the only transfer "
				       "coding the gateway reads";
			chunked = 1;
		}
		if (strcasecmp(h->name, "content-length") != 0)
			continue;
		if (length && strcmp(length, h->value) != 0)
			return "the request has two different Content-Length "
			       "values";
		length = h->value;
	}
	if (length && chunked)
		return "the request has both Content-Length and "
		       "Transfer-Encoding";
	return NULL;
}

/* Split the raw URI into path and query, byte for byte as received. */
static int split_uri(struct gateway_request *req, const char *method)
{
	const char *uri = req->uri ? req->uri : "/";
	const char *q = strchr(uri, '?');

	req->live.method = strdup(method);
	req->live.path = q ? strndup(uri, (size_t)(q - uri)) : strdup(uri);
	req->live.query = q ? strdup(q + 1) : NULL;
	if (!req->live.method || !req->live.path || (q && !req->live.query))
		return -1;
	return 0;
}

static int start_exchange(struct gateway_request *req)
{
	struct harness_gateway *gw = req->gw;
	struct timespec now;

	req->ex = calloc(1, sizeof(*req->ex));
	if (!req->ex)
		return -1;
	/* Under the lock, so that seq and the start time agree. */
	pthread_mutex_lock(&gw->lock);
	clock_gettime(CLOCK_REALTIME, &now);
	req->ex->started_unix_us = (int64_t)timespec_us(&now);
	req->ex->seq = ++gw->next_seq;
	pthread_mutex_unlock(&gw->lock);
	return 0;
}

static int parse_length(const char *text, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(text, &end, 10);
	return errno || end == text || *end ? -1 : 0;
}

static int append_body(struct gateway_request *req, const char *data,
		       size_t len)
{
	struct harness_request *live = &req->live;
	size_t max = req->gw->config.max_request_body;

	/* NOTE: the rest of an oversized chunked body is read and dropped,
	 * because clients that are still sending miss a 413 queued early
	 * (curl reports a broken pipe). A declared length over the limit
	 * never gets here: first_call() answers it. */
	if (req->too_large || live->body_len + len > max) {
		req->too_large = 1;
		return 0;
	}
	if (live->body_len + len > req->body_capacity) {
		size_t capacity =
			req->body_capacity ? req->body_capacity : 65536;
		void *body;

		while (capacity < live->body_len + len)
			capacity *= 2;
		body = realloc(live->body, capacity);
		if (!body)
			return -1;
		live->body = body;
		req->body_capacity = capacity;
	}
	memcpy(live->body + live->body_len, data, len);
	live->body_len += len;
	return 0;
}

static enum MHD_Result answer_too_large(struct MHD_Connection *c,
					struct gateway_request *req)
{
	char message[160];

	snprintf(message, sizeof(message),
		 "request body over the gateway's limit of %zu bytes; raise "
		 "it with --max-request-body",
		 req->gw->config.max_request_body);
	gateway_set_outcome(req, HARNESS_COMPLETE, NULL);
	return gateway_queue_error(c, req, MHD_HTTP_CONTENT_TOO_LARGE,
				   "request_too_large", message, NULL);
}

static int copy_request(const struct harness_request *src,
			struct harness_request *dst)
{
	dst->method = strdup(src->method);
	dst->path = strdup(src->path);
	dst->query = src->query ? strdup(src->query) : NULL;
	dst->body = malloc(src->body_len ? src->body_len : 1);
	if (!dst->method || !dst->path || (src->query && !dst->query) ||
	    !dst->body)
		return -1;
	memcpy(dst->body, src->body ? src->body : (unsigned char *)"",
	       src->body_len);
	dst->body_len = src->body_len;
	for (size_t i = 0; i < src->headers.count; i++) {
		if (harness_headers_add(&dst->headers,
					src->headers.items[i].name,
					src->headers.items[i].value) < 0)
			return -1;
	}
	return 0;
}

static const struct harness_upstream *
find_upstream(const struct harness_gateway *gw, const char *name, size_t len)
{
	for (size_t i = 0; i < gw->config.n_upstreams; i++) {
		const char *candidate = gw->config.upstreams[i].name;

		if (strlen(candidate) == len &&
		    strncmp(candidate, name, len) == 0)
			return &gw->config.upstreams[i];
	}
	return NULL;
}

/* Choose the upstream as gateway.h describes. Returns -1 when the
 * x-runbundle-upstream header names no upstream. */
static int choose_upstream(struct gateway_request *req)
{
	struct harness_gateway *gw = req->gw;
	const char *uri = req->uri ? req->uri : "/";
	const char *named =
		harness_headers_get(&req->live.headers, "x-runbundle-upstream");
	size_t len = strcspn(uri + 1, "/?");

	req->upstream_path = uri;
	if (named) {
		req->upstream = find_upstream(gw, named, strlen(named));
		return req->upstream ? 0 : -1;
	}
	req->upstream = uri[0] == '/' ? find_upstream(gw, uri + 1, len) : NULL;
	if (req->upstream)
		req->upstream_path = uri + 1 + len;
	else if (gw->config.n_upstreams > 0)
		req->upstream = &gw->config.upstreams[0];
	return 0;
}

/* Whether the segment at p, which ends at '/', '?', '#' or the end, is
 * "." or "..", with each dot written as is or as %2e. */
static bool dot_segment(const char *p)
{
	int dots = 0;

	for (;;) {
		if (*p == '.') {
			p++;
		} else if (p[0] == '%' && p[1] == '2' &&
			   (p[2] == 'e' || p[2] == 'E')) {
			p += 3;
		} else {
			break;
		}
		dots++;
	}
	return (dots == 1 || dots == 2) && strchr("/?#", *p);
}

/*
 * Whether the path of a request target has a "." or ".." segment.
 * libcurl removes them before it sends the request, so "/openai/../x"
 * would reach the upstream as "/x", with the key, outside the base path
 * of the upstream's URL.
 */
static bool has_dot_segment(const char *path)
{
	for (const char *p = path; *p && *p != '?' && *p != '#'; p++) {
		if (*p == '/' && dot_segment(p + 1))
			return true;
	}
	return dot_segment(path);
}

static int call_before_forward(struct gateway_request *req)
{
	struct harness_gateway *gw = req->gw;
	int rc = 0;

	if (!gw->config.sink.before_forward)
		return 0;
	pthread_mutex_lock(&gw->sink_lock);
	rc = gw->config.sink.before_forward(gw->config.sink.ctx, req->ex);
	pthread_mutex_unlock(&gw->sink_lock);
	return rc;
}

static enum MHD_Result dispatch(struct MHD_Connection *c,
				struct gateway_request *req)
{
	struct harness_gateway *gw = req->gw;

	if (choose_upstream(req) < 0)
		return gateway_queue_error(c, req, MHD_HTTP_BAD_REQUEST,
					   "unknown_upstream",
					   "the x-runbundle-upstream header "
					   "names no configured upstream",
					   NULL);
	if (has_dot_segment(req->upstream_path))
		return gateway_queue_error(c, req, MHD_HTTP_BAD_REQUEST,
					   "invalid_path",
					   "the request path has a '.' or '..' "
					   "segment, which would leave the "
					   "upstream's base path",
					   NULL);
	if (call_before_forward(req) != 0) {
		gateway_set_outcome(req, HARNESS_UPSTREAM_FAILED,
				    "the recorder rejected the request");
		return gateway_queue_error(c, req, MHD_HTTP_SERVICE_UNAVAILABLE,
					   "recorder_failed",
					   "the recorder could not record the "
					   "request",
					   NULL);
	}
	if (gw->config.script)
		return gateway_serve_script(c, req);
	if (gw->matcher)
		return gateway_serve_replay(c, req);
	return gateway_forward(c, req);
}

/* The values to mask in this exchange: the configured secrets, and the
 * credentials the agent sent, which an upstream may echo back. */
static struct harness_secrets *request_secrets(struct gateway_request *req)
{
	if (req->have_secrets)
		return &req->secrets;
	if (harness_secrets_copy(&req->secrets, &req->gw->secrets) < 0 ||
	    harness_secrets_add_credentials(&req->secrets, &req->live.headers) <
		    0)
		return NULL;
	req->have_secrets = 1;
	return &req->secrets;
}

static int record_request(struct gateway_request *req)
{
	struct harness_secrets *secrets = request_secrets(req);

	if (!secrets || copy_request(&req->live, &req->ex->request) < 0)
		return -1;
	return harness_redact_request(secrets, &req->ex->request);
}

/* A request the gateway rejects before reading its body is neither
 * forwarded nor recorded, since what arrived cannot be stored as it
 * was sent. */
static enum MHD_Result reject_request(struct MHD_Connection *c,
				      struct gateway_request *req,
				      const char *why)
{
	req->close = 1;
	return gateway_queue_error(c, req, MHD_HTTP_BAD_REQUEST,
				   "invalid_request", why, NULL);
}

static enum MHD_Result first_call(struct MHD_Connection *c,
				  struct gateway_request *req,
				  const char *method, const char *version)
{
	const char *length, *why;
	uint64_t n;

	req->started = 1;
	if (MHD_get_connection_values_n(c, MHD_HEADER_KIND, copy_header, req) <
	    0)
		return MHD_NO;
	why = req->invalid;
	if (!why && gateway_has_hidden_bytes(c, req, method, version))
		why = "the request line or a header has a NUL byte or a "
		      "folded line";
	if (!why && !is_token(method, strlen(method)))
		why = "the method has a byte that is not allowed in a token";
	if (!why && req->uri && !is_request_target(req->uri))
		why = "the request target has a space, a control byte or a "
		      "byte above 0x7f; percent-encode it (%20 for a space)";
	if (!why)
		why = check_framing(&req->live.headers);
	if (why)
		return reject_request(c, req, why);

	if (start_exchange(req) < 0 || split_uri(req, method) < 0)
		return MHD_NO;
	length = harness_headers_get(&req->live.headers, "content-length");
	if (length && parse_length(length, &n) == 0 &&
	    n > req->gw->config.max_request_body) {
		/* Answered from the header alone; the body is not read. */
		req->too_large = 1;
		req->close = 1;
		if (record_request(req) < 0)
			return MHD_NO;
		return answer_too_large(c, req);
	}
	return MHD_YES;
}

void gateway_touch(struct gateway_request *req)
{
	/* libmicrohttpd 0.9.75 restarts the idle clock only when a timeout
	 * is set on a connection that had none. */
	MHD_set_connection_option(req->connection,
				  MHD_CONNECTION_OPTION_TIMEOUT, 0u);
	MHD_set_connection_option(req->connection,
				  MHD_CONNECTION_OPTION_TIMEOUT,
				  req->gw->agent_timeout_s);
}

static enum MHD_Result last_call(struct MHD_Connection *c,
				 struct gateway_request *req)
{
	enum MHD_Result rc;

	if (record_request(req) < 0)
		return MHD_NO;
	if (req->too_large)
		return answer_too_large(c, req);
	rc = dispatch(c, req);
	gateway_touch(req);
	return rc;
}

static enum MHD_Result access_handler(void *cls, struct MHD_Connection *c,
				      const char *url, const char *method,
				      const char *version,
				      const char *upload_data,
				      size_t *upload_data_size, void **con_cls)
{
	struct gateway_request *req = *con_cls;

	(void)cls;
	(void)url;
	if (!req)
		return MHD_NO;
	if (!req->started)
		return first_call(c, req, method, version);
	if (*upload_data_size > 0) {
		if (append_body(req, upload_data, *upload_data_size) < 0)
			return MHD_NO;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (req->answered)
		return MHD_YES;
	return last_call(c, req);
}

static int redact_exchange(struct gateway_request *req)
{
	struct harness_exchange *ex = req->ex;

	if (!ex->request.method && record_request(req) < 0)
		return -1;
	if (!request_secrets(req) ||
	    harness_secrets_add_credentials(&req->secrets,
					    &ex->response.headers) < 0)
		return -1;
	return harness_redact_response(&req->secrets, &ex->response);
}

static void finish_exchange(struct gateway_request *req)
{
	struct harness_gateway *gw = req->gw;
	struct harness_exchange *ex = req->ex;
	int rc;

	ex->duration_us = gateway_elapsed_us(req);
	rc = redact_exchange(req);
	req->ex = NULL;
	/* NOTE: an exchange that cannot be redacted (out of memory) is
	 * dropped rather than stored with its secrets. */
	if (rc < 0 || !gw->config.sink.finished) {
		harness_exchange_release(ex);
		free(ex);
		return;
	}
	gateway_sink_push(gw, ex);
}

static void free_request(struct gateway_request *req)
{
	harness_request_release(&req->live);
	harness_secrets_release(&req->secrets);
	harness_response_release(&req->playback.owned);
	if (req->ex) {
		harness_exchange_release(req->ex);
		free(req->ex);
	}
	free(req->uri);
	free(req);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct gateway_request *req = *con_cls;

	(void)cls;
	(void)c;
	if (!req)
		return;
	*con_cls = NULL;
	if (req->gw->stopping && toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
		gateway_set_outcome(req, HARNESS_CLIENT_ABORTED,
				    "the gateway stopped before the response "
				    "ended");
	if (toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED)
		gateway_set_outcome(req, HARNESS_CLIENT_ABORTED,
				    "the agent was silent for longer than "
				    "--agent-timeout, so the gateway closed "
				    "the connection");
	/* A transfer that failed before a response head got the gateway's
	 * own error response, but still has its curl state. */
	if (req->forward.multi)
		gateway_forward_finish(req);
	if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
		gateway_set_outcome(req, HARNESS_CLIENT_ABORTED,
				    "the agent closed the connection before "
				    "the response ended");
	if (req->ex && req->started)
		finish_exchange(req);
	free_request(req);
}

/* An agent that opens a connection per request still reuses the
 * upstream connection of an earlier one, which saves a TCP handshake
 * (and a TLS one) on the way to its first byte. */
#define MAX_IDLE_CONNS 32

static struct gateway_conn *take_conn(struct harness_gateway *gw)
{
	struct gateway_conn *conn;

	pthread_mutex_lock(&gw->lock);
	conn = gw->idle;
	if (conn) {
		gw->idle = conn->next;
		gw->n_idle--;
	}
	pthread_mutex_unlock(&gw->lock);
	if (conn)
		return conn;

	conn = calloc(1, sizeof(*conn));
	if (conn && gateway_conn_init(conn) < 0) {
		free(conn);
		return NULL;
	}
	return conn;
}

static void put_conn(struct harness_gateway *gw, struct gateway_conn *conn)
{
	conn->fd = -1;
	pthread_mutex_lock(&gw->lock);
	if (gw->n_idle < MAX_IDLE_CONNS) {
		conn->next = gw->idle;
		gw->idle = conn;
		gw->n_idle++;
		conn = NULL;
	}
	pthread_mutex_unlock(&gw->lock);
	if (conn) {
		gateway_conn_release(conn);
		free(conn);
	}
}

static void notify_connection(void *cls, struct MHD_Connection *c,
			      void **socket_context,
			      enum MHD_ConnectionNotificationCode code)
{
	struct harness_gateway *gw = cls;
	struct gateway_conn *conn = *socket_context;
	const union MHD_ConnectionInfo *info;
	int one = 1;

	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (conn)
			put_conn(gw, conn);
		*socket_context = NULL;
		return;
	}
	conn = take_conn(gw);
	if (!conn)
		return;
	info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	conn->fd = info ? info->connect_fd : -1;
	/* Each relayed SSE event must leave at once, not wait for Nagle. */
	if (conn->fd >= 0)
		setsockopt(conn->fd, IPPROTO_TCP, TCP_NODELAY, &one,
			   sizeof(one));
	*socket_context = conn;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;

static void init_curl(void)
{
	curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Only numeric addresses are accepted, so that no name lookup leaves the
 * machine; "localhost" means 127.0.0.1. */
static int listen_on(const char *host, unsigned short port)
{
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
	struct sockaddr_in sin = {.sin_family = AF_INET};
	int one = 1, fd;

	if (!host || strcmp(host, "localhost") == 0)
		host = "127.0.0.1";
	if (inet_pton(AF_INET, host, &sin.sin_addr) == 1) {
		sin.sin_port = htons(port);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 &&
		    (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
				sizeof(one)) < 0 ||
		     bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0))
			goto fail;
	} else if (inet_pton(AF_INET6, host, &sin6.sin6_addr) == 1) {
		sin6.sin6_port = htons(port);
		fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 &&
		    (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
				sizeof(one)) < 0 ||
		     bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) < 0))
			goto fail;
	} else {
		harness_set_error("cannot listen: '%s': not a numeric IP "
				  "address",
				  host);
		return -1;
	}
	if (fd < 0 || listen(fd, 128) < 0)
		goto fail;
	return fd;
fail:
	harness_set_error("cannot listen: '%s:%u': %s", host, port,
			  strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

static unsigned short socket_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* Return the reason fd cannot be served, or NULL for a listening TCP
 * socket. */
static const char *listen_fd_problem(int fd)
{
	int listening = 0, type = 0, domain = 0;
	socklen_t len = sizeof(int);
	struct stat st;

	if (fstat(fd, &st) < 0)
		return strerror(errno);
	if (!S_ISSOCK(st.st_mode))
		return "not a socket";
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
	    type != SOCK_STREAM)
		return "not a stream socket";
	len = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 ||
	    (domain != AF_INET && domain != AF_INET6))
		return "not an IPv4 or IPv6 socket";
	len = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 ||
	    !listening)
		return "not a listening socket";
	return NULL;
}

/* Check a socket passed in before libmicrohttpd gets it: it takes any
 * number, serves nothing on a wrong one and aborts when closing it. */
static int check_listen_fd(int fd)
{
	const char *why = listen_fd_problem(fd);

	if (!why)
		return 0;
	harness_set_error("invalid listen socket: 'fd %d': %s", fd, why);
	harness_set_hint("pass the number of an open TCP socket on which "
			 "listen() was called, or use --listen HOST:PORT");
	return -1;
}

/* The numeric address fd is bound to, or "" when it has none. */
static void socket_host(int fd, char *host, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	const void *addr = NULL;

	host[0] = '\0';
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return;
	if (ss.ss_family == AF_INET)
		addr = &((struct sockaddr_in *)&ss)->sin_addr;
	else if (ss.ss_family == AF_INET6)
		addr = &((struct sockaddr_in6 *)&ss)->sin6_addr;
	if (!addr || !inet_ntop(ss.ss_family, addr, host, (socklen_t)size))
		host[0] = '\0';
}

static int check_upstreams(const struct harness_gateway_config *config)
{
	for (size_t i = 0; i < config->n_upstreams; i++) {
		const struct harness_upstream *u = &config->upstreams[i];

		if (harness_upstream_check(u) < 0)
			return -1;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(config->upstreams[j].name, u->name) == 0) {
				harness_set_error("invalid upstream: '%s': "
						  "named twice",
						  u->name);
				return -1;
			}
		}
	}
	return 0;
}

static int collect_secrets(struct harness_gateway *gw)
{
	const struct harness_gateway_config *config = &gw->config;

	gw->upstream_keys = calloc(config->n_upstreams ? config->n_upstreams
						       : 1,
				   sizeof(*gw->upstream_keys));
	if (!gw->upstream_keys) {
		harness_set_error("cannot start gateway: out of memory");
		return -1;
	}
	for (size_t i = 0; i < config->n_upstreams; i++) {
		const char *secret = config->upstreams[i].secret;

		if (secret &&
		    (harness_secrets_add(&gw->secrets, secret) < 0 ||
		     harness_secrets_add(&gw->upstream_keys[i], secret) < 0))
			return -1;
	}
	for (size_t i = 0; i < config->n_secrets; i++) {
		if (harness_secrets_add(&gw->secrets, config->secrets[i]) < 0)
			return -1;
	}
	return 0;
}

static unsigned connection_limit(void)
{
	struct rlimit nofile;
	rlim_t usable;

	if (getrlimit(RLIMIT_NOFILE, &nofile) < 0 ||
	    nofile.rlim_cur == RLIM_INFINITY)
		return MAX_CONNECTIONS;
	usable = nofile.rlim_cur > RESERVED_FDS * 2
			 ? (nofile.rlim_cur - RESERVED_FDS) / 2
			 : 1;
	return usable < MAX_CONNECTIONS ? (unsigned)usable : MAX_CONNECTIONS;
}

/* poll() rather than select(), so that neither the number of connections
 * nor the socket numbers are bound by FD_SETSIZE. */
static int start_daemon(struct harness_gateway *gw, int fd)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD |
			 MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL;

	gw->daemon = MHD_start_daemon(
		flags, 0, NULL, NULL, access_handler, gw,
		MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_URI_LOG_CALLBACK,
		uri_log, gw, MHD_OPTION_NOTIFY_COMPLETED, completed, gw,
		MHD_OPTION_NOTIFY_CONNECTION, notify_connection, gw,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)GATEWAY_MEMORY,
		MHD_OPTION_CONNECTION_LIMIT, connection_limit(),
		MHD_OPTION_CONNECTION_TIMEOUT, gw->agent_timeout_s,
		MHD_OPTION_END);
	if (!gw->daemon) {
		harness_set_error("cannot start gateway: 'port %u': "
				  "libmicrohttpd failed to start",
				  socket_port(fd));
		return -1;
	}
	return 0;
}

static struct harness_gateway *
gateway_new(const struct harness_gateway_config *config)
{
	struct harness_gateway *gw = calloc(1, sizeof(*gw));

	if (!gw) {
		harness_set_error("cannot start gateway: 'memory': out of "
				  "memory");
		return NULL;
	}
	gw->config = *config;
	gw->own_fd = -1;
	if (!gw->config.max_request_body)
		gw->config.max_request_body = DEFAULT_MAX_BODY;
	if (!gw->config.max_response_body)
		gw->config.max_response_body = HARNESS_MAX_RESPONSE_BODY;
	if (!gw->config.connect_timeout_ms)
		gw->config.connect_timeout_ms = 10000;
	if (!gw->config.idle_timeout_ms)
		gw->config.idle_timeout_ms = 300000;
	if (!gw->config.agent_timeout_ms)
		gw->config.agent_timeout_ms = DEFAULT_AGENT_TIMEOUT_MS;
	gw->agent_timeout_s = gw->config.agent_timeout_ms / 1000 +
			      (gw->config.agent_timeout_ms % 1000 != 0);
	pthread_mutex_init(&gw->lock, NULL);
	pthread_mutex_init(&gw->sink_lock, NULL);
	return gw;
}

struct harness_gateway *
harness_gateway_start(const struct harness_gateway_config *config)
{
	struct harness_gateway *gw;
	int fd = config->listen_fd;

	pthread_once(&curl_once, init_curl);
	if (curl_init_result != CURLE_OK) {
		harness_set_error("cannot start gateway: 'libcurl': %s",
				  curl_easy_strerror(curl_init_result));
		return NULL;
	}
	if (check_upstreams(config) < 0 ||
	    (fd >= 0 && check_listen_fd(fd) < 0))
		return NULL;
	gw = gateway_new(config);
	if (!gw)
		return NULL;
	if (collect_secrets(gw) < 0 ||
	    ((config->recorded || config->replay) &&
	     gateway_replay_init(gw) < 0))
		goto fail;
	if (fd < 0) {
		fd = gw->own_fd = listen_on(config->listen_host, config->port);
		if (fd < 0)
			goto fail;
	}
	gw->port = socket_port(fd);
	socket_host(fd, gw->host, sizeof(gw->host));
	if (gateway_sink_start(gw) < 0) {
		harness_set_error("cannot start gateway: 'sink thread': %s",
				  strerror(errno));
		goto fail;
	}
	if (start_daemon(gw, fd) < 0)
		goto fail;
	return gw;
fail:
	harness_gateway_stop(gw);
	return NULL;
}

unsigned short harness_gateway_port(const struct harness_gateway *gateway)
{
	return gateway->port;
}

const char *harness_gateway_host(const struct harness_gateway *gateway)
{
	return gateway->host;
}

size_t harness_gateway_divergences(const struct harness_gateway *gateway)
{
	struct harness_gateway *gw = (struct harness_gateway *)gateway;
	size_t n;

	pthread_mutex_lock(&gw->lock);
	n = gw->divergences;
	pthread_mutex_unlock(&gw->lock);
	return n;
}

void harness_gateway_stop(struct harness_gateway *gateway)
{
	if (!gateway)
		return;
	gateway->stopping = 1;
	if (gateway->daemon)
		MHD_stop_daemon(gateway->daemon);
	gateway_sink_stop(gateway);
	if (gateway->own_fd >= 0)
		close(gateway->own_fd);
	while (gateway->idle) {
		struct gateway_conn *next = gateway->idle->next;

		gateway_conn_release(gateway->idle);
		free(gateway->idle);
		gateway->idle = next;
	}
	gateway_replay_release(gateway);
	harness_secrets_release(&gateway->secrets);
	for (size_t i = 0; gateway->upstream_keys &&
			   i < gateway->config.n_upstreams;
	     i++)
		harness_secrets_release(&gateway->upstream_keys[i]);
	free(gateway->upstream_keys);
	pthread_mutex_destroy(&gateway->lock);
	pthread_mutex_destroy(&gateway->sink_lock);
	free(gateway);
}
