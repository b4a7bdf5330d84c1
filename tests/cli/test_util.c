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
		cmocka_unit_test(sanitize_truncates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
