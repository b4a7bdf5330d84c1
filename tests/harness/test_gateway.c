/*
 * test_gateway.c - unit tests of redaction, the exchange JSON form, and
 * the gateway's library interface: configuration errors and the sink.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <zlib.h>

#include "harness/error.h"
#include "harness/exchange_json.h"
#include "harness/gateway.h"
#include "harness/model_script.h"
#include "harness/redact.h"

#define SECRET "sk-unit-secret-0123456789"

static void add_secret(struct harness_secrets *secrets)
{
	assert_int_equal(harness_secrets_add(secrets, SECRET), 0);
}

static void redact_masks_same_length(void **state)
{
	struct harness_secrets secrets = {0};
	char text[] = "key=" SECRET "&again=" SECRET;
	size_t len = strlen(text);

	(void)state;
	add_secret(&secrets);
	assert_int_equal(
		harness_redact_bytes(&secrets, (unsigned char *)text, len), 2);
	assert_int_equal(strlen(text), len);
	assert_null(strstr(text, SECRET));
	assert_non_null(strstr(text, "key=[REDACTED]***************&"));
	harness_secrets_release(&secrets);
}

static void redact_rejects_short_secret(void **state)
{
	struct harness_secrets secrets = {0};

	(void)state;
	assert_int_equal(harness_secrets_add(&secrets, "short"), -1);
	assert_non_null(strstr(harness_error(), "too short"));
	assert_null(strstr(harness_error(), "short'"));
	assert_int_equal(secrets.count, 0);
}

static void redact_replaces_credential_headers(void **state)
{
	struct harness_secrets secrets = {0};
	struct harness_request req = {0};

	(void)state;
	add_secret(&secrets);
	req.method = strdup("POST");
	req.path = strdup("/v1/messages");
	req.query = strdup("api_key=" SECRET);
	harness_headers_add(&req.headers, "Authorization", "Bearer abc");
	harness_headers_add(&req.headers, "X-Api-Key", "anything");
	harness_headers_add(&req.headers, "Cookie", "a=b");
	harness_headers_add(&req.headers, "X-Other", "t " SECRET);
	harness_headers_add(&req.headers, "Accept", "*/*");
	req.body = (unsigned char *)strdup("{\"k\":\"" SECRET "\"}");
	req.body_len = strlen((char *)req.body);

	assert_int_equal(harness_redact_request(&secrets, &req), 0);
	assert_string_equal(harness_headers_get(&req.headers, "authorization"),
			    HARNESS_REDACTED);
	assert_string_equal(harness_headers_get(&req.headers, "x-api-key"),
			    HARNESS_REDACTED);
	assert_string_equal(harness_headers_get(&req.headers, "cookie"),
			    HARNESS_REDACTED);
	assert_null(
		strstr(harness_headers_get(&req.headers, "x-other"), SECRET));
	assert_string_equal(harness_headers_get(&req.headers, "accept"), "*/*");
	assert_null(strstr(req.query, SECRET));
	assert_null(memmem(req.body, req.body_len, SECRET, strlen(SECRET)));
	harness_request_release(&req);
	harness_secrets_release(&secrets);
}

static void redact_finds_secret_across_chunks(void **state)
{
	struct harness_secrets secrets = {0};
	struct harness_response resp = {0};
	const char *body = "data: " SECRET "\n\n";
	size_t split = 10;

	(void)state;
	add_secret(&secrets);
	harness_response_add_chunk(&resp, body, split, 1);
	harness_response_add_chunk(&resp, body + split, strlen(body) - split,
				   2);
	assert_int_equal(harness_redact_response(&secrets, &resp), 0);
	assert_int_equal(resp.n_chunks, 2);
	assert_int_equal(resp.chunks[0].len, split);
	assert_memory_equal(resp.chunks[0].data, "data: [RED", split);
	assert_null(memmem(resp.chunks[1].data, resp.chunks[1].len, "0123", 4));
	harness_response_release(&resp);
	harness_secrets_release(&secrets);
}

/* Compress text with gzip framing through zlib. */
static size_t gzip_text(const char *text, unsigned char *out, size_t size)
{
	z_stream zs = {0};

	assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8,
				      Z_DEFAULT_STRATEGY),
			 Z_OK);
	zs.next_in = (unsigned char *)text;
	zs.avail_in = (uInt)strlen(text);
	zs.next_out = out;
	zs.avail_out = (uInt)size;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	deflateEnd(&zs);
	return size - zs.avail_out;
}

static void redact_decodes_compressed_secret(void **state)
{
	struct harness_secrets secrets = {0};
	struct harness_response resp = {0};
	unsigned char gz[256];
	size_t len = gzip_text("{\"echo\":\"" SECRET "\"}", gz, sizeof(gz));

	(void)state;
	add_secret(&secrets);
	harness_headers_add(&resp.headers, "Content-Encoding", "gzip");
	harness_response_add_chunk(&resp, gz, len, 5);
	assert_int_equal(harness_redact_response(&secrets, &resp), 0);
	assert_null(harness_headers_get(&resp.headers, "content-encoding"));
	assert_string_equal(
		harness_headers_get(&resp.headers,
				    "x-runbundle-decoded-content-encoding"),
		"gzip");
	assert_int_equal(resp.n_chunks, 1);
	assert_memory_equal(resp.chunks[0].data, "{\"echo\":\"[REDACTED]", 19);
	harness_response_release(&resp);
	harness_secrets_release(&secrets);
}

static void redact_keeps_clean_compressed_body(void **state)
{
	struct harness_secrets secrets = {0};
	struct harness_response resp = {0};
	unsigned char gz[256];
	size_t len = gzip_text("{\"clean\":true}", gz, sizeof(gz));

	(void)state;
	add_secret(&secrets);
	harness_headers_add(&resp.headers, "Content-Encoding", "gzip");
	harness_response_add_chunk(&resp, gz, len, 5);
	assert_int_equal(harness_redact_response(&secrets, &resp), 0);
	assert_string_equal(
		harness_headers_get(&resp.headers, "content-encoding"), "gzip");
	assert_memory_equal(resp.chunks[0].data, gz, len);
	harness_response_release(&resp);
	harness_secrets_release(&secrets);
}

/* Redact a copy of text and check that it became want. */
static void expect_redacted(const struct harness_secrets *secrets,
			    const char *text, const char *want)
{
	char *copy = strdup(text);

	assert_non_null(copy);
	harness_redact_bytes(secrets, (unsigned char *)copy, strlen(copy));
	assert_string_equal(copy, want);
	free(copy);
}

static void redact_masks_json_escapes(void **state)
{
	struct harness_secrets secrets = {0};
	const unsigned char *escaped =
		(const unsigned char *)"x\\u0073k-unit-secret-0123456789";

	(void)state;
	assert_int_equal(harness_secrets_add(&secrets,
					     "sk/a\"b\\c\td\n"
					     "e\xc3\xa9\xf0\x9f\x98\x80"),
			 0);
	/* Each short escape, hex in either case, and a surrogate pair. */
	expect_redacted(&secrets,
			"{\"k\":\"sk\\/a\\\"b\\\\c\\td\\ne\\u00E9"
			"\\ud83d\\uDE00\"}",
			"{\"k\":\"[REDACTED]*************************\"}");
	/* An incomplete secret keeps its escapes. */
	expect_redacted(&secrets, "\"sk\\/a\\\"b\\\\c\\td\\ne\\u00e9\"",
			"\"sk\\/a\\\"b\\\\c\\td\\ne\\u00e9\"");
	harness_secrets_release(&secrets);

	/* A secret that JSON need not escape, as an encoder that escapes
	 * everything writes it. */
	add_secret(&secrets);
	expect_redacted(&secrets,
			"\\n\\u0073\\u006b\\u002Dunit-secret-0123456789",
			"\\n[REDACTED]******************************");
	assert_true(harness_contains_secret(&secrets, escaped,
					    strlen((const char *)escaped)));
	harness_secrets_release(&secrets);
}

static void redact_masks_mixed_percent(void **state)
{
	struct harness_secrets secrets = {0};

	(void)state;
	assert_int_equal(harness_secrets_add(&secrets, "sk/test+key=0123"), 0);
	/* Python's quote() leaves '/', and hex may be in lower case. */
	expect_redacted(&secrets, "k=sk/test%2Bkey%3D0123&",
			"k=[REDACTED]**********&");
	expect_redacted(&secrets, "k=sk%2ftest%2bkey%3d0123&",
			"k=[REDACTED]************&");
	/* A '%' of the secret's own, next to an escape. */
	harness_secrets_release(&secrets);
	assert_int_equal(harness_secrets_add(&secrets, "sk%zz/key-0123"), 0);
	expect_redacted(&secrets, "k=sk%zz%2Fkey-0123 and 50%",
			"k=[REDACTED]****** and 50%");
	/* A '%' or backslash of the secret's own at the end of the data,
	 * where it could begin an escape. */
	harness_secrets_release(&secrets);
	assert_int_equal(harness_secrets_add(&secrets, "sk/key-0123%"), 0);
	expect_redacted(&secrets, "k=sk%2Fkey-0123%", "k=[REDACTED]****");
	expect_redacted(&secrets, "k=sk\\/key-0123%", "k=[REDACTED]***");
	harness_secrets_release(&secrets);
	assert_int_equal(harness_secrets_add(&secrets, "sk/key-0123\\"), 0);
	expect_redacted(&secrets, "\"sk\\/key-0123\\", "\"[REDACTED]***");
	harness_secrets_release(&secrets);
}

/* Return how much of text's end harness_escaped_start_len() keeps. */
static size_t start_len(const struct harness_secrets *secrets, const char *text)
{
	return harness_escaped_start_len(secrets, (const unsigned char *)text,
					 strlen(text));
}

static void redact_holds_back_escaped_start(void **state)
{
	struct harness_secrets secrets = {0};

	(void)state;
	add_secret(&secrets);
	/* What may still become the secret waits, escape cut or not. */
	assert_int_equal(start_len(&secrets, "data: \"sk\\u002"), 7);
	assert_int_equal(start_len(&secrets, "data: \"s\\u006b-un"), 10);
	assert_int_equal(start_len(&secrets, "data: \"text\\"), 1);
	/* What cannot does not, and an end without a backslash is left to
	 * the search for the exact bytes. */
	assert_int_equal(start_len(&secrets, "data: \"line\\n"), 0);
	assert_int_equal(start_len(&secrets, "data: \"\\u0041sk-unit"), 0);
	assert_int_equal(start_len(&secrets, "\\n data: \"sk-unit"), 0);
	assert_int_equal(start_len(&secrets, "50% of k=sk%2"), 4);
	assert_int_equal(start_len(&secrets, "50% of k=s"), 0);
	harness_secrets_release(&secrets);
}

static void redact_masks_overlapping_secrets(void **state)
{
	struct harness_secrets secrets = {0};
	char contained[] = "key=abcdefgh12345678;";
	char overlapping[] = "x 12345678abcd y";

	(void)state;
	assert_int_equal(harness_secrets_add(&secrets, "abcdefgh"), 0);
	assert_int_equal(harness_secrets_add(&secrets, "abcdefgh12345678"), 0);
	assert_int_equal(harness_secrets_add(&secrets, "12345678"), 0);
	assert_int_equal(harness_secrets_add(&secrets, "5678abcd"), 0);

	/* A shorter secret masked first must not hide the longer one. */
	harness_redact_bytes(&secrets, (unsigned char *)contained,
			     strlen(contained));
	assert_null(strstr(contained, "1234"));
	assert_null(strstr(contained, "5678"));
	assert_int_equal(strncmp(contained, "key=", 4), 0);
	assert_int_equal(contained[strlen(contained) - 1], ';');

	/* Nor a secret that overlaps it. */
	harness_redact_bytes(&secrets, (unsigned char *)overlapping,
			     strlen(overlapping));
	assert_null(strstr(overlapping, "abcd"));
	assert_null(strstr(overlapping, "5678"));
	assert_int_equal(strncmp(overlapping, "x ", 2), 0);
	assert_int_equal(strcmp(overlapping + strlen(overlapping) - 2, " y"),
			 0);
	harness_secrets_release(&secrets);
}

static bool has_secret(const struct harness_secrets *secrets,
		       const char *value)
{
	for (size_t i = 0; i < secrets->count; i++) {
		if (strcmp(secrets->values[i], value) == 0)
			return true;
	}
	return false;
}

static void credentials_become_secrets(void **state)
{
	struct harness_secrets secrets = {0};
	struct harness_headers headers = {0};

	(void)state;
	harness_headers_add(&headers, "Authorization", "Bearer token-abcdefgh");
	harness_headers_add(&headers, "Cookie", "a=cookie-one-123; b=short");
	assert_int_equal(harness_secrets_add_credentials(&secrets, &headers),
			 0);
	assert_true(has_secret(&secrets, "Bearer token-abcdefgh"));
	assert_true(has_secret(&secrets, "token-abcdefgh"));
	assert_true(has_secret(&secrets, "cookie-one-123"));
	assert_false(has_secret(&secrets, "short"));
	harness_headers_release(&headers);
	harness_secrets_release(&secrets);
}

/* Base64-encode len bytes at data into a static buffer. */
static const char *base64(const char *data, size_t len)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				       "abcdefghijklmnopqrstuvwxyz0123456789+/";
	static char out[256];
	size_t o = 0;

	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned char)data[i] << 16;

		v |= i + 1 < len ? (unsigned char)data[i + 1] << 8 : 0;
		v |= i + 2 < len ? (unsigned char)data[i + 2] : 0;
		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = i + 1 < len ? alphabet[v >> 6 & 63] : '=';
		out[o++] = i + 2 < len ? alphabet[v & 63] : '=';
	}
	out[o] = '\0';
	return out;
}

static void redact_masks_encoded_forms(void **state)
{
	static const char key[] = "sk/test+key=0123456789";
	static const char *const around[] = { "", "u", "us", "user:" };
	struct harness_secrets secrets = {0};
	char plain[64], body[256];

	(void)state;
	assert_int_equal(harness_secrets_add(&secrets, key), 0);

	/* As a Basic credential, wherever the key starts in its group. */
	for (size_t i = 0; i < 4; i++) {
		snprintf(plain, sizeof(plain), "%s%s", around[i], key);
		snprintf(body, sizeof(body), "Basic %s!",
			 base64(plain, strlen(plain)));
		assert_true(harness_redact_bytes(&secrets,
						 (unsigned char *)body,
						 strlen(body)) > 0);
		assert_null(strstr(body, base64(plain, strlen(plain))));
		assert_non_null(strstr(body, HARNESS_REDACTED));
		assert_int_equal(strncmp(body, "Basic ", 6), 0);
		assert_int_equal(body[strlen(body) - 1], '!');
	}

	/* In a URL's query. */
	snprintf(body, sizeof(body), "GET /?k=sk%%2Ftest%%2Bkey%%3D0123456789 ");
	assert_int_equal(harness_redact_bytes(&secrets, (unsigned char *)body,
					      strlen(body)),
			 1);
	assert_null(strstr(body, "0123456789"));
	assert_int_equal(strncmp(body, "GET /?k=", 8), 0);
	harness_secrets_release(&secrets);
}

static void fill_exchange(struct harness_exchange *ex)
{
	static const unsigned char binary[] = {0, 1, 2, 0xff, '\n', 0x80};

	memset(ex, 0, sizeof(*ex));
	ex->seq = 7;
	ex->upstream = strdup("openai");
	ex->started_unix_us = 1700000000123456;
	ex->duration_us = 4242;
	ex->outcome = HARNESS_UPSTREAM_CUT;
	ex->failure = strdup("reset");
	ex->request.method = strdup("POST");
	ex->request.path = strdup("/v1/chat/completions");
	harness_headers_add(&ex->request.headers, "Content-Type",
			    "application/json");
	ex->request.body = malloc(sizeof(binary));
	memcpy(ex->request.body, binary, sizeof(binary));
	ex->request.body_len = sizeof(binary);
	ex->response.status = 200;
	harness_headers_add(&ex->response.headers, "X-Empty", "");
	harness_response_add_chunk(&ex->response, "a", 1, 10);
	harness_response_add_chunk(&ex->response, "", 0, 11);
	harness_response_add_chunk(&ex->response, binary, sizeof(binary), 12);
}

static void json_round_trip_is_exact(void **state)
{
	struct harness_exchange ex, back;
	char *text;

	(void)state;
	fill_exchange(&ex);
	text = harness_exchange_to_json(&ex);
	assert_non_null(text);
	assert_int_equal(harness_exchange_from_json(text, &back), 0);

	assert_int_equal(back.seq, 7);
	assert_string_equal(back.upstream, "openai");
	assert_int_equal(back.started_unix_us, 1700000000123456);
	assert_int_equal(back.duration_us, 4242);
	assert_int_equal(back.outcome, HARNESS_UPSTREAM_CUT);
	assert_string_equal(back.failure, "reset");
	assert_null(back.request.query);
	assert_int_equal(back.request.body_len, ex.request.body_len);
	assert_memory_equal(back.request.body, ex.request.body,
			    ex.request.body_len);
	assert_string_equal(
		harness_headers_get(&back.response.headers, "x-empty"), "");
	assert_int_equal(back.response.n_chunks, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(back.response.chunks[i].len,
				 ex.response.chunks[i].len);
		assert_int_equal(back.response.chunks[i].offset_us, 10 + i);
		assert_memory_equal(back.response.chunks[i].data,
				    ex.response.chunks[i].data,
				    ex.response.chunks[i].len);
	}
	free(text);
	harness_exchange_release(&ex);
	harness_exchange_release(&back);
}

/* A time that ends in a zero prints as its digits, not in the exponent
 * form that cJSON's %g gives it. */
static void json_prints_times_as_digits(void **state)
{
	struct harness_exchange ex;
	char *text;

	(void)state;
	fill_exchange(&ex);
	ex.started_unix_us = 1796474331261160;
	text = harness_exchange_to_json(&ex);
	assert_non_null(text);
	assert_non_null(strstr(text, "\"started_unix_us\":1796474331261160,"));
	free(text);
	harness_exchange_release(&ex);
}

static void json_rejects_bad_fields(void **state)
{
	struct harness_exchange ex;

	(void)state;
	assert_int_equal(harness_exchange_from_json("{", &ex), -1);
	assert_non_null(strstr(harness_error(), "not valid JSON"));
	assert_int_equal(harness_exchange_from_json("{\"seq\":1}", &ex), -1);
	assert_non_null(strstr(harness_error(), "started_unix_us"));
	assert_int_equal(
		harness_exchange_from_json(
			"{\"seq\":1,\"started_unix_us\":0,\"duration_us\":0,"
			"\"upstream\":\"u\",\"failure\":null,"
			"\"outcome\":\"exploded\"}",
			&ex),
		-1);
	assert_non_null(strstr(harness_error(), "'outcome'"));
}

static void load_names_the_bad_line(void **state)
{
	char path[] = "/tmp/test_gateway.XXXXXX";
	struct harness_exchange ex, *loaded = NULL;
	int fd = mkstemp(path);
	char *text;
	FILE *file;
	size_t n = 0;

	(void)state;
	assert_true(fd >= 0);
	file = fdopen(fd, "w");
	fill_exchange(&ex);
	text = harness_exchange_to_json(&ex);
	fprintf(file, "%s\n\n%s\nnot json\n", text, text);
	fclose(file);
	assert_int_equal(harness_exchanges_load(path, &loaded, &n), -1);
	assert_non_null(strstr(harness_error(), ":4'"));
	unlink(path);
	free(text);
	harness_exchange_release(&ex);
}

static void start_rejects_bad_config(void **state)
{
	struct harness_upstream bad_url = {.name = "x", .url = "ftp://h"};
	struct harness_upstream bad_name = {.name = "a/b",
					    .url = "http://127.0.0.1:1"};
	struct harness_upstream twice[2] = {
		{.name = "a", .url = "http://127.0.0.1:1"},
		{.name = "a", .url = "http://127.0.0.1:2"},
	};
	struct harness_gateway_config config = {.listen_fd = -1};

	(void)state;
	config.upstreams = &bad_url;
	config.n_upstreams = 1;
	assert_null(harness_gateway_start(&config));
	assert_non_null(strstr(harness_error(), "http://"));
	config.upstreams = &bad_name;
	assert_null(harness_gateway_start(&config));
	assert_non_null(strstr(harness_error(), "'a/b'"));
	config.upstreams = twice;
	config.n_upstreams = 2;
	assert_null(harness_gateway_start(&config));
	assert_non_null(strstr(harness_error(), "named twice"));
	config.n_upstreams = 0;
	config.listen_host = "example.invalid";
	assert_null(harness_gateway_start(&config));
	assert_non_null(strstr(harness_error(), "not a numeric IP"));
}

/* Each URL that harness_upstream_check() rejects, with a word from the
 * reason. */
static void upstream_check_rejects_urls(void **state)
{
	static const struct {
		const char *url;
		const char *reason;
	} bad[] = {
		{"ftp://127.0.0.1:9", "http://"},
		{"127.0.0.1:9", "http://"},
		{"http://127.0.0.1:", "empty port"},
		{"http://127.0.0.1:/v1", "empty port"},
		{"http://[::1]:", "empty port"},
		{"http://127.0.0.1:99999", "65535"},
		{"http://", "host"},
		{"http://canaryuser:Canary5ecret@127.0.0.1:9", "password"},
		{"http://:Canary5ecret@127.0.0.1:9", "password"},
	};
	struct harness_upstream up = {.name = "a"};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		up.url = bad[i].url;
		assert_int_equal(harness_upstream_check(&up), -1);
		assert_non_null(strstr(harness_error(), bad[i].reason));
		assert_null(strstr(harness_error(), "Canary5ecret"));
		assert_null(strstr(harness_error(), "canaryuser"));
		assert_non_null(harness_error_hint());
	}
	assert_non_null(strstr(harness_error_hint(), "--auth a="));
}

static void upstream_check_accepts_urls(void **state)
{
	static const char *const good[] = {
		"http://127.0.0.1:9",	     "https://127.0.0.1/v1",
		"http://[::1]:8080/x",	     "HTTP://127.0.0.1:9",
		"http://127.0.0.1:9/v1?a=b",
	};
	struct harness_upstream up = {.name = "a"};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
		up.url = good[i];
		assert_int_equal(harness_upstream_check(&up), 0);
	}
}

struct recorder {
	int before_calls;
	int refuse;
	struct harness_exchange *finished[4];
	int n_finished;
};

static int before_forward(void *ctx, const struct harness_exchange *ex)
{
	struct recorder *rec = ctx;

	rec->before_calls++;
	assert_null(ex->response.chunks);
	assert_non_null(ex->request.method);
	return rec->refuse;
}

static void finished(void *ctx, struct harness_exchange *ex)
{
	struct recorder *rec = ctx;

	assert_true(rec->n_finished < 4);
	rec->finished[rec->n_finished++] = ex;
}

static size_t discard(char *data, size_t size, size_t n, void *cls)
{
	(void)data;
	(void)cls;
	return size * n;
}

static long post_to(unsigned short port, const char *path)
{
	CURL *curl = curl_easy_init();
	char url[128];
	long status = 0;

	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port, path);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROXY, "");
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS,
			 "{\"model\":\"m\",\"messages\":[]}");
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
	assert_int_equal(curl_easy_perform(curl), CURLE_OK);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(curl);
	return status;
}

static void sink_sees_each_exchange(void **state)
{
	static const char script_text[] = "{\"turns\":[{\"text\":\"One.\"}]}";
	struct harness_script *script =
		harness_script_parse(script_text, strlen(script_text), "unit");
	struct recorder rec = {0};
	struct harness_gateway_config config = {.listen_fd = -1};
	struct harness_gateway *gw;
	unsigned short port;

	(void)state;
	assert_non_null(script);
	config.script = script;
	config.sink.before_forward = before_forward;
	config.sink.finished = finished;
	config.sink.ctx = &rec;
	gw = harness_gateway_start(&config);
	assert_non_null(gw);
	port = harness_gateway_port(gw);
	assert_true(port > 0);

	assert_int_equal(post_to(port, "/v1/chat/completions"), 200);
	rec.refuse = 1;
	assert_int_equal(post_to(port, "/v1/chat/completions"), 503);
	harness_gateway_stop(gw);

	assert_int_equal(rec.before_calls, 2);
	assert_int_equal(rec.n_finished, 2);
	/* The sink gets exchanges as they finish, which for two requests
	 * in a row may be in either order. */
	if (rec.finished[0]->seq == 2) {
		struct harness_exchange *first = rec.finished[1];

		rec.finished[1] = rec.finished[0];
		rec.finished[0] = first;
	}
	assert_int_equal(rec.finished[0]->seq, 1);
	assert_string_equal(rec.finished[0]->upstream, "script");
	assert_int_equal(rec.finished[0]->outcome, HARNESS_COMPLETE);
	assert_int_equal(rec.finished[1]->seq, 2);
	assert_int_equal(rec.finished[1]->response.status, 503);
	assert_int_equal(rec.finished[1]->outcome, HARNESS_UPSTREAM_FAILED);
	for (int i = 0; i < rec.n_finished; i++) {
		harness_exchange_release(rec.finished[i]);
		free(rec.finished[i]);
	}
	harness_script_free(script);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(redact_masks_same_length),
		cmocka_unit_test(redact_rejects_short_secret),
		cmocka_unit_test(redact_masks_encoded_forms),
		cmocka_unit_test(redact_masks_json_escapes),
		cmocka_unit_test(redact_masks_mixed_percent),
		cmocka_unit_test(redact_holds_back_escaped_start),
		cmocka_unit_test(redact_masks_overlapping_secrets),
		cmocka_unit_test(redact_replaces_credential_headers),
		cmocka_unit_test(redact_finds_secret_across_chunks),
		cmocka_unit_test(redact_decodes_compressed_secret),
		cmocka_unit_test(redact_keeps_clean_compressed_body),
		cmocka_unit_test(credentials_become_secrets),
		cmocka_unit_test(json_round_trip_is_exact),
		cmocka_unit_test(json_prints_times_as_digits),
		cmocka_unit_test(json_rejects_bad_fields),
		cmocka_unit_test(load_names_the_bad_line),
		cmocka_unit_test(start_rejects_bad_config),
		cmocka_unit_test(upstream_check_rejects_urls),
		cmocka_unit_test(upstream_check_accepts_urls),
		cmocka_unit_test(sink_sees_each_exchange),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
