/*
 * test_match_decode.c - unit tests of body decoding for matching: every
 * Content-Encoding, lists of codings, and damaged or unknown ones.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <brotli/encode.h>
#include <cmocka.h>
#include <zlib.h>
#include <zstd.h>

#include "harness/decode.h"
#include "harness/error.h"

static const char text[] =
	"{\"messages\":[{\"role\":\"user\",\"content\":\"decode me, "
	"decode me, decode me\"}]}";

/* zlib with windowBits: 15 + 16 for gzip, 15 for zlib, -15 for raw. */
static size_t deflate_with(int window_bits, const void *in, size_t len,
			   unsigned char *out, size_t max)
{
	z_stream z;
	size_t n;

	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, window_bits, 8,
				      Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (unsigned char *)in;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)max;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	n = z.total_out;
	deflateEnd(&z);
	return n;
}

static size_t brotli(const void *in, size_t len, unsigned char *out,
		     size_t max)
{
	size_t n = max;

	assert_true(BrotliEncoderCompress(5, 22, BROTLI_MODE_GENERIC, len,
					  in, &n, out));
	return n;
}

static size_t zstd(const void *in, size_t len, unsigned char *out,
		   size_t max)
{
	size_t n = ZSTD_compress(out, max, in, len, 3);

	assert_false(ZSTD_isError(n));
	return n;
}

static void expect_decoded(const char *coding, const unsigned char *body,
			   size_t len)
{
	unsigned char *out = NULL;
	size_t out_len = 0;

	if (harness_decode_body(coding, body, len, &out, &out_len) != 0)
		fail_msg("%s: %s", coding, harness_error());
	assert_int_equal(out_len, strlen(text));
	assert_memory_equal(out, text, out_len);
	assert_int_equal(out[out_len], '\0');
	free(out);
}

static void each_coding_decodes(void **state)
{
	unsigned char body[512];
	size_t len;

	(void)state;
	len = deflate_with(15 + 16, text, strlen(text), body, sizeof(body));
	expect_decoded("gzip", body, len);
	expect_decoded("x-gzip", body, len);
	expect_decoded("GZIP", body, len);
	len = deflate_with(15, text, strlen(text), body, sizeof(body));
	expect_decoded("deflate", body, len);
	len = deflate_with(-15, text, strlen(text), body, sizeof(body));
	expect_decoded("deflate", body, len);
	len = brotli(text, strlen(text), body, sizeof(body));
	expect_decoded("br", body, len);
	len = zstd(text, strlen(text), body, sizeof(body));
	expect_decoded("zstd", body, len);
}

static void coding_lists_decode_in_reverse(void **state)
{
	unsigned char first[512], second[512];
	size_t a, b;

	(void)state;
	/* "gzip, br": gzip was applied first, so br is undone first. */
	a = deflate_with(15 + 16, text, strlen(text), first, sizeof(first));
	b = brotli(first, a, second, sizeof(second));
	expect_decoded("gzip, br", second, b);
	expect_decoded(" gzip ,br ", second, b);
	expect_decoded("identity, gzip, br", second, b);
}

static void nothing_to_decode_returns_one(void **state)
{
	unsigned char *out = (unsigned char *)"untouched";
	size_t len = 7;

	(void)state;
	assert_int_equal(harness_decode_body(NULL, text, 3, &out, &len), 1);
	assert_int_equal(harness_decode_body("", text, 3, &out, &len), 1);
	assert_int_equal(harness_decode_body("identity", text, 3, &out, &len),
			 1);
	assert_string_equal((char *)out, "untouched");
	assert_int_equal(len, 7);
}

static void damaged_bodies_fail(void **state)
{
	unsigned char body[512];
	unsigned char *out = NULL;
	size_t len, out_len;

	(void)state;
	len = deflate_with(15 + 16, text, strlen(text), body, sizeof(body));
	assert_int_equal(harness_decode_body("gzip", body, len / 2, &out,
					     &out_len), -1);
	assert_non_null(strstr(harness_error(), "cannot decode body: 'gzip'"));
	assert_null(out);

	len = brotli(text, strlen(text), body, sizeof(body));
	assert_int_equal(harness_decode_body("br", body, len - 3, &out,
					     &out_len), -1);
	assert_non_null(strstr(harness_error(), "'br'"));

	len = zstd(text, strlen(text), body, sizeof(body));
	assert_int_equal(harness_decode_body("zstd", body, len - 2, &out,
					     &out_len), -1);
	assert_non_null(strstr(harness_error(), "'zstd'"));

	assert_int_equal(harness_decode_body("gzip", "plain text", 10, &out,
					     &out_len), -1);
	assert_int_equal(harness_decode_body("gzip", "", 0, &out, &out_len),
			 -1);
	assert_null(out);
}

static void unknown_coding_is_named(void **state)
{
	unsigned char *out = NULL;
	size_t out_len;
	char long_coding[400];

	(void)state;
	assert_int_equal(harness_decode_body("compress", "x", 1, &out,
					     &out_len), -1);
	assert_string_equal(harness_error(), "cannot decode body: 'compress': "
					     "unknown Content-Encoding");
	assert_non_null(harness_error_hint());

	assert_int_equal(harness_decode_body("gzip,gzip,gzip,gzip,gzip,gzip,"
					     "gzip,gzip,gzip", "x", 1, &out,
					     &out_len), -1);
	assert_non_null(strstr(harness_error(), "more than 8 codings"));

	memset(long_coding, 'a', sizeof(long_coding) - 1);
	long_coding[sizeof(long_coding) - 1] = '\0';
	assert_int_equal(harness_decode_body(long_coding, "x", 1, &out,
					     &out_len), -1);
	assert_non_null(strstr(harness_error(), "too long"));
	assert_null(out);
}

static void large_body_decodes_in_steps(void **state)
{
	size_t len = 8u << 20;
	unsigned char *plain = malloc(len);
	unsigned char *packed = malloc(ZSTD_compressBound(len));
	unsigned char *out = NULL;
	size_t packed_len, out_len = 0;

	(void)state;
	assert_non_null(plain);
	assert_non_null(packed);
	for (size_t i = 0; i < len; i++)
		plain[i] = (unsigned char)(i * 31 / 7);
	packed_len = zstd(plain, len, packed, ZSTD_compressBound(len));
	assert_int_equal(harness_decode_body("zstd", packed, packed_len, &out,
					     &out_len), 0);
	assert_int_equal(out_len, len);
	assert_memory_equal(out, plain, len);
	free(out);
	free(packed);
	free(plain);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(each_coding_decodes),
		cmocka_unit_test(coding_lists_decode_in_reverse),
		cmocka_unit_test(nothing_to_decode_returns_one),
		cmocka_unit_test(damaged_bodies_fail),
		cmocka_unit_test(unknown_coding_is_named),
		cmocka_unit_test(large_body_decodes_in_steps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
