/*
 * gateway_forward.c - relaying a request to its upstream with libcurl and
 * the response back to the agent as it arrives.
 *
 * The transfer runs on the connection's own thread through a curl multi
 * handle: the access handler drives it until the response head arrives,
 * then libmicrohttpd's content reader drives it for each piece of the
 * body. So a byte goes out to the agent as soon as curl hands it over,
 * and nothing is buffered beyond what one curl_multi_perform() reads.
 * While waiting, the agent's socket is polled too, so that an agent that
 * disconnects cancels the upstream transfer at once.
 *
 * libcurl is set up to stay out of the way: no content decoding (bodies
 * are relayed and stored as sent), no redirects, no proxy from the
 * environment, HTTP/1.1, and none of its default request headers.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>

#include "harness/error.h"
#include "harness/gateway_internal.h"

/* The content reader's block size. libmicrohttpd 0.9.75 allocates a
 * zeroed block with each response (callgrind shows the calloc), and curl
 * passes at most CURL_MAX_WRITE_SIZE (16 KiB) to on_body() a call. */
#define RELAY_BLOCK (16 * 1024)

int gateway_conn_init(struct gateway_conn *conn)
{
	conn->fd = -1;
	conn->easy = curl_easy_init();
	conn->multi = curl_multi_init();
	if (!conn->easy || !conn->multi) {
		gateway_conn_release(conn);
		return -1;
	}
	return 0;
}

void gateway_conn_release(struct gateway_conn *conn)
{
	if (conn->multi)
		curl_multi_cleanup(conn->multi);
	if (conn->easy)
		curl_easy_cleanup(conn->easy);
	conn->multi = NULL;
	conn->easy = NULL;
}

/* Record len bytes of the body as a chunk, and queue them for the
 * agent. Returns 0, or -1 when memory runs out. */
static int take(struct gateway_request *req, const char *data, size_t len)
{
	struct gateway_forward *f = &req->forward;

	if (len == 0)
		return 0;
	if (harness_response_add_chunk(&req->ex->response, data, len,
				       gateway_elapsed_us(req)) < 0)
		return -1;
	if (f->pending_len + len > f->pending_capacity) {
		size_t capacity =
			f->pending_capacity ? f->pending_capacity : 65536;
		void *grown;

		while (capacity < f->pending_len + len)
			capacity *= 2;
		grown = realloc(f->pending, capacity);
		if (!grown)
			return -1;
		f->pending = grown;
		f->pending_capacity = capacity;
	}
	memcpy(f->pending + f->pending_len, data, len);
	f->pending_len += len;
	f->body_bytes += len;
	return 0;
}

static int is_event_stream(const struct harness_response *resp)
{
	const char *type =
		harness_headers_get(&resp->headers, "content-type");

	return type && strncasecmp(type, "text/event-stream", 17) == 0;
}

/* Return the length of the longest start of data that ends with an
 * event: at a blank line. */
static size_t event_end(const char *data, size_t len)
{
	for (size_t i = len; i > 0; i--) {
		if (data[i - 1] != '\n')
			continue;
		if (i >= 2 && data[i - 2] == '\n')
			return i;
		if (i >= 3 && data[i - 2] == '\r' && data[i - 3] == '\n')
			return i;
	}
	return 0;
}

/* Build the event that reports the cut to the agent, in the shape of
 * an Anthropic "error" event. Returns NULL when memory runs out. */
static char *error_event(const struct gateway_request *req,
			 const char *message, size_t limit)
{
	cJSON *root = cJSON_CreateObject(), *error, *details;
	char *json, *event = NULL;

	cJSON_AddStringToObject(root, "type", "error");
	error = cJSON_AddObjectToObject(root, "error");
	cJSON_AddStringToObject(error, "type", "runbundle_gateway_error");
	cJSON_AddStringToObject(error, "code", "upstream_response_too_large");
	cJSON_AddStringToObject(error, "message", message);
	details = cJSON_AddObjectToObject(error, "details");
	cJSON_AddStringToObject(details, "upstream", req->upstream->name);
	cJSON_AddNumberToObject(details, "limit_bytes", (double)limit);
	json = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	/* The blank line ends an event cut in an earlier piece; after a
	 * whole event it is ignored. */
	if (json && asprintf(&event, "\n\nevent: error\ndata: %s\n\n",
			     json) < 0)
		event = NULL;
	free(json);
	return event;
}

/*
 * Keep what fits of a body that passes max_response_body. The agent has
 * had the head already, so the error can only go in the body. An event
 * stream ends with its last whole event and then an "error" event, so
 * that the error is not read as part of a broken event. Any other body
 * just stops, and the connection is closed as for a cut transfer. The
 * OpenAI and Anthropic SDKs for Node raise that event as an API error
 * (tests/harness/gateway_limit_sdk.sh).
 * NOTE: the start of an event that an earlier piece brought has been
 * relayed already, and the error's blank line ends it as a broken
 * event. Holding back an unfinished event until its blank line would
 * let the cut drop it, from the record too.
 */
static void cut_at_limit(struct gateway_request *req, const char *data)
{
	struct gateway_forward *f = &req->forward;
	size_t limit = req->gw->config.max_response_body;
	size_t keep = limit - f->body_bytes;
	char failure[256];
	char *event;

	snprintf(failure, sizeof(failure),
		 HARNESS_OVER_LIMIT " of %zu bytes: upstream '%s' sent more, "
		 "and the gateway cut it there; raise the limit with "
		 "--max-response-body", limit, req->upstream->name);
	f->over_limit = 1;
	gateway_set_outcome(req, HARNESS_UPSTREAM_CUT, failure);
	if (!is_event_stream(&req->ex->response)) {
		if (take(req, data, keep) == 0)
			gateway_mask_pending(f);
		return;
	}
	keep = event_end(data, keep);
	event = error_event(req, failure, limit);
	if (take(req, data, keep) == 0 &&
	    (!event || take(req, event, strlen(event)) == 0))
		gateway_mask_pending(f);
	free(event);
}

static size_t on_body(char *data, size_t size, size_t n, void *cls)
{
	struct gateway_request *req = cls;
	struct gateway_forward *f = &req->forward;
	size_t len = size * n;

	if (len > req->gw->config.max_response_body - f->body_bytes) {
		/* A body read whole gets a 502 in its place instead. */
		if (f->whole)
			f->over_limit = 1;
		else
			cut_at_limit(req, data);
		return 0;
	}
	if (!gateway_mask_room(f, len) || take(req, data, len) < 0)
		return 0;
	gateway_mask_pending(f);
	return len;
}

/* Return the length of a header value without its line end. libcurl
 * 7.88 returns an empty value ("X-A:" or "X-A:   ") as "\r". */
static size_t value_len(const char *value)
{
	size_t len = strlen(value);

	while (len > 0 && strchr("\r\n \t", value[len - 1]))
		len--;
	return len;
}

/* Store the head of the final response, in the order received. */
static int store_head(struct gateway_request *req)
{
	struct gateway_forward *f = &req->forward;
	struct harness_response *resp = &req->ex->response;
	struct curl_header *h = NULL;

	harness_headers_release(&resp->headers);
	while ((h = curl_easy_nextheader(f->easy, CURLH_HEADER, -1, h))) {
		char *value = strndup(h->value, value_len(h->value));
		int rc;

		if (!value)
			return -1;
		rc = harness_headers_add(&resp->headers, h->name, value);
		free(value);
		if (rc < 0)
			return -1;
	}
	resp->status = (int)f->status;
	return 0;
}

/* Called for each header line; the empty line ends a head. Interim
 * responses (100 Continue, 103 Early Hints) are skipped. */
static size_t on_header(char *line, size_t size, size_t n, void *cls)
{
	struct gateway_request *req = cls;
	struct gateway_forward *f = &req->forward;
	size_t len = size * n;

	if (f->headers_done || (len != 2 && len != 1))
		return len;
	if (strncmp(line, "\r\n", len) != 0 && strncmp(line, "\n", len) != 0)
		return len;
	curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &f->status);
	if (f->status < 200)
		return len;
	if (store_head(req) < 0)
		return 0;
	/* Decided before the first piece of the body arrives. */
	f->whole = gateway_mask_compressed(f, &req->ex->response.headers);
	f->headers_done = 1;
	return len;
}

/*
 * Headers that a keyed upstream does not get from the agent. The key is
 * masked in the response only where it is whole. So the response must
 * come uncompressed (the gateway requests identity itself), and whole,
 * not as ranges that the agent could put together.
 */
static int is_keyed_only(const char *name)
{
	return strcasecmp(name, "accept-encoding") == 0 ||
	       strcasecmp(name, "range") == 0 ||
	       strcasecmp(name, "if-range") == 0;
}

static int skip_request_header(const struct gateway_request *req,
			       const char *name)
{
	if (gateway_is_hop_header(name) || strcasecmp(name, "host") == 0 ||
	    strcasecmp(name, "expect") == 0 ||
	    (req->upstream->secret && is_keyed_only(name)) ||
	    strcasecmp(name, "x-runbundle-upstream") == 0)
		return 1;
	/* The agent has only a placeholder key, so its credentials are
	 * replaced by the upstream's own. */
	if (req->upstream->secret &&
	    (strcasecmp(name, "authorization") == 0 ||
	     strcasecmp(name, "x-api-key") == 0 ||
	     strcasecmp(name, "api-key") == 0 ||
	     strcasecmp(name, req->upstream->auth_header) == 0))
		return 1;
	return 0;
}

static int add_line(struct curl_slist **list, const char *name,
		    const char *separator, const char *value,
		    const char *value2)
{
	size_t len = strlen(name) + strlen(separator) + strlen(value) +
		     strlen(value2) + 1;
	char *line = malloc(len);
	struct curl_slist *grown;

	if (!line)
		return -1;
	snprintf(line, len, "%s%s%s%s", name, separator, value, value2);
	grown = curl_slist_append(*list, line);
	OPENSSL_cleanse(line, len);
	free(line);
	if (!grown)
		return -1;
	*list = grown;
	return 0;
}

static int build_headers(struct gateway_request *req)
{
	const struct harness_headers *in = &req->live.headers;
	const struct harness_upstream *up = req->upstream;
	struct curl_slist **list = &req->forward.headers;

	for (size_t i = 0; i < in->count; i++) {
		const struct harness_header *h = &in->items[i];

		if (skip_request_header(req, h->name))
			continue;
		/* curl sends "Name;" as a header with an empty value. */
		if (add_line(list, h->name, *h->value ? ": " : ";", h->value,
			     "") < 0)
			return -1;
	}
	/* Suppress the headers curl would add of its own accord. */
	if (add_line(list, "Expect", ":", "", "") < 0 ||
	    (!harness_headers_get(in, "accept") &&
	     add_line(list, "Accept", ":", "", "") < 0) ||
	    (!harness_headers_get(in, "content-type") &&
	     add_line(list, "Content-Type", ":", "", "") < 0))
		return -1;
	/* A body that carries the key must be readable as it passes
	 * (gateway_mask.c). */
	if (up->secret &&
	    add_line(list, "Accept-Encoding", ": ", "identity", "") < 0)
		return -1;
	if (up->secret && up->auth_header &&
	    add_line(list, up->auth_header, ": ",
		     up->auth_prefix ? up->auth_prefix : "", up->secret) < 0)
		return -1;
	return 0;
}

/* Return the upstream URL: the base's path, then the request's, then
 * the base's query and the request's, joined by '&', without fragments. */
static char *build_url(const struct gateway_request *req)
{
	const char *base = req->upstream->url, *target = req->upstream_path;
	size_t base_len = strcspn(base, "?#"), path_len = strcspn(target, "?#");
	const char *base_query = base + base_len + (base[base_len] == '?');
	const char *query = target + path_len + (target[path_len] == '?');
	size_t base_query_len = base[base_len] == '?' ? strcspn(base_query, "#")
						       : 0;
	size_t query_len = target[path_len] == '?' ? strcspn(query, "#") : 0;
	const char *slash = path_len == 0 || *target == '/' ? "" : "/";
	const char *question = base_query_len || target[path_len] == '?' ? "?"
									  : "";
	const char *ampersand = base_query_len && query_len ? "&" : "";
	char *url;

	while (base_len > 0 && base[base_len - 1] == '/')
		base_len--;
	if (asprintf(&url, "%.*s%s%.*s%s%.*s%s%.*s", (int)base_len, base,
		     slash, (int)path_len, target, question,
		     (int)base_query_len, base_query, ampersand, (int)query_len,
		     query) < 0)
		return NULL;
	return url;
}

static void set_method(CURL *easy, const struct harness_request *live)
{
	if (strcmp(live->method, "HEAD") == 0) {
		curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
		return;
	}
	/* An empty body that the agent framed (Content-Length: 0 or an
	 * empty chunked body) goes out with Content-Length: 0, as the agent
	 * sent it. A server may reject a PUT or PATCH without a length with
	 * 411 Length Required (RFC 9110, section 15.5.12). */
	if (live->body_len == 0 && strcmp(live->method, "POST") != 0 &&
	    !harness_headers_get(&live->headers, "content-length") &&
	    !harness_headers_get(&live->headers, "transfer-encoding")) {
		curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
		if (strcmp(live->method, "GET") != 0)
			curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST,
					 live->method);
		return;
	}
	curl_easy_setopt(easy, CURLOPT_POST, 1L);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDS,
			 live->body ? (char *)live->body : "");
	curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
			 (curl_off_t)live->body_len);
	if (strcmp(live->method, "POST") != 0)
		curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, live->method);
}

static void set_options(struct gateway_request *req)
{
	struct gateway_forward *f = &req->forward;
	const struct harness_gateway_config *config = &req->gw->config;
	CURL *easy = f->easy;

	curl_easy_reset(easy);
	curl_easy_setopt(easy, CURLOPT_URL, f->url);
	curl_easy_setopt(easy, CURLOPT_PROXY, "");
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)config->connect_timeout_ms);
	/* An upstream silent for the idle timeout ends the exchange; a
	 * total timeout would cut long streams. */
	curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME,
			 (long)((config->idle_timeout_ms + 999) / 1000));
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, f->error);
	curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(easy, CURLOPT_HEADERDATA, req);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, req);
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, f->headers);
	set_method(easy, &req->live);
}

static const char *failure_code(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		return "upstream_connection_refused";
	case CURLE_COULDNT_RESOLVE_HOST:
		return "upstream_dns_failed";
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
		return "upstream_tls_failed";
	case CURLE_OPERATION_TIMEDOUT:
		return "upstream_timed_out";
	case CURLE_GOT_NOTHING:
		return "upstream_sent_nothing";
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
		return "upstream_connection_reset";
	case CURLE_PARTIAL_FILE:
		return "upstream_response_cut";
	default:
		return "upstream_failed";
	}
}

/* "upstream 'openai': connection refused (Failed to connect ...)", with
 * any secret masked, since curl's message may quote the URL. */
static void describe_failure(struct gateway_request *req, char *out, size_t len)
{
	struct gateway_forward *f = &req->forward;

	snprintf(out, len, "upstream '%s': %s: %s", req->upstream->name,
		 curl_easy_strerror(f->result),
		 f->error[0] ? f->error : "no detail");
	harness_redact_bytes(&req->gw->secrets, (unsigned char *)out,
			     strlen(out));
}

static void transfer_ended(struct gateway_request *req)
{
	struct gateway_forward *f = &req->forward;
	char failure[CURL_ERROR_SIZE + 256];

	f->done = 1;
	if (f->result == CURLE_OK)
		return;
	describe_failure(req, failure, sizeof(failure));
	gateway_set_outcome(req,
			    f->headers_done ? HARNESS_UPSTREAM_CUT
					    : HARNESS_UPSTREAM_FAILED,
			    failure);
}

/* Run the transfer a step: perform, and when that brought nothing new,
 * wait for the upstream or the agent. Returns -1 when the agent is
 * gone. */
static int drive(struct gateway_request *req)
{
	struct gateway_forward *f = &req->forward;
	size_t before = f->pending_len;
	int running = 0, queued;
	struct curl_waitfd agent = {req->conn->fd, CURL_WAIT_POLLIN, 0};
	CURLMsg *msg;

	curl_multi_perform(f->multi, &running);
	while ((msg = curl_multi_info_read(f->multi, &queued))) {
		if (msg->msg == CURLMSG_DONE && msg->easy_handle == f->easy) {
			f->result = msg->data.result;
			transfer_ended(req);
		}
	}
	if (f->done || f->pending_len != before ||
	    f->headers_done_seen != f->headers_done) {
		f->headers_done_seen = f->headers_done;
		return 0;
	}
	curl_multi_poll(f->multi, &agent, f->watch_client ? 1 : 0, 1000, NULL);
	if (agent.revents && gateway_client_gone(agent.fd, &f->watch_client)) {
		f->client_gone = 1;
		return -1;
	}
	return 0;
}

/*
 * Return how much of n bytes to relay in one piece: no more than is
 * left of the recorded chunk that the next byte is in. A replay serves
 * each chunk as one piece, so the agent gets the same pieces live, even
 * when several arrived before libmicrohttpd requested more. An HTTP
 * client hands its reader one piece of body per HTTP chunk.
 */
static size_t piece_left(struct gateway_request *req, size_t n)
{
	struct gateway_forward *f = &req->forward;
	const struct harness_response *resp = &req->ex->response;

	while (f->relayed >= f->piece_end && f->piece < resp->n_chunks)
		f->piece_end += resp->chunks[f->piece++].len;
	if (f->relayed < f->piece_end && f->piece_end - f->relayed < n)
		return f->piece_end - f->relayed;
	return n;
}

static ssize_t relay_next(struct gateway_request *req, char *buf, size_t max)
{
	struct gateway_forward *f = &req->forward;
	size_t n;

	while (f->pending_off == f->safe_len) {
		/* What was held back cannot begin a key that never comes. */
		if (f->done && f->result == CURLE_OK &&
		    f->safe_len < f->pending_len) {
			f->safe_len = f->pending_len;
			break;
		}
		if (f->done)
			return f->result == CURLE_OK
				       ? MHD_CONTENT_READER_END_OF_STREAM
				       : MHD_CONTENT_READER_END_WITH_ERROR;
		if (drive(req) < 0)
			return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	n = f->safe_len - f->pending_off;
	if (n > max)
		n = max;
	if (!f->decoded)
		n = piece_left(req, n);
	memcpy(buf, f->pending + f->pending_off, n);
	f->pending_off += n;
	f->relayed += n;
	if (f->pending_off == f->safe_len) {
		unsigned char *rest = f->pending + f->pending_off;

		f->pending_len -= f->pending_off;
		memmove(f->pending, rest, f->pending_len);
		f->pending_off = f->safe_len = 0;
	}
	return (ssize_t)n;
}

static ssize_t relay(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct gateway_request *req = cls;
	ssize_t n = relay_next(req, buf, max);

	(void)pos;
	gateway_touch(req);
	return n;
}

/* The body size to announce: the upstream's Content-Length when it sent
 * one, so the agent gets the same framing; otherwise chunked. */
static uint64_t announced_size(const struct harness_response *resp)
{
	uint64_t n;

	if (harness_headers_get(&resp->headers, "transfer-encoding") ||
	    gateway_content_length(&resp->headers, &n) != 0)
		return MHD_SIZE_UNKNOWN;
	return n;
}

/* Return the body size to announce. A decoded body of a transfer that
 * was cut goes without one, so that it ends with an error for the
 * agent, as it would have. */
static uint64_t relay_size(const struct gateway_forward *f,
			   const struct harness_response *resp)
{
	if (!f->decoded)
		return announced_size(resp);
	return f->result == CURLE_OK ? f->pending_len : MHD_SIZE_UNKNOWN;
}

/* Send the agent a 502 with code and message. The exchange records it
 * in place of the upstream's response, whatever else ended the
 * transfer. */
static enum MHD_Result queue_in_place(struct MHD_Connection *c,
				      struct gateway_request *req,
				      const char *code, const char *message,
				      cJSON *details)
{
	harness_response_release(&req->ex->response);
	req->ex->outcome = HARNESS_COMPLETE;
	gateway_set_outcome(req, HARNESS_UPSTREAM_FAILED, message);
	return gateway_queue_error(c, req, MHD_HTTP_BAD_GATEWAY, code,
				   message, details);
}

/*
 * Queue a 502 with code in place of the upstream's response. message
 * (size bytes) may quote what the upstream sent, which can hold its key:
 * split there, the key cannot be masked, so plain, which quotes
 * nothing, replaces message. A whole key is masked.
 */
static enum MHD_Result queue_quoting(struct MHD_Connection *c,
				     struct gateway_request *req,
				     const char *code, char *message,
				     size_t size, const char *plain)
{
	const struct harness_secrets *keys = req->forward.keys;
	cJSON *details = cJSON_CreateObject();

	cJSON_AddStringToObject(details, "upstream", req->upstream->name);
	if (keys && harness_has_split_secret(keys, message))
		snprintf(message, size, "%s", plain);
	if (keys)
		harness_redact_bytes(keys, (unsigned char *)message,
				     strlen(message));
	return queue_in_place(c, req, code, message, details);
}

/* Queue a 502 in place of a response with a header that cannot be sent.
 * libmicrohttpd would close the connection for some, and send others
 * with their control bytes. */
static enum MHD_Result queue_header_invalid(struct MHD_Connection *c,
					    struct gateway_request *req,
					    const struct harness_header *bad)
{
	char message[512], plain[256];

	snprintf(message, sizeof(message),
		 "upstream '%s': the response has a header that cannot be "
		 "relayed: '%.200s': %s", req->upstream->name, bad->name,
		 gateway_header_flaw(bad));
	snprintf(plain, sizeof(plain),
		 "upstream '%s': the response has a header that cannot be "
		 "relayed: %s", req->upstream->name, gateway_header_flaw(bad));
	return queue_quoting(c, req, "upstream_header_invalid", message,
			     sizeof(message), plain);
}

static enum MHD_Result queue_relay(struct MHD_Connection *c,
				   struct gateway_request *req)
{
	const struct harness_response *resp = &req->ex->response;
	struct gateway_forward *f = &req->forward;
	struct MHD_Response *response;
	enum MHD_Result rc;

	if (resp->status == 204 || resp->status == 304)
		response = gateway_bodiless_response(resp);
	else
		response = MHD_create_response_from_callback(
			relay_size(f, resp), RELAY_BLOCK, relay, req, NULL);
	if (!response)
		return MHD_NO;
	if (gateway_add_headers(response, resp, f->keys,
				f->decoded) < 0) {
		const struct harness_header *bad =
			gateway_unsendable_header(resp);

		MHD_destroy_response(response);
		return bad ? queue_header_invalid(c, req, bad) : MHD_NO;
	}
	req->ex->response.head_offset_us = gateway_elapsed_us(req);
	rc = MHD_queue_response(c, (unsigned)resp->status, response);
	MHD_destroy_response(response);
	req->answered = 1;
	f->relaying = 1;
	return rc;
}

static enum MHD_Result queue_failure(struct MHD_Connection *c,
				     struct gateway_request *req)
{
	struct gateway_forward *f = &req->forward;
	char message[CURL_ERROR_SIZE + 256];
	cJSON *details = cJSON_CreateObject();

	describe_failure(req, message, sizeof(message));
	cJSON_AddStringToObject(details, "upstream", req->upstream->name);
	cJSON_AddNumberToObject(details, "curl_code", f->result);
	/* libcurl 7.88 passes the bytes after a 101 to on_body(), and no
	 * final head follows. The agent gets none of them, nor does the
	 * record. libcurl then reports that nothing came. */
	harness_response_release(&req->ex->response);
	if (!f->headers_done && f->status == MHD_HTTP_SWITCHING_PROTOCOLS) {
		snprintf(message, sizeof(message),
			 "upstream '%s': answered 101 Switching Protocols, "
			 "and the gateway relays no protocol but HTTP",
			 req->upstream->name);
		return gateway_queue_error(c, req, MHD_HTTP_BAD_GATEWAY,
					   "upstream_switched_protocols",
					   message, details);
	}
	return gateway_queue_error(c, req, MHD_HTTP_BAD_GATEWAY,
				   failure_code(f->result), message, details);
}

/* libcurl's limit on a whole response head, in bytes, as its message
 * "Too large response headers" gives it. */
#define GATEWAY_CURL_MAX_HEAD 307200

/*
 * Return whether curl gave up on the response head for its size. A line
 * of CURL_MAX_HTTP_HEADER bytes or more is out of memory in libcurl
 * 7.88, with no message, and CURLE_TOO_LARGE in later versions. A head
 * above GATEWAY_CURL_MAX_HEAD is a receive error.
 */
static bool head_rejected(const struct gateway_forward *f)
{
	if (f->headers_done)
		return false;
#ifdef CURLE_TOO_LARGE
	if (f->result == CURLE_TOO_LARGE)
		return true;
#endif
	if (f->result == CURLE_RECV_ERROR)
		return strstr(f->error, "Too large response headers") != NULL;
	return f->result == CURLE_OUT_OF_MEMORY;
}

static enum MHD_Result queue_head_rejected(struct MHD_Connection *c,
					   struct gateway_request *req)
{
	const struct gateway_forward *f = &req->forward;
	char message[512];
	cJSON *details = cJSON_CreateObject();

	cJSON_AddStringToObject(details, "upstream", req->upstream->name);
	cJSON_AddNumberToObject(details, "curl_code", f->result);
	cJSON_AddNumberToObject(details, "line_limit_bytes",
				CURL_MAX_HTTP_HEADER);
	cJSON_AddNumberToObject(details, "head_limit_bytes", GATEWAY_CURL_MAX_HEAD);
	if (f->result == CURLE_RECV_ERROR)
		snprintf(message, sizeof(message),
			 "upstream '%s': the response head has more than the "
			 "%d bytes that libcurl reads", req->upstream->name,
			 GATEWAY_CURL_MAX_HEAD);
	else
		snprintf(message, sizeof(message),
			 "upstream '%s': a line of the response head has %d "
			 "bytes or more, with its line end, which libcurl does "
			 "not read (or the gateway ran out of memory)",
			 req->upstream->name, CURL_MAX_HTTP_HEADER);
	return queue_in_place(c, req, "upstream_header_too_large", message,
			      details);
}

/* Return the size of a response head as relayed, status line aside. */
static size_t head_bytes(const struct harness_headers *headers)
{
	size_t n = 0;

	for (size_t i = 0; i < headers->count; i++)
		n += strlen(headers->items[i].name) +
		     strlen(headers->items[i].value) + 4;
	return n;
}

/*
 * A response head that does not fit in the connection's memory beside
 * the request's head would reach the agent as a closed connection. It
 * gets a 502 that names both sizes.
 */
static enum MHD_Result queue_head_too_large(struct MHD_Connection *c,
					    struct gateway_request *req,
					    size_t bytes, size_t request)
{
	char message[512];
	cJSON *details = cJSON_CreateObject();

	cJSON_AddStringToObject(details, "upstream", req->upstream->name);
	cJSON_AddNumberToObject(details, "head_bytes", (double)bytes);
	cJSON_AddNumberToObject(details, "request_head_bytes",
				(double)request);
	snprintf(message, sizeof(message),
		 "upstream '%s': the response head has %zu bytes, and with "
		 "the request head's %zu that is more than the %d that the "
		 "gateway relays", req->upstream->name, bytes, request,
		 GATEWAY_MAX_HEADS);
	return queue_in_place(c, req, "upstream_header_too_large", message,
			      details);
}

/*
 * A compressed body that could hide the key and cannot be decoded goes
 * to no one: the agent gets a 502 in place of the upstream's response.
 */
static enum MHD_Result queue_unchecked(struct MHD_Connection *c,
				       struct gateway_request *req)
{
	char message[512], plain[256];

	snprintf(message, sizeof(message),
		 "upstream '%s': the response body cannot be checked for "
		 "the upstream's key, so it was not relayed: %s",
		 req->upstream->name, harness_error());

	/* The decoder's error quotes the Content-Encoding, which the
	 * upstream may have made of the key. */
	snprintf(plain, sizeof(plain),
		 "upstream '%s': the response body cannot be checked for the "
		 "upstream's key, so it was not relayed: its Content-Encoding "
		 "cannot be decoded", req->upstream->name);
	return queue_quoting(c, req, "upstream_body_unchecked", message,
			     sizeof(message), plain);
}

/*
 * A body that is known to pass max_response_body before any of it goes
 * out, by its Content-Length or because it is read whole, gets a 502
 * in its place. An SDK retries a 502 and then gets the same error.
 */
static enum MHD_Result queue_too_large(struct MHD_Connection *c,
				       struct gateway_request *req)
{
	size_t limit = req->gw->config.max_response_body;
	char message[512];
	cJSON *details = cJSON_CreateObject();

	cJSON_AddStringToObject(details, "upstream", req->upstream->name);
	cJSON_AddNumberToObject(details, "limit_bytes", (double)limit);
	snprintf(message, sizeof(message),
		 HARNESS_OVER_LIMIT " of %zu bytes: upstream '%s' sent a "
		 "larger one, so it was not relayed; raise the limit with "
		 "--max-response-body", limit, req->upstream->name);
	return queue_in_place(c, req, "upstream_response_too_large", message,
			      details);
}

/* Return whether the Content-Length values differ, in two fields or in
 * one ("2, 3"), which libcurl reads by another value than is relayed. */
static bool lengths_differ(const struct harness_headers *headers)
{
	const char *first = NULL;
	size_t first_len = 0;

	if (harness_headers_get(headers, "transfer-encoding"))
		return false;
	for (size_t i = 0; i < headers->count; i++) {
		const char *p = headers->items[i].value;

		if (strcasecmp(headers->items[i].name, "content-length") != 0)
			continue;
		for (;;) {
			size_t len;

			p += strspn(p, " \t");
			len = strcspn(p, ",");
			while (len > 0 && strchr(" \t", p[len - 1]))
				len--;
			if (!first) {
				first = p;
				first_len = len;
			} else if (len != first_len ||
				   strncmp(p, first, len) != 0) {
				return true;
			}
			p = strchr(p, ',');
			if (!p)
				break;
			p++;
		}
	}
	return false;
}

/* Queue a 502 in place of a response framed by two different lengths,
 * as RFC 9112, section 6.3, requires of a proxy. */
static enum MHD_Result queue_lengths_differ(struct MHD_Connection *c,
					    struct gateway_request *req)
{
	char message[256];
	cJSON *details = cJSON_CreateObject();

	cJSON_AddStringToObject(details, "upstream", req->upstream->name);
	snprintf(message, sizeof(message),
		 "upstream '%s': the response has Content-Length values that "
		 "differ, so its length is unknown", req->upstream->name);
	return queue_in_place(c, req, "upstream_framing_invalid", message,
			      details);
}

/* Nonzero when the response announces a body above the limit. */
static bool announced_too_large(const struct gateway_request *req)
{
	const struct harness_response *resp = &req->ex->response;
	uint64_t size = announced_size(resp);

	if (strcmp(req->live.method, "HEAD") == 0 || resp->status == 204 ||
	    resp->status == 304 || size == MHD_SIZE_UNKNOWN)
		return false;
	return size > req->gw->config.max_response_body;
}

static int start_transfer(struct gateway_request *req)
{
	struct gateway_forward *f = &req->forward;

	f->easy = req->conn->easy;
	f->multi = req->conn->multi;
	f->watch_client = req->conn->fd >= 0;
	gateway_mask_init(f, &req->gw->upstream_keys[req->upstream -
						    req->gw->config.upstreams]);
	f->url = build_url(req);
	if (!f->url || build_headers(req) < 0)
		return -1;
	set_options(req);
	if (curl_multi_add_handle(f->multi, f->easy) != CURLM_OK)
		return -1;
	return 0;
}

enum MHD_Result gateway_forward(struct MHD_Connection *c,
				struct gateway_request *req)
{
	struct gateway_forward *f = &req->forward;
	size_t head, request;

	if (!req->upstream)
		return gateway_queue_error(c, req, MHD_HTTP_BAD_GATEWAY,
					   "no_upstream",
					   "the gateway has no upstream to "
					   "forward to",
					   NULL);
	free(req->ex->upstream);
	req->ex->upstream = strdup(req->upstream->name);
	if (!req->conn || !req->ex->upstream || start_transfer(req) < 0)
		return MHD_NO;

	while (!f->headers_done && !f->done) {
		if (drive(req) < 0)
			return MHD_NO;
	}
	if (!f->headers_done) {
		if (f->result == CURLE_OK) {
			f->result = CURLE_GOT_NOTHING;
			transfer_ended(req);
		}
		if (head_rejected(f))
			return queue_head_rejected(c, req);
		return queue_failure(c, req);
	}
	head = head_bytes(&req->ex->response.headers);
	request = head_bytes(&req->ex->request.headers);
	if (head + request > GATEWAY_MAX_HEADS)
		return queue_head_too_large(c, req, head, request);
	if (lengths_differ(&req->ex->response.headers))
		return queue_lengths_differ(c, req);
	if (announced_too_large(req))
		return queue_too_large(c, req);

	/* A response without a body never reaches the content reader, so
	 * its transfer is finished here, where its end is seen. */
	while (!f->done && (f->whole || strcmp(req->live.method, "HEAD") == 0 ||
			    f->status == 204 || f->status == 304)) {
		if (drive(req) < 0)
			return MHD_NO;
	}
	if (f->whole && f->over_limit)
		return queue_too_large(c, req);
	if (f->whole && gateway_mask_decode(f, &req->ex->response.headers) < 0)
		return queue_unchecked(c, req);
	return queue_relay(c, req);
}

/*
 * Drop from the record the end of the body that was held back as a
 * possible start of the key and never went out, as after a cut there.
 * The record masks only whole keys, so a replay would serve that part.
 */
static void drop_held_back(struct gateway_request *req)
{
	struct gateway_forward *f = &req->forward;
	struct harness_response *resp = &req->ex->response;
	size_t held = f->pending_len - f->safe_len;

	if (!f->relaying || f->decoded || (f->done && f->result == CURLE_OK))
		return;
	while (held > 0 && resp->n_chunks > 0) {
		struct harness_chunk *last = &resp->chunks[resp->n_chunks - 1];
		size_t dropped = held < last->len ? held : last->len;

		last->len -= dropped;
		held -= dropped;
		if (last->len == 0) {
			free(last->data);
			resp->n_chunks--;
		}
	}
}

void gateway_forward_finish(struct gateway_request *req)
{
	struct gateway_forward *f = &req->forward;

	if (req->ex)
		drop_held_back(req);
	if (!f->done)
		gateway_set_outcome(req, HARNESS_CLIENT_ABORTED,
				    "the agent closed the connection; the "
				    "upstream transfer was cancelled");
	if (f->multi && f->easy)
		curl_multi_remove_handle(f->multi, f->easy);
	curl_slist_free_all(f->headers);
	free(f->url);
	free(f->pending);
	memset(f, 0, sizeof(*f));
}
