/*
 * test_proxy_request.c - the egress proxy's request head parser, on
 * well-formed, malformed, truncated and oversized heads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "sandbox/proxy.h"
#include "sandbox/proxy_request.h"

static enum proxy_parse parse(const char *head, struct proxy_request *req)
{
	return proxy_request_parse(head, strlen(head), req);
}

static void connect_authority_parsed(void **state)
{
	static const char head[] =
		"CONNECT registry.example:443 HTTP/1.1\r\n"
		"Host: registry.example:443\r\n"
		"User-Agent: test\t1\r\n"
		"\r\n"
		"\x16\x03\x01";
	struct proxy_request req;

	(void)state;
	assert_int_equal(proxy_request_parse(head, sizeof(head) - 1, &req),
			 PROXY_PARSE_OK);
	assert_true(req.is_connect);
	assert_string_equal(req.method, "CONNECT");
	assert_string_equal(req.host, "registry.example");
	assert_int_equal(req.port, 443);
	assert_false(req.host_is_ipv6);
	assert_int_equal(req.head_len, sizeof(head) - 1 - 3);
}

static void connect_ipv6_authority_parsed(void **state)
{
	struct proxy_request req;

	(void)state;
	assert_int_equal(parse("CONNECT [fe80::1]:80 HTTP/1.0\r\n\r\n", &req),
			 PROXY_PARSE_OK);
	assert_string_equal(req.host, "fe80::1");
	assert_true(req.host_is_ipv6);
	assert_int_equal(req.port, 80);
}

static void plain_request_parsed_not_connect(void **state)
{
	struct proxy_request req;

	(void)state;
	assert_int_equal(parse("GET http://a.example/ HTTP/1.1\r\n"
			       "Host: a.example\r\n\r\n", &req),
			 PROXY_PARSE_OK);
	assert_false(req.is_connect);
	assert_string_equal(req.target, "http://a.example/");
}

static void partial_head_incomplete(void **state)
{
	static const char *partial[] = {
		"",
		"CONNECT a.example:443",
		"CONNECT a.example:443 HTTP/1.1\r\n",
		"CONNECT a.example:443 HTTP/1.1\r\nHost: a\r\n\r",
	};
	struct proxy_request req;

	(void)state;
	for (size_t i = 0; i < sizeof(partial) / sizeof(partial[0]); i++)
		assert_int_equal(parse(partial[i], &req),
				 PROXY_PARSE_INCOMPLETE);
}

static void malformed_heads_rejected(void **state)
{
	static const char *bad[] = {
		"\r\n\r\n",
		"CONNECT\r\n\r\n",
		"CONNECT a.example:443\r\n\r\n",
		"CONNECT a.example HTTP/1.1\r\n\r\n",
		"CONNECT a.example: HTTP/1.1\r\n\r\n",
		"CONNECT a.example:0 HTTP/1.1\r\n\r\n",
		"CONNECT a.example:65536 HTTP/1.1\r\n\r\n",
		"CONNECT a.example:99999 HTTP/1.1\r\n\r\n",
		"CONNECT a.example:+443 HTTP/1.1\r\n\r\n",
		"CONNECT a.example:443x HTTP/1.1\r\n\r\n",
		"CONNECT a.example:1:2 HTTP/1.1\r\n\r\n",
		"CONNECT :443 HTTP/1.1\r\n\r\n",
		"CONNECT a/b:443 HTTP/1.1\r\n\r\n",
		"CONNECT user@a.example:443 HTTP/1.1\r\n\r\n",
		"CONNECT [::1:443 HTTP/1.1\r\n\r\n",
		"CONNECT [::1]443 HTTP/1.1\r\n\r\n",
		"CONNECT [zz::1]:443 HTTP/1.1\r\n\r\n",
		"CONNECT [127.0.0.1]:443 HTTP/1.1\r\n\r\n",
		"CONNECT [1::2::3]:443 HTTP/1.1\r\n\r\n",
		"CONNECT  a.example:443 HTTP/1.1\r\n\r\n",
		"CONNECT a.example:443  HTTP/1.1\r\n\r\n",
		"CONNECT a.example:443 HTTP/2.0\r\n\r\n",
		"CONNECT a.example:443 http/1.1\r\n\r\n",
		"CONNECT a.example:443 HTTP/1.1 \r\n\r\n",
		"CON\x01NECT a.example:443 HTTP/1.1\r\n\r\n",
		"CONNECT a.example:443 HTTP/1.1\n\n",
		"CONNECT a.example:443 HTTP/1.1\r\nHost: a\n\r\n",
		"CONNECT a.example:443 HTTP/1.1\r\nHost a\r\n\r\n",
		"CONNECT a.example:443 HTTP/1.1\r\nHost : a\r\n\r\n",
		"CONNECT a.example:443 HTTP/1.1\r\n: a\r\n\r\n",
		"CONNECT a.example:443 HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",
		"CONNECT a.example:443 HTTP/1.1\r\nHost: a\rb\r\n\r\n",
		"CONNECT a.example:443 HTTP/1.1\r\nHost: a\x7f\r\n\r\n",
		"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
	};
	struct proxy_request req;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enum proxy_parse rc = parse(bad[i], &req);

		if (rc != PROXY_PARSE_MALFORMED)
			print_error("case %zu parsed as %d\n", i, rc);
		assert_int_equal(rc, PROXY_PARSE_MALFORMED);
		assert_true(req.error[0] != '\0');
	}
}

/* A NUL stops the parse at once, even though strlen would not see the
 * bytes after it. */
static void nul_byte_rejected(void **state)
{
	static const char head[] = "CONNECT a.example:443\0 HTTP/1.1\r\n\r\n";
	struct proxy_request req;

	(void)state;
	assert_int_equal(proxy_request_parse(head, sizeof(head) - 1, &req),
			 PROXY_PARSE_MALFORMED);
}

static char *head_of_size(size_t size)
{
	static const char line[] = "CONNECT a.example:443 HTTP/1.1\r\n";
	char *buf = malloc(size + 1);
	size_t pos;

	assert_non_null(buf);
	memcpy(buf, line, sizeof(line) - 1);
	pos = sizeof(line) - 1;
	memcpy(buf + pos, "X-Pad: ", 7);
	pos += 7;
	memset(buf + pos, 'p', size - pos - 4);
	memcpy(buf + size - 4, "\r\n\r\n", 4);
	buf[size] = '\0';
	return buf;
}

static void head_at_limit_accepted(void **state)
{
	char *buf = head_of_size(SANDBOX_PROXY_MAX_HEAD);
	struct proxy_request req;

	(void)state;
	assert_int_equal(proxy_request_parse(buf, SANDBOX_PROXY_MAX_HEAD, &req),
			 PROXY_PARSE_OK);
	assert_int_equal(req.head_len, SANDBOX_PROXY_MAX_HEAD);
	free(buf);
}

static void head_over_limit_too_large(void **state)
{
	char *buf = head_of_size(SANDBOX_PROXY_MAX_HEAD + 1);
	struct proxy_request req;

	(void)state;
	assert_int_equal(proxy_request_parse(buf, SANDBOX_PROXY_MAX_HEAD + 1,
					     &req),
			 PROXY_PARSE_TOO_LARGE);
	free(buf);
}

static void too_many_headers_too_large(void **state)
{
	char buf[4096];
	size_t pos = 0;
	struct proxy_request req;

	(void)state;
	pos += (size_t)snprintf(buf, sizeof(buf),
				"CONNECT a.example:443 HTTP/1.1\r\n");
	for (int i = 0; i <= SANDBOX_PROXY_MAX_HEADERS; i++)
		pos += (size_t)snprintf(buf + pos, sizeof(buf) - pos,
					"X-%d: v\r\n", i);
	pos += (size_t)snprintf(buf + pos, sizeof(buf) - pos, "\r\n");
	assert_int_equal(proxy_request_parse(buf, pos, &req),
			 PROXY_PARSE_TOO_LARGE);
}

static void long_target_rejected(void **state)
{
	char buf[2048];
	struct proxy_request req;
	int len;

	(void)state;
	len = snprintf(buf, sizeof(buf), "CONNECT %0*d.example:443 "
		       "HTTP/1.1\r\n\r\n", 1100, 0);
	assert_int_equal(proxy_request_parse(buf, (size_t)len, &req),
			 PROXY_PARSE_MALFORMED);
	len = snprintf(buf, sizeof(buf), "CONNECT %0*d.example:443 "
		       "HTTP/1.1\r\n\r\n", 300, 0);
	assert_int_equal(proxy_request_parse(buf, (size_t)len, &req),
			 PROXY_PARSE_MALFORMED);
}

/*
 * Random heads built from the bytes that matter to the grammar, each
 * parsed at every prefix length. Under the sanitizers an out-of-bounds
 * access fails the test; without them every result must still be one
 * of the four values and an accepted head must lie inside the input.
 */
static void random_heads_parse_safely(void **state)
{
	static const char alphabet[] = "CONNECT :[]\r\n\t.-1a9\0\x7f\xff/";
	static char buf[SANDBOX_PROXY_MAX_HEAD + 64];
	unsigned seed = 12345;
	struct proxy_request req;

	(void)state;
	for (int round = 0; round < 2000; round++) {
		size_t len = (size_t)(rand_r(&seed) % sizeof(buf));

		if (round % 2)
			len %= 128;
		for (size_t i = 0; i < len; i++)
			buf[i] = alphabet[rand_r(&seed) %
					  (sizeof(alphabet) - 1)];
		/* Half of them start like a real request. */
		if (round % 4 < 2 && len > 40)
			memcpy(buf, "CONNECT a.example:443 HTTP/1.1\r\n", 32);
		for (size_t cut = 0; cut <= len; cut += 1 + cut / 8) {
			enum proxy_parse rc = proxy_request_parse(buf, cut,
								  &req);

			assert_true(rc >= PROXY_PARSE_OK &&
				    rc <= PROXY_PARSE_TOO_LARGE);
			if (rc == PROXY_PARSE_OK)
				assert_true(req.head_len <= cut);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(connect_authority_parsed),
		cmocka_unit_test(connect_ipv6_authority_parsed),
		cmocka_unit_test(plain_request_parsed_not_connect),
		cmocka_unit_test(partial_head_incomplete),
		cmocka_unit_test(malformed_heads_rejected),
		cmocka_unit_test(nul_byte_rejected),
		cmocka_unit_test(head_at_limit_accepted),
		cmocka_unit_test(head_over_limit_too_large),
		cmocka_unit_test(too_many_headers_too_large),
		cmocka_unit_test(long_target_rejected),
		cmocka_unit_test(random_heads_parse_safely),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
