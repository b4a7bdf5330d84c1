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

/* One input of cli_sanitize(), the size of the output buffer, and the
 * text expected in it. */
struct sanitize_case {
	const char *name;
	size_t size;
	const char *in;
	const char *out;
};

static const struct sanitize_case sanitize_cases[] = {
	{ "controls replaced", 32, "a\033[31mb\nc\x7f", "a?[31mb?c?" },
	{ "UTF-8 kept", 32, "caf\xc3\xa9", "caf\xc3\xa9" },
	/* U+009B is an 8-bit CSI, U+202E reorders the rest of the line,
	 * and 0xff starts no UTF-8 sequence. */
	{ "C1 and bidirectional controls masked", 32,
	  "a\xc2\x9b" "b\xe2\x80\xae" "c\xff" "d\xe2\x81\xa6" "e",
	  "a??b???c?d???e" },
	{ "wide UTF-8 kept", 32, "\xc2\xa0\xe2\x80\x94\xf0\x9f\x98\x80",
	  "\xc2\xa0\xe2\x80\x94\xf0\x9f\x98\x80" },
	/* A sequence cut by the end of the buffer is left out, not split. */
	{ "sequences kept whole", 4, "ab\xc3\xa9", "ab" },
	{ "long text truncated", 4, "abcdef", "abc" },
};

static void sanitize_each_case(void **state)
{
	size_t n = sizeof(sanitize_cases) / sizeof(sanitize_cases[0]);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		const struct sanitize_case *c = &sanitize_cases[i];
		char out[32];

		assert_true(c->size <= sizeof(out));
		cli_sanitize(out, c->size, c->in);
		if (strcmp(out, c->out) != 0)
			print_message("case: %s\n", c->name);
		assert_string_equal(out, c->out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sanitize_each_case),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
