/*
 * test_match.c - unit tests of replay matching: canonical and volatile
 * equality, the Nth-identical rule, reordered and concurrent requests,
 * compressed bodies, and the closest recording of a divergence.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <brotli/encode.h>
#include <cmocka.h>
#include <pthread.h>
#include <zlib.h>
#include <zstd.h>

#include "harness/error.h"
#include "harness/match.h"

#define MAX_EXCHANGES 48

struct fixture {
	struct harness_exchange exchanges[MAX_EXCHANGES];
	size_t n;
	struct harness_normalizer *normalizer;
};

static void set_request(struct harness_request *r, const char *path,
			const void *body, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->method = strdup("POST");
	r->path = strdup(path);
	r->body = malloc(len + 1);
	assert_non_null(r->body);
	memcpy(r->body, body, len);
	r->body_len = len;
}

/* Add headers given as "Name: value" strings, ending with NULL. */
static void add_headers(struct harness_request *r, const char *const *lines)
{
	for (size_t i = 0; lines && lines[i]; i++) {
		char name[128];
		const char *colon = strchr(lines[i], ':');

		assert_non_null(colon);
		snprintf(name, sizeof(name), "%.*s", (int)(colon - lines[i]),
			 lines[i]);
		assert_int_equal(harness_headers_add(&r->headers, name,
						     colon + 2), 0);
	}
}

static size_t record(struct fixture *f, const char *path, const char *body,
		     const char *const *headers)
{
	struct harness_exchange *e = &f->exchanges[f->n];

	assert_true(f->n < MAX_EXCHANGES);
	memset(e, 0, sizeof(*e));
	e->seq = f->n + 1;
	set_request(&e->request, path, body, strlen(body));
	add_headers(&e->request, headers);
	return f->n++;
}

static struct harness_matcher *matcher_for(struct fixture *f)
{
	struct harness_matcher *m = harness_matcher_new(
		f->exchanges, f->n, f->normalizer, NULL, 0);

	if (!m)
		fail_msg("matcher: %s", harness_error());
	return m;
}

static void find(struct harness_matcher *m, const char *path,
		 const char *body, const char *const *headers,
		 struct harness_match *match)
{
	struct harness_request r;

	set_request(&r, path, body, strlen(body));
	add_headers(&r, headers);
	assert_int_equal(harness_matcher_find(m, &r, match), 0);
	harness_request_release(&r);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->normalizer = harness_normalizer_new(HARNESS_VOLATILE_BUILTINS);
	assert_non_null(f->normalizer);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < f->n; i++)
		harness_exchange_release(&f->exchanges[i]);
	harness_normalizer_free(f->normalizer);
	free(f);
	return 0;
}

static const char *const chat = "/v1/chat/completions";

static void identical_request_matches(void **state)
{
	struct fixture *f = *state;
	struct harness_matcher *m;
	struct harness_match match;

	record(f, chat, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\","
			"\"content\":\"hi\"}]}", NULL);
	m = matcher_for(f);
	find(m, chat, "{ \"messages\" : [ { \"content\":\"hi\", "
		      "\"role\":\"user\" } ], \"model\":\"m\" }",
	     NULL, &match);
	assert_int_equal(match.verdict, HARNESS_IDENTICAL);
	assert_int_equal(match.index, 0);
	assert_int_equal(match.seq, 1);
	assert_true(match.consumed);
	assert_int_equal(match.diff.count, 0);
	assert_int_equal(harness_matcher_remaining(m), 0);
	harness_match_release(&match);
	harness_matcher_free(m);
}

static void nth_identical_gets_nth_response(void **state)
{
	struct fixture *f = *state;
	static const char body[] = "{\"model\":\"m\",\"messages\":[]}";
	struct harness_matcher *m;
	struct harness_match match;

	record(f, chat, body, NULL);
	record(f, chat, "{\"model\":\"other\"}", NULL);
	record(f, chat, body, NULL);
	record(f, chat, body, NULL);
	m = matcher_for(f);

	static const size_t expected[] = { 0, 2, 3 };
	for (size_t i = 0; i < 3; i++) {
		find(m, chat, body, NULL, &match);
		assert_int_equal(match.verdict, HARNESS_IDENTICAL);
		assert_int_equal(match.index, expected[i]);
		harness_match_release(&match);
	}

	/* A fourth copy has no recording left: the closest is the first
	 * copy, used up, not the unused recording that differs. */
	find(m, chat, body, NULL, &match);
	assert_int_equal(match.verdict, HARNESS_DIVERGED);
	assert_int_equal(match.index, 0);
	assert_true(match.consumed);
	assert_int_equal(match.diff.divergent, 0);
	harness_match_release(&match);
	assert_int_equal(harness_matcher_remaining(m), 1);
	harness_matcher_free(m);
}

static void reordered_requests_find_their_own(void **state)
{
	struct fixture *f = *state;
	struct harness_matcher *m;
	struct harness_match match;

	record(f, chat, "{\"messages\":[{\"content\":\"agent A\"}]}", NULL);
	record(f, chat, "{\"messages\":[{\"content\":\"agent B\"}]}", NULL);
	record(f, chat, "{\"messages\":[{\"content\":\"agent C\"}]}", NULL);
	m = matcher_for(f);

	find(m, chat, "{\"messages\":[{\"content\":\"agent C\"}]}", NULL,
	     &match);
	assert_int_equal(match.index, 2);
	harness_match_release(&match);
	find(m, chat, "{\"messages\":[{\"content\":\"agent A\"}]}", NULL,
	     &match);
	assert_int_equal(match.index, 0);
	harness_match_release(&match);
	find(m, chat, "{\"messages\":[{\"content\":\"agent B\"}]}", NULL,
	     &match);
	assert_int_equal(match.index, 1);
	assert_int_equal(match.verdict, HARNESS_IDENTICAL);
	harness_match_release(&match);
	harness_matcher_free(m);
}

struct worker {
	struct harness_matcher *matcher;
	int id;
	size_t index;
	enum harness_verdict verdict;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	struct harness_request r;
	struct harness_match match;
	char body[96];

	snprintf(body, sizeof(body),
		 "{\"messages\":[{\"content\":\"sub-agent %d\"}],\"id\":"
		 "\"%08d-0000-4000-8000-000000000000\"}", w->id, w->id + 100);
	set_request(&r, chat, body, strlen(body));
	if (harness_matcher_find(w->matcher, &r, &match) == 0) {
		w->index = match.index;
		w->verdict = match.verdict;
	}
	harness_match_release(&match);
	harness_request_release(&r);
	return NULL;
}

static void concurrent_requests_match(void **state)
{
	struct fixture *f = *state;
	struct worker workers[12];
	pthread_t threads[12];
	struct harness_matcher *m;

	for (int i = 0; i < 12; i++) {
		char body[96];

		snprintf(body, sizeof(body),
			 "{\"messages\":[{\"content\":\"sub-agent %d\"}],"
			 "\"id\":\"%08d-0000-4000-8000-000000000000\"}",
			 i, i);
		record(f, chat, body, NULL);
	}
	m = matcher_for(f);
	for (int i = 11; i >= 0; i--) {
		workers[i] = (struct worker){ m, i, SIZE_MAX,
					      HARNESS_DIVERGED };
		assert_int_equal(pthread_create(&threads[i], NULL, work,
						&workers[i]), 0);
	}
	for (int i = 0; i < 12; i++)
		pthread_join(threads[i], NULL);
	for (int i = 0; i < 12; i++) {
		assert_int_equal(workers[i].index, (size_t)i);
		assert_int_equal(workers[i].verdict, HARNESS_VOLATILE_ONLY);
	}
	assert_int_equal(harness_matcher_remaining(m), 0);
	harness_matcher_free(m);
}

static void volatile_headers_are_volatile(void **state)
{
	struct fixture *f = *state;
	static const char *const recorded[] = {
		"User-Agent: Agent/1.0.3", "X-Stainless-Retry-Count: 0",
		"X-Request-Id: abc", "Anthropic-Version: 2023-06-01",
		"Host: 127.0.0.1:4000", "Content-Length: 2",
		"Authorization: Bearer [redacted]", NULL };
	static const char *const live[] = {
		"user-agent: Agent/1.0.4", "x-stainless-retry-count: 2",
		"x-request-id: def", "anthropic-version: 2023-06-01",
		"host: 127.0.0.1:5999", "x-api-key: placeholder", NULL };
	struct harness_matcher *m;
	struct harness_match match;

	record(f, "/v1/messages", "{}", recorded);
	m = matcher_for(f);
	find(m, "/v1/messages", "{}", live, &match);
	assert_int_equal(match.verdict, HARNESS_VOLATILE_ONLY);
	assert_int_equal(match.diff.count, 3);
	assert_int_equal(match.diff.divergent, 0);
	assert_string_equal(match.diff.entries[0].path,
			    "headers[\"user-agent\"]");
	assert_string_equal(match.diff.entries[1].path,
			    "headers[\"x-request-id\"]");
	assert_string_equal(match.diff.entries[2].path,
			    "headers[\"x-stainless-retry-count\"]");
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(match.diff.entries[i].class,
				 HARNESS_DIFF_VOLATILE);
	harness_match_release(&match);
	harness_matcher_free(m);
}

static void transport_headers_are_ignored(void **state)
{
	struct fixture *f = *state;
	static const char *const recorded[] = {
		"Host: a:1", "Connection: keep-alive", "Accept-Encoding: gzip",
		NULL };
	static const char *const live[] = { "Host: b:2", "Transfer-Encoding: "
					    "chunked", "Cookie: x=1", NULL };
	struct harness_matcher *m;
	struct harness_match match;

	record(f, chat, "{}", recorded);
	m = matcher_for(f);
	find(m, chat, "{}", live, &match);
	assert_int_equal(match.verdict, HARNESS_IDENTICAL);
	assert_true(harness_match_is_transport_header("CONTENT-LENGTH"));
	assert_false(harness_match_is_transport_header("user-agent"));
	harness_match_release(&match);
	harness_matcher_free(m);
}

static void divergent_header_is_reported(void **state)
{
	struct fixture *f = *state;
	static const char *const recorded[] = { "Anthropic-Version: 2023-06-01",
						NULL };
	static const char *const live[] = { "Anthropic-Beta: tools", NULL };
	struct harness_matcher *m;
	struct harness_match match;

	record(f, "/v1/messages", "{}", recorded);
	m = matcher_for(f);
	find(m, "/v1/messages", "{}", live, &match);
	assert_int_equal(match.verdict, HARNESS_DIVERGED);
	assert_int_equal(match.diff.count, 2);
	assert_string_equal(match.diff.entries[0].path,
			    "headers[\"anthropic-beta\"]");
	assert_null(match.diff.entries[0].recorded);
	assert_string_equal(match.diff.entries[1].path,
			    "headers[\"anthropic-version\"]");
	assert_null(match.diff.entries[1].live);
	assert_false(match.consumed);
	assert_int_equal(harness_matcher_remaining(m), 1);
	harness_match_release(&match);
	harness_matcher_free(m);
}

static void extra_volatile_headers_extend_list(void **state)
{
	struct fixture *f = *state;
	static const char *const names[] = { "x-my-*" };
	static const char *const recorded[] = { "X-My-Trace: 1", NULL };
	static const char *const live[] = { "X-My-Trace: 2", NULL };
	struct harness_matcher *m;
	struct harness_match match;

	record(f, chat, "{}", recorded);
	m = harness_matcher_new(f->exchanges, f->n, f->normalizer, names, 1);
	assert_non_null(m);
	assert_true(harness_matcher_is_volatile_header(m, "x-my-anything"));
	assert_true(harness_matcher_is_volatile_header(m, "X-Stainless-OS"));
	assert_false(harness_matcher_is_volatile_header(m, "x-mine"));
	find(m, chat, "{}", live, &match);
	assert_int_equal(match.verdict, HARNESS_VOLATILE_ONLY);
	harness_match_release(&match);
	harness_matcher_free(m);
}

/* One popular coding agent sends a session UUID in metadata.user_id and
 * the date in its system prompt. */
static void session_id_and_date_in_body(void **state)
{
	struct fixture *f = *state;
	struct harness_matcher *m;
	struct harness_match match;

	record(f, "/v1/messages",
	       "{\"model\":\"claude\",\"metadata\":{\"user_id\":\"user_"
	       "2a9f0c1e7b3d4f5a6b7c8d9e0f1a2b3c"
	       "4d5e6f708192a3b4c5d6e7f8091a2b3c"
	       "_account__session_f47ac10b-58cc-4372-a567-0e02b2c3d479\"},"
	       "\"system\":[{\"type\":\"text\",\"text\":\"You are an agent.\"},"
	       "{\"type\":\"text\",\"text\":\"Today's date is 2025-06-01.\"}],"
	       "\"messages\":[{\"role\":\"user\",\"content\":\"fix it\"}]}",
	       NULL);
	m = matcher_for(f);
	find(m, "/v1/messages",
	     "{\"model\":\"claude\",\"metadata\":{\"user_id\":\"user_"
	     "2a9f0c1e7b3d4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c"
	     "_account__session_0b6e8d1c-2f3a-4b5c-8d9e-0a1b2c3d4e5f\"},"
	     "\"system\":[{\"type\":\"text\",\"text\":\"You are an agent.\"},"
	     "{\"type\":\"text\",\"text\":\"Today's date is 2025-06-02.\"}],"
	     "\"messages\":[{\"role\":\"user\",\"content\":\"fix it\"}]}",
	     NULL, &match);
	assert_int_equal(match.verdict, HARNESS_VOLATILE_ONLY);
	assert_int_equal(match.diff.count, 2);
	assert_int_equal(match.diff.divergent, 0);
	assert_string_equal(match.diff.entries[0].path, "metadata.user_id");
	assert_string_equal(match.diff.entries[1].path, "system[1].text");
	assert_int_equal(match.diff.entries[1].span_start,
			 strlen("Today's date is 2025-06-0"));
	harness_match_release(&match);
	harness_matcher_free(m);
}

/* Another agent sends UUIDv7 item ids in input[].id and a JSON header of
 * turn metadata with Unix-millisecond timestamps. */
static void item_ids_and_json_header(void **state)
{
	struct fixture *f = *state;
	static const char *const recorded[] = {
		"X-Turn-Metadata: {\"turn\":3,\"started_at\":1733300000123,"
		"\"sent_at\":1733300000456}", NULL };
	static const char *const live[] = {
		"X-Turn-Metadata: {\"sent_at\":1764800000999,\"turn\":3,"
		"\"started_at\":1764800000001}", NULL };
	static const char *const changed[] = {
		"X-Turn-Metadata: {\"sent_at\":1764800000999,\"turn\":4,"
		"\"started_at\":1764800000001}", NULL };
	struct harness_matcher *m;
	struct harness_match match;

	record(f, "/v1/responses",
	       "{\"model\":\"gpt\",\"input\":[{\"id\":\"0190b0b4-3f2a-7cc1-"
	       "9e3b-5d1f0c2a9b77\",\"type\":\"message\",\"role\":\"user\","
	       "\"content\":\"hi\"},{\"id\":\"0190b0b4-4000-7cc1-9e3b-"
	       "5d1f0c2a9b78\",\"type\":\"function_call_output\",\"output\":"
	       "\"ok\"}]}", recorded);
	record(f, "/v1/responses",
	       "{\"model\":\"gpt\",\"input\":[{\"id\":\"0190b0b4-3f2a-7cc1-"
	       "9e3b-5d1f0c2a9b77\",\"type\":\"message\",\"role\":\"user\","
	       "\"content\":\"hi\"},{\"id\":\"0190b0b4-4000-7cc1-9e3b-"
	       "5d1f0c2a9b78\",\"type\":\"function_call_output\",\"output\":"
	       "\"ok\"}]}", recorded);
	m = matcher_for(f);
	find(m, "/v1/responses",
	     "{\"model\":\"gpt\",\"input\":[{\"id\":\"0193a1b2-0000-7aaa-"
	     "8bbb-cccccccccccc\",\"type\":\"message\",\"role\":\"user\","
	     "\"content\":\"hi\"},{\"id\":\"0193a1b2-0001-7aaa-8bbb-"
	     "cccccccccccd\",\"type\":\"function_call_output\",\"output\":"
	     "\"ok\"}]}", live, &match);
	assert_int_equal(match.verdict, HARNESS_VOLATILE_ONLY);
	assert_int_equal(match.index, 0);
	assert_int_equal(match.diff.count, 4);
	assert_int_equal(match.diff.divergent, 0);
	assert_string_equal(match.diff.entries[0].path,
			    "headers[\"x-turn-metadata\"].sent_at");
	assert_string_equal(match.diff.entries[1].path,
			    "headers[\"x-turn-metadata\"].started_at");
	assert_string_equal(match.diff.entries[2].path, "input[0].id");
	assert_string_equal(match.diff.entries[3].path, "input[1].id");
	harness_match_release(&match);

	find(m, "/v1/responses",
	     "{\"model\":\"gpt\",\"input\":[{\"id\":\"0193a1b2-0000-7aaa-"
	     "8bbb-cccccccccccc\",\"type\":\"message\",\"role\":\"user\","
	     "\"content\":\"hi\"},{\"id\":\"0193a1b2-0001-7aaa-8bbb-"
	     "cccccccccccd\",\"type\":\"function_call_output\",\"output\":"
	     "\"ok\"}]}", changed, &match);
	assert_int_equal(match.verdict, HARNESS_DIVERGED);
	assert_int_equal(match.index, 1);
	assert_int_equal(match.diff.divergent, 1);
	assert_string_equal(match.diff.entries[2].path,
			    "headers[\"x-turn-metadata\"].turn");
	assert_int_equal(match.diff.entries[2].class, HARNESS_DIFF_DIVERGENT);
	harness_match_release(&match);
	harness_matcher_free(m);
}

static void closest_has_longest_prefix(void **state)
{
	struct fixture *f = *state;
	struct harness_matcher *m;
	struct harness_match match;

	record(f, chat, "{\"messages\":[{\"content\":\"u1\"}]}", NULL);
	record(f, chat, "{\"messages\":[{\"content\":\"u1\"},{\"content\":"
			"\"a1\"},{\"content\":\"u2\"}]}", NULL);
	record(f, chat, "{\"messages\":[{\"content\":\"u1\"},{\"content\":"
			"\"a1\"},{\"content\":\"u2\"},{\"content\":\"a2\"},"
			"{\"content\":\"u3\"}]}", NULL);
	record(f, "/v1/responses", "{\"messages\":[{\"content\":\"u1\"},"
				   "{\"content\":\"a1\"},{\"content\":\"u2\"},"
				   "{\"content\":\"a2\"},{\"content\":"
				   "\"u3 changed\"}]}", NULL);
	record(f, chat, "{\"messages\":[{\"content\":\"u1\"},{\"content\":"
			"\"b1\"},{\"content\":\"u2\"},{\"content\":\"a2\"},"
			"{\"content\":\"u3 changed\"}]}", NULL);
	m = matcher_for(f);
	find(m, chat, "{\"messages\":[{\"content\":\"u1\"},{\"content\":"
		      "\"a1\"},{\"content\":\"u2\"},{\"content\":\"a2\"},"
		      "{\"content\":\"u3 changed\"}]}", NULL, &match);
	assert_int_equal(match.verdict, HARNESS_DIVERGED);
	assert_int_equal(match.index, 2);
	assert_int_equal(match.seq, 3);
	assert_int_equal(match.common_prefix, 4);
	assert_false(match.consumed);
	assert_int_equal(match.diff.count, 1);
	assert_string_equal(match.diff.entries[0].path, "messages[4].content");
	assert_string_equal(match.diff.entries[0].recorded, "\"u3\"");
	assert_string_equal(match.diff.entries[0].live, "\"u3 changed\"");
	assert_int_equal(match.diff.entries[0].span_start, 2);

	/* The user chose to continue with the closest recording. */
	assert_int_equal(harness_matcher_consume(m, match.index), 0);
	assert_int_equal(harness_matcher_consume(m, match.index), -1);
	assert_non_null(strstr(harness_error(), "already used"));
	assert_int_equal(harness_matcher_consume(m, 99), -1);
	harness_match_release(&match);
	harness_matcher_free(m);
}

static void closest_prefers_fewer_differences(void **state)
{
	struct fixture *f = *state;
	struct harness_matcher *m;
	struct harness_match match;

	record(f, chat, "{\"model\":\"a\",\"temperature\":1,\"messages\":"
			"[{\"content\":\"x\"}]}", NULL);
	record(f, chat, "{\"model\":\"b\",\"temperature\":0,\"messages\":"
			"[{\"content\":\"x\"}]}", NULL);
	m = matcher_for(f);
	find(m, chat, "{\"model\":\"b\",\"temperature\":1,\"messages\":"
		      "[{\"content\":\"x\"}]}", NULL, &match);
	assert_int_equal(match.verdict, HARNESS_DIVERGED);
	assert_int_equal(match.common_prefix, 1);
	assert_int_equal(match.diff.divergent, 1);
	harness_match_release(&match);
	harness_matcher_free(m);
}

static void closest_diffs_are_bounded(void **state)
{
	struct fixture *f = *state;
	struct harness_matcher *m;
	struct harness_match match;
	char body[64];

	/* Forty recordings without a conversation: the one that differs
	 * least is the 40th, past the 32 that are diffed. */
	for (int i = 0; i < 39; i++) {
		snprintf(body, sizeof(body), "{\"a\":%d,\"b\":%d}", i, i + 50);
		record(f, chat, body, NULL);
	}
	record(f, chat, "{\"a\":100,\"b\":7}", NULL);
	m = matcher_for(f);
	find(m, chat, "{\"a\":100,\"b\":8}", NULL, &match);
	assert_int_equal(match.verdict, HARNESS_DIVERGED);
	assert_int_equal(match.index, 0);
	assert_int_equal(match.common_prefix, 0);
	assert_int_equal(match.diff.divergent, 2);
	harness_match_release(&match);

	harness_matcher_free(m);
}

static void no_recording_for_endpoint(void **state)
{
	struct fixture *f = *state;
	struct harness_matcher *m;
	struct harness_match match;

	record(f, chat, "{}", NULL);
	m = matcher_for(f);
	find(m, "/v1/messages", "{}", NULL, &match);
	assert_int_equal(match.verdict, HARNESS_DIVERGED);
	assert_int_equal(match.index, SIZE_MAX);
	assert_int_equal(match.seq, 0);
	assert_int_equal(match.diff.count, 0);
	harness_match_release(&match);
	harness_matcher_free(m);

	m = harness_matcher_new(NULL, 0, NULL, NULL, 0);
	assert_non_null(m);
	find(m, chat, "{}", NULL, &match);
	assert_int_equal(match.verdict, HARNESS_DIVERGED);
	assert_int_equal(match.index, SIZE_MAX);
	harness_match_release(&match);
	harness_matcher_free(m);
}

static size_t gzip(const char *text, unsigned char *out, size_t max)
{
	z_stream z;
	size_t len;

	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8,
				      Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (unsigned char *)text;
	z.avail_in = (uInt)strlen(text);
	z.next_out = out;
	z.avail_out = (uInt)max;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	len = z.total_out;
	deflateEnd(&z);
	return len;
}

static void compressed_bodies_are_decoded(void **state)
{
	struct fixture *f = *state;
	static const char body[] = "{\"messages\":[{\"content\":\"zip me\"}]}";
	static const char *const codings[] = { "gzip", "br", "zstd",
					       "gzip, zstd" };
	unsigned char packed[512], twice[512];
	struct harness_matcher *m;

	for (int i = 0; i < 5; i++)
		record(f, chat, body, NULL);
	m = matcher_for(f);
	for (size_t i = 0; i < 5; i++) {
		struct harness_request r;
		struct harness_match match;
		size_t len = sizeof(packed);
		const char *coding = i < 4 ? codings[i] : "gzip";

		if (i == 0 || i == 4) {
			len = gzip(body, packed, sizeof(packed));
		} else if (i == 1) {
			assert_true(BrotliEncoderCompress(
				5, 22, BROTLI_MODE_TEXT, strlen(body),
				(const uint8_t *)body, &len, packed));
		} else if (i == 2) {
			len = ZSTD_compress(packed, sizeof(packed), body,
					    strlen(body), 3);
		} else {
			size_t first = gzip(body, twice, sizeof(twice));

			len = ZSTD_compress(packed, sizeof(packed), twice,
					    first, 3);
		}
		assert_false(ZSTD_isError(len));
		if (i == 4)
			packed[len / 2] ^= 0xff;

		memset(&r, 0, sizeof(r));
		r.method = "POST";
		r.path = (char *)chat;
		r.body = packed;
		r.body_len = len;
		assert_int_equal(harness_headers_add(&r.headers,
						     "Content-Encoding",
						     coding), 0);
		assert_int_equal(harness_matcher_find(m, &r, &match), 0);
		/* A damaged body is compared as the bytes sent. */
		assert_int_equal(match.verdict, i == 4 ? HARNESS_DIVERGED
						       : HARNESS_IDENTICAL);
		harness_match_release(&match);
		harness_headers_release(&r.headers);
	}
	harness_matcher_free(m);
}

static void text_bodies_are_normalized(void **state)
{
	struct fixture *f = *state;
	struct harness_matcher *m;
	struct harness_match match;

	record(f, "/upload", "log at 2025-06-01T10:00:00Z done", NULL);
	record(f, "/upload", "placeholder", NULL);
	/* Nine bytes of binary body, NUL included. */
	memcpy(f->exchanges[1].request.body, "binary\0\1\2", 9);
	f->exchanges[1].request.body_len = 9;
	m = matcher_for(f);
	find(m, "/upload", "log at 2025-06-02T11:00:00Z done", NULL, &match);
	assert_int_equal(match.verdict, HARNESS_VOLATILE_ONLY);
	assert_int_equal(match.index, 0);
	assert_string_equal(match.diff.entries[0].path, "body");
	harness_match_release(&match);

	find(m, "/upload", "binary", NULL, &match);
	assert_int_equal(match.verdict, HARNESS_DIVERGED);
	assert_int_equal(match.index, 1);
	assert_string_equal(match.diff.entries[0].path, "body");
	assert_string_equal(match.diff.entries[0].recorded,
			    "\"(9 bytes of binary data)\"");
	harness_match_release(&match);
	harness_matcher_free(m);
}

static void malformed_live_body_diverges(void **state)
{
	struct fixture *f = *state;
	struct harness_matcher *m;
	struct harness_match match;

	record(f, chat, "{\"messages\":[]}", NULL);
	m = matcher_for(f);
	find(m, chat, "{\"messages\":[", NULL, &match);
	assert_int_equal(match.verdict, HARNESS_DIVERGED);
	assert_int_equal(match.index, 0);
	assert_string_equal(match.diff.entries[0].path, "body");
	harness_match_release(&match);
	harness_matcher_free(m);
}

static void query_differences(void **state)
{
	struct fixture *f = *state;
	struct harness_matcher *m;
	struct harness_match match;
	struct harness_request r;

	record(f, chat, "{}", NULL);
	f->exchanges[0].request.query = strdup("t=1733300000&beta=1");
	record(f, chat, "{}", NULL);
	f->exchanges[1].request.query = strdup("beta=2");
	m = matcher_for(f);

	set_request(&r, chat, "{}", 2);
	r.query = strdup("t=1764800000&beta=1");
	assert_int_equal(harness_matcher_find(m, &r, &match), 0);
	assert_int_equal(match.verdict, HARNESS_VOLATILE_ONLY);
	assert_int_equal(match.index, 0);
	assert_string_equal(match.diff.entries[0].path, "query");
	harness_match_release(&match);

	free(r.query);
	r.query = strdup("beta=3");
	assert_int_equal(harness_matcher_find(m, &r, &match), 0);
	assert_int_equal(match.verdict, HARNESS_DIVERGED);
	assert_int_equal(match.index, 1);
	assert_int_equal(match.diff.entries[0].class, HARNESS_DIFF_DIVERGENT);
	harness_match_release(&match);
	harness_request_release(&r);
	harness_matcher_free(m);
}

static void ignore_rules_make_matches(void **state)
{
	struct fixture *f = *state;
	struct harness_matcher *m;
	struct harness_match match;

	assert_int_equal(harness_normalizer_add_rule(f->normalizer,
						     "path:metadata.run"), 0);
	assert_int_equal(harness_normalizer_add_rule(f->normalizer,
						     "regex:seed \\d+"), 0);
	record(f, chat, "{\"metadata\":{\"run\":[1,2]},\"messages\":"
			"[{\"content\":\"seed 1\"}]}", NULL);
	m = matcher_for(f);
	find(m, chat, "{\"metadata\":{\"run\":{\"x\":3}},\"messages\":"
		      "[{\"content\":\"seed 99\"}]}", NULL, &match);
	assert_int_equal(match.verdict, HARNESS_VOLATILE_ONLY);
	assert_int_equal(match.diff.count, 2);
	assert_string_equal(match.diff.entries[0].path, "messages[0].content");
	assert_string_equal(match.diff.entries[1].path, "metadata.run");
	harness_match_release(&match);
	harness_matcher_free(m);
}

static void without_normalizer_volatile_diverges(void **state)
{
	struct fixture *f = *state;
	struct harness_matcher *m;
	struct harness_match match;

	record(f, chat, "{\"t\":\"2025-06-01\"}", NULL);
	m = harness_matcher_new(f->exchanges, f->n, NULL, NULL, 0);
	find(m, chat, "{\"t\":\"2025-06-02\"}", NULL, &match);
	assert_int_equal(match.verdict, HARNESS_DIVERGED);
	harness_match_release(&match);
	harness_matcher_free(m);
}

static void identical_beats_earlier_volatile(void **state)
{
	struct fixture *f = *state;
	struct harness_matcher *m;
	struct harness_match match;

	record(f, chat, "{\"t\":\"2025-06-01\"}", NULL);
	record(f, chat, "{\"t\":\"2025-06-02\"}", NULL);
	m = matcher_for(f);
	find(m, chat, "{\"t\":\"2025-06-02\"}", NULL, &match);
	assert_int_equal(match.verdict, HARNESS_IDENTICAL);
	assert_int_equal(match.index, 1);
	harness_match_release(&match);
	find(m, chat, "{\"t\":\"2025-06-02\"}", NULL, &match);
	assert_int_equal(match.verdict, HARNESS_VOLATILE_ONLY);
	assert_int_equal(match.index, 0);
	harness_match_release(&match);
	harness_matcher_free(m);
}

/* Recordings used up through one lookup table, or as the closest one,
 * are skipped by the others. */
static void used_recordings_are_skipped_everywhere(void **state)
{
	struct fixture *f = *state;
	struct harness_matcher *m;
	struct harness_match match;

	record(f, chat, "{\"t\":\"2025-06-01\"}", NULL);
	record(f, chat, "{\"t\":\"2025-06-02\"}", NULL);
	record(f, chat, "{\"t\":\"2025-06-03\"}", NULL);
	record(f, chat, "{\"other\":1}", NULL);
	m = matcher_for(f);
	assert_int_equal(harness_matcher_consume(m, 0), 0);
	find(m, chat, "{\"t\":\"2025-06-02\"}", NULL, &match);
	assert_int_equal(match.verdict, HARNESS_IDENTICAL);
	assert_int_equal(match.index, 1);
	harness_match_release(&match);
	find(m, chat, "{\"t\":\"2025-06-09\"}", NULL, &match);
	assert_int_equal(match.verdict, HARNESS_VOLATILE_ONLY);
	assert_int_equal(match.index, 2);
	harness_match_release(&match);
	/* Every recording of its shape is used up, so it diverges, and the
	 * closest is the earliest of those, not the unused one of another
	 * shape. */
	find(m, chat, "{\"t\":\"2025-06-03\"}", NULL, &match);
	assert_int_equal(match.verdict, HARNESS_DIVERGED);
	assert_true(match.consumed);
	assert_int_equal(match.index, 0);
	harness_match_release(&match);
	assert_int_equal(harness_matcher_remaining(m), 1);
	harness_matcher_free(m);
}

/* More endpoints and bodies than the tables start with, found in reverse
 * order: each request finds its own recording. */
static void many_recordings_found_in_any_order(void **state)
{
	struct fixture *f = *state;
	struct harness_matcher *m;
	char path[64], body[64];

	for (int i = 0; i < 40; i++) {
		snprintf(path, sizeof(path), "/v1/endpoint%d", i % 20);
		snprintf(body, sizeof(body), "{\"n\":%d}", i);
		record(f, path, body, NULL);
	}
	m = matcher_for(f);
	for (int i = 39; i >= 0; i--) {
		struct harness_match match;

		snprintf(path, sizeof(path), "/v1/endpoint%d", i % 20);
		snprintf(body, sizeof(body), "{ \"n\": %d }", i);
		find(m, path, body, NULL, &match);
		assert_int_equal(match.verdict, HARNESS_IDENTICAL);
		assert_int_equal(match.index, (size_t)i);
		harness_match_release(&match);
	}
	assert_int_equal(harness_matcher_remaining(m), 0);
	harness_matcher_free(m);
}

static void deep_body_is_compared_as_bytes(void **state)
{
	struct fixture *f = *state;
	size_t depth = 100000;
	char *deep = malloc(depth * 2 + 1);
	struct harness_matcher *m;
	struct harness_match match;

	memset(deep, '[', depth);
	memset(deep + depth, ']', depth);
	deep[depth * 2] = '\0';
	record(f, chat, deep, NULL);
	m = matcher_for(f);
	find(m, chat, deep, NULL, &match);
	assert_int_equal(match.verdict, HARNESS_IDENTICAL);
	harness_match_release(&match);
	harness_matcher_free(m);
	free(deep);
}

/* A fixed pseudo-random sequence, so a failure can be replayed. */
static uint32_t next_random(uint32_t *state)
{
	*state = *state * 1103515245u + 12345u;
	return *state >> 8;
}

static void mutated_requests_never_crash(void **state)
{
	struct fixture *f = *state;
	static const char body[] =
		"{\"model\":\"m\",\"metadata\":{\"user_id\":\"f47ac10b-58cc-"
		"4372-a567-0e02b2c3d479\"},\"messages\":[{\"role\":\"user\","
		"\"content\":[{\"type\":\"text\",\"text\":\"2025-06-01 in "
		"0.5s pid 7 /tmp/x/y\"}]},{\"role\":\"assistant\",\"content\":"
		"\"\\u00e9\\n\"}],\"n\":[1,2.5,-0,true,null]}";
	static const char *const headers[] = { "X-Meta: {\"a\":[1,{\"b\":2}]}",
					       NULL };
	struct harness_matcher *m;
	uint32_t seed = 12345;
	char mutated[sizeof(body)];

	record(f, chat, body, headers);
	record(f, chat, "{\"messages\":[]}", NULL);
	m = matcher_for(f);
	for (int i = 0; i < 3000; i++) {
		struct harness_request r;
		struct harness_match match;
		size_t len = sizeof(body) - 1;
		int edits = 1 + (int)(next_random(&seed) % 4);

		memcpy(mutated, body, sizeof(body));
		for (int e = 0; e < edits; e++)
			mutated[next_random(&seed) % len] =
				(char)(next_random(&seed) % 256);
		if (next_random(&seed) % 4 == 0)
			len = next_random(&seed) % len;

		set_request(&r, chat, mutated, len);
		add_headers(&r, headers);
		assert_int_equal(harness_matcher_find(m, &r, &match), 0);
		assert_true(match.verdict == HARNESS_DIVERGED ||
			    match.index < 2);
		if (match.consumed && match.verdict != HARNESS_DIVERGED)
			assert_int_equal(
				harness_matcher_consume(m, match.index), -1);
		harness_match_release(&match);
		harness_request_release(&r);
	}
	harness_matcher_free(m);
}

static void verdict_names(void **state)
{
	(void)state;
	assert_string_equal(harness_verdict_name(HARNESS_IDENTICAL),
			    "identical");
	assert_string_equal(harness_verdict_name(HARNESS_VOLATILE_ONLY),
			    "volatile-only");
	assert_string_equal(harness_verdict_name(HARNESS_DIVERGED),
			    "diverged");
}

#define TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(identical_request_matches),
		TEST(nth_identical_gets_nth_response),
		TEST(reordered_requests_find_their_own),
		TEST(concurrent_requests_match),
		TEST(volatile_headers_are_volatile),
		TEST(transport_headers_are_ignored),
		TEST(divergent_header_is_reported),
		TEST(extra_volatile_headers_extend_list),
		TEST(session_id_and_date_in_body),
		TEST(item_ids_and_json_header),
		TEST(closest_has_longest_prefix),
		TEST(closest_prefers_fewer_differences),
		TEST(closest_diffs_are_bounded),
		TEST(no_recording_for_endpoint),
		TEST(compressed_bodies_are_decoded),
		TEST(text_bodies_are_normalized),
		TEST(malformed_live_body_diverges),
		TEST(query_differences),
		TEST(ignore_rules_make_matches),
		TEST(without_normalizer_volatile_diverges),
		TEST(identical_beats_earlier_volatile),
		TEST(used_recordings_are_skipped_everywhere),
		TEST(many_recordings_found_in_any_order),
		TEST(deep_body_is_compared_as_bytes),
		TEST(mutated_requests_never_crash),
		cmocka_unit_test(verdict_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
