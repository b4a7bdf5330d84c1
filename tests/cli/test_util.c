/*
 * test_util.c - unit tests of the shared command-line helpers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli.h"

static void sanitize_replaces_controls(void **state)
{
	char out[32];

	(void)state;
	cli_sanitize(out, sizeof(out), "a\033[31mb\nc\x7f");
	assert_string_equal(out, "a?[31mb?c?");
}

static void sanitize_keeps_utf8(void **state)
{
	char out[32];

	(void)state;
	cli_sanitize(out, sizeof(out), "caf\xc3\xa9");
	assert_string_equal(out, "caf\xc3\xa9");
}

/* U+009B is an 8-bit CSI, U+202E reorders the rest of the line, and
 * 0xff starts no UTF-8 sequence. */
static void sanitize_masks_c1_and_bidi(void **state)
{
	char out[32];

	(void)state;
	cli_sanitize(out, sizeof(out), "a\xc2\x9b" "b\xe2\x80\xae" "c\xff"
		     "d\xe2\x81\xa6" "e");
	assert_string_equal(out, "a??b???c?d???e");
}

static void sanitize_keeps_wide_utf8(void **state)
{
	char out[32];

	(void)state;
	cli_sanitize(out, sizeof(out), "\xc2\xa0\xe2\x80\x94\xf0\x9f\x98\x80");
	assert_string_equal(out, "\xc2\xa0\xe2\x80\x94\xf0\x9f\x98\x80");
}

/* A sequence cut in the middle of the buffer is left out, not split. */
static void sanitize_keeps_sequences_whole(void **state)
{
	char out[4];

	(void)state;
	cli_sanitize(out, sizeof(out), "ab\xc3\xa9");
	assert_string_equal(out, "ab");
}

static void sanitize_truncates(void **state)
{
	char out[4];

	(void)state;
	cli_sanitize(out, sizeof(out), "abcdef");
	assert_string_equal(out, "abc");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sanitize_replaces_controls),
		cmocka_unit_test(sanitize_keeps_utf8),
		cmocka_unit_test(sanitize_masks_c1_and_bidi),
		cmocka_unit_test(sanitize_keeps_wide_utf8),
		cmocka_unit_test(sanitize_keeps_sequences_whole),
		cmocka_unit_test(sanitize_truncates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
