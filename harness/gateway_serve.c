/*
 * gateway_serve.c - serving responses that are already stored: replayed
 * recordings and scripted turns.
 *
 * The content reader hands each stored chunk to libmicrohttpd on its own,
 * so that each becomes one HTTP chunk on the wire, and when pacing waits
 * until the chunk's recorded offset from the start of the request. The
 * served response is recorded like a forwarded one.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "harness/error.h"
#include "harness/gateway_internal.h"
#include "harness/match.h"
#include "harness/model_script.h"
#include "harness/normalize.h"

#define PLAY_BLOCK (32 * 1024)

/* Sleep until offset_us after the request started, watching the agent's
 * socket. Returns -1 when the agent is gone. */
static int wait_until(struct gateway_request *req, uint64_t offset_us)
{
	int watch = req->conn && req->conn->fd >= 0;

	for (;;) {
		uint64_t now = gateway_elapsed_us(req);
		struct pollfd pfd = {.fd = watch ? req->conn->fd : -1,
				     .events = POLLRDHUP};
		struct timespec wait;

		if (now >= offset_us)
			return 0;
		wait.tv_sec = (time_t)((offset_us - now) / 1000000);
		wait.tv_nsec = (long)((offset_us - now) % 1000000) * 1000;
		if (ppoll(&pfd, 1, &wait, NULL) > 0 &&
		    gateway_client_gone(pfd.fd, &watch))
			return -1;
	}
}

/* Extra time for an agent whose abort timer fires late in a replay,
 * because it was scheduled late or its sandbox started slower. */
#define ABORT_GRACE_US (5 * 1000000ULL)

/* Wait for the agent to close the connection of a request that the
 * recorded agent abandoned (an SDK's timeout or AbortController). Wait
 * at most until limit_us after the request started, so that an agent
 * that never closes it cannot hang the replay. Returns 1 when it closed
 * it. */
static int wait_for_close(struct gateway_request *req, uint64_t limit_us)
{
	int watch = req->conn && req->conn->fd >= 0;

	while (!req->gw->stopping) {
		uint64_t now = gateway_elapsed_us(req), left;
		struct pollfd pfd = {.fd = watch ? req->conn->fd : -1,
				     .events = POLLRDHUP};
		struct timespec wait = {0};

		if (now >= limit_us)
			break;
		/* Short slices, so that the wait ends soon after the gateway
		 * starts stopping. */
		left = limit_us - now < 100000 ? limit_us - now : 100000;
		wait.tv_nsec = (long)left * 1000;
		if (ppoll(&pfd, 1, &wait, NULL) > 0 &&
		    gateway_client_gone(pfd.fd, &watch))
			return 1;
	}
	gateway_touch(req);
	return 0;
}

static ssize_t play_next(struct gateway_request *req, char *buf, size_t max)
{
	struct gateway_playback *p = &req->playback;
	const struct harness_response *resp = p->response;
	const struct harness_chunk *chunk;
	size_t n;

	while (p->chunk < resp->n_chunks && resp->chunks[p->chunk].len == 0)
		p->chunk++;
	if (p->chunk >= resp->n_chunks) {
		/* The recorded agent stopped reading here and closed the
		 * connection itself. A connection cut at once would be an
		 * error that it never had. */
		if (p->abandon_limit_us)
			wait_for_close(req, p->abandon_limit_us);
		else if (p->paced && wait_until(req, p->end_us) < 0)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		return p->cut ? MHD_CONTENT_READER_END_WITH_ERROR
			      : MHD_CONTENT_READER_END_OF_STREAM;
	}
	chunk = &resp->chunks[p->chunk];
	if (p->offset == 0) {
		if (p->paced && wait_until(req, chunk->offset_us) < 0)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		if (harness_response_add_chunk(&req->ex->response, chunk->data,
					       chunk->len,
					       gateway_elapsed_us(req)) < 0)
			return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	n = chunk->len - p->offset;
	if (n > max)
		n = max;
	memcpy(buf, chunk->data + p->offset, n);
	p->offset += n;
	if (p->offset == chunk->len) {
		p->chunk++;
		p->offset = 0;
	}
	return (ssize_t)n;
}

static ssize_t play(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct gateway_request *req = cls;
	ssize_t n = play_next(req, buf, max);

	(void)pos;
	if (req->playback.paced)
		gateway_touch(req);
	return n;
}

static uint64_t stored_size(const struct gateway_request *req,
			    const struct harness_response *resp)
{
	size_t total = harness_response_body_len(resp);
	uint64_t n;

	if (harness_headers_get(&resp->headers, "transfer-encoding") ||
	    gateway_content_length(&resp->headers, &n) != 0)
		return MHD_SIZE_UNKNOWN;
	/* A HEAD response announces the length of a body it never sends,
	 * and a cut one the length it failed to reach. A body stored
	 * decoded no longer has the announced length, so it goes out
	 * chunked. */
	if (strcmp(req->live.method, "HEAD") != 0 && !req->playback.cut &&
	    n != total)
		return MHD_SIZE_UNKNOWN;
	return n;
}

static int copy_head(struct harness_response *to,
		     const struct harness_response *from)
{
	to->status = from->status;
	for (size_t i = 0; i < from->headers.count; i++) {
		if (harness_headers_add(&to->headers,
					from->headers.items[i].name,
					from->headers.items[i].value) < 0)
			return -1;
	}
	return 0;
}

/* Queue a 502 that names such a header, in place of the stored response
 * that libmicrohttpd would fail with a closed connection. */
static enum MHD_Result queue_unsendable(struct MHD_Connection *c,
					struct gateway_request *req,
					const struct harness_header *h)
{
	char message[512];

	snprintf(message, sizeof(message),
		 "the stored response has a header that cannot be sent: "
		 "'%.200s': %s", h->name, gateway_header_flaw(h));
	harness_response_release(&req->ex->response);
	req->ex->outcome = HARNESS_COMPLETE;
	gateway_set_outcome(req, HARNESS_UPSTREAM_FAILED, message);
	return gateway_queue_error(c, req, MHD_HTTP_BAD_GATEWAY,
				   "recording_invalid", message, NULL);
}

static enum MHD_Result queue_playback(struct MHD_Connection *c,
				      struct gateway_request *req)
{
	const struct harness_response *resp = req->playback.response;
	struct MHD_Response *response;
	enum MHD_Result rc;

	if (copy_head(&req->ex->response, resp) < 0)
		return MHD_NO;
	if (resp->status == 204 || resp->status == 304)
		response = gateway_bodiless_response(resp);
	else
		response = MHD_create_response_from_callback(
			stored_size(req, resp), PLAY_BLOCK, play, req, NULL);
	if (!response)
		return MHD_NO;
	if (gateway_add_headers(response, resp, NULL, 0) < 0) {
		const struct harness_header *bad =
			gateway_unsendable_header(resp);

		MHD_destroy_response(response);
		return bad ? queue_unsendable(c, req, bad) : MHD_NO;
	}
	req->ex->response.head_offset_us = gateway_elapsed_us(req);
	rc = MHD_queue_response(c, (unsigned)resp->status, response);
	MHD_destroy_response(response);
	req->answered = 1;
	return rc;
}

enum MHD_Result gateway_serve_script(struct MHD_Connection *c,
				     struct gateway_request *req)
{
	struct gateway_playback *p = &req->playback;
	enum harness_outcome outcome = HARNESS_COMPLETE;

	free(req->ex->upstream);
	req->ex->upstream = strdup("script");
	if (harness_script_respond(req->gw->config.script, &req->ex->request,
				   &p->owned, &outcome) < 0)
		return gateway_queue_error(
			c, req, MHD_HTTP_INTERNAL_SERVER_ERROR, "script_failed",
			harness_error(), NULL);
	if (outcome == HARNESS_NO_SCRIPT_TURN)
		gateway_set_outcome(req, outcome,
				    "the model script has no turn left for "
				    "this request");
	p->response = &p->owned;
	return queue_playback(c, req);
}

static enum MHD_Result serve_recorded(struct MHD_Connection *c,
				      struct gateway_request *req, size_t index)
{
	const struct harness_exchange *rec = &req->gw->config.recorded[index];
	struct gateway_playback *p = &req->playback;

	free(req->ex->upstream);
	req->ex->upstream = strdup(rec->upstream ? rec->upstream : "");
	if (rec->outcome != HARNESS_COMPLETE)
		gateway_set_outcome(req, rec->outcome, rec->failure);
	/* The upstream sent no more after the recorded agent abandoned the
	 * request, so the replay waits for the agent to abandon it too. */
	if (rec->outcome == HARNESS_CLIENT_ABORTED)
		p->abandon_limit_us = 2 * rec->duration_us + ABORT_GRACE_US;
	if (rec->response.status == 0 && p->abandon_limit_us &&
	    wait_for_close(req, p->abandon_limit_us))
		return MHD_NO;
	if (rec->response.status == 0)
		return gateway_queue_error(c, req, MHD_HTTP_BAD_GATEWAY,
					   "recording_has_no_response",
					   "the recorded exchange ended "
					   "before any response arrived",
					   NULL);
	p->response = &rec->response;
	p->paced = !req->gw->config.fast;
	/* The head goes out at its recorded offset. A model that was slow
	 * to begin a response that is not streamed kept the agent waiting
	 * for the head, not for the body after it. */
	if (p->paced && wait_until(req, rec->response.head_offset_us) < 0)
		return MHD_NO;
	gateway_touch(req);
	/* The end of a chunked body, or its cut, reaches the agent when it
	 * did, as after an upstream that closes a while after its last
	 * event. */
	p->end_us = rec->duration_us;
	p->cut = rec->outcome == HARNESS_UPSTREAM_CUT ||
		 rec->outcome == HARNESS_CLIENT_ABORTED;
	return queue_playback(c, req);
}

/* The divergence report: what was requested, the closest recording and
 * the structured differences (see docs/gateway.md). */
static cJSON *divergence_report(const struct gateway_request *req,
				const struct harness_match *m)
{
	cJSON *report = cJSON_CreateObject(), *request, *closest;

	cJSON_AddStringToObject(report, "verdict",
				harness_verdict_name(m->verdict));
	request = cJSON_AddObjectToObject(report, "request");
	cJSON_AddNumberToObject(request, "seq", (double)req->ex->seq);
	cJSON_AddStringToObject(request, "method", req->ex->request.method);
	cJSON_AddStringToObject(request, "path", req->ex->request.path);
	if (m->index == SIZE_MAX) {
		cJSON_AddNullToObject(report, "closest");
	} else {
		closest = cJSON_AddObjectToObject(report, "closest");
		cJSON_AddNumberToObject(closest, "seq", (double)m->seq);
		cJSON_AddNumberToObject(closest, "common_prefix",
					(double)m->common_prefix);
		/* A repeated request has no differences, so this flag
		 * is what shows that it came once too often. */
		if (m->consumed)
			cJSON_AddTrueToObject(closest, "used");
	}
	cJSON_AddItemToObject(report, "differences",
			      harness_diff_to_json(&m->diff));
	return report;
}

static void report_divergence(struct gateway_request *req, cJSON *report)
{
	struct harness_gateway *gw = req->gw;
	char *text;

	pthread_mutex_lock(&gw->lock);
	gw->divergences++;
	pthread_mutex_unlock(&gw->lock);
	if (!gw->config.sink.diverged)
		return;
	text = cJSON_PrintUnformatted(report);
	if (!text)
		return;
	pthread_mutex_lock(&gw->sink_lock);
	gw->config.sink.diverged(gw->config.sink.ctx, req->ex, text);
	pthread_mutex_unlock(&gw->sink_lock);
	free(text);
}

static enum MHD_Result diverged(struct MHD_Connection *c,
				struct gateway_request *req,
				const struct harness_match *m)
{
	struct harness_gateway *gw = req->gw;
	cJSON *report = divergence_report(req, m);

	report_divergence(req, report);
	if (gw->config.on_divergence == HARNESS_DIVERGE_CLOSEST &&
	    m->index != SIZE_MAX) {
		/* The closest may be used up already, as for a request
		 * repeated after the recording ran out. Serving it again
		 * lets the agent go on, and the playback only reads it. */
		if (!m->consumed)
			harness_matcher_consume(gw->matcher, m->index);
		cJSON_Delete(report);
		return serve_recorded(c, req, m->index);
	}
	if (gw->config.on_divergence == HARNESS_DIVERGE_FORWARD) {
		cJSON_Delete(report);
		return gateway_forward(c, req);
	}
	return gateway_queue_error(c, req, MHD_HTTP_BAD_REQUEST,
				   "replay_diverged",
				   "the request matches no recorded "
				   "exchange; see details for the closest "
				   "one and the differences",
				   report);
}

enum MHD_Result gateway_serve_replay(struct MHD_Connection *c,
				     struct gateway_request *req)
{
	struct harness_match m = {0};
	enum MHD_Result rc;

	if (harness_matcher_find(req->gw->matcher, &req->ex->request, &m) < 0)
		return gateway_queue_error(
			c, req, MHD_HTTP_INTERNAL_SERVER_ERROR, "match_failed",
			harness_error(), NULL);
	if (m.verdict == HARNESS_DIVERGED)
		rc = diverged(c, req, &m);
	else
		rc = serve_recorded(c, req, m.index);
	harness_match_release(&m);
	return rc;
}

int gateway_replay_init(struct harness_gateway *gw)
{
	const struct harness_gateway_config *config = &gw->config;

	gw->normalizer = harness_normalizer_new(HARNESS_VOLATILE_BUILTINS);
	if (!gw->normalizer)
		return -1;
	for (size_t i = 0; i < config->n_match_rules; i++) {
		if (harness_normalizer_add_rule(gw->normalizer,
						config->match_rules[i]) < 0)
			return -1;
	}
	gw->matcher = harness_matcher_new(
		config->recorded, config->n_recorded, gw->normalizer,
		config->ignore_headers, config->n_ignore_headers);
	return gw->matcher ? 0 : -1;
}

void gateway_replay_release(struct harness_gateway *gw)
{
	harness_matcher_free(gw->matcher);
	harness_normalizer_free(gw->normalizer);
	gw->matcher = NULL;
	gw->normalizer = NULL;
}

size_t harness_gateway_unused(const struct harness_gateway *gateway)
{
	return gateway->matcher ? harness_matcher_remaining(gateway->matcher)
				: 0;
}
