/*
 * test_normalize.c - unit tests of the normalizers: each built-in
 * pattern, the near misses it must leave alone, user rules and JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "harness/canon.h"
#include "harness/error.h"
#include "harness/normalize.h"

struct normalize_case {
	const char *input;
	const char *expected;
};

static struct harness_normalizer *builtins(void)
{
	struct harness_normalizer *n =
		harness_normalizer_new(HARNESS_VOLATILE_BUILTINS);

	assert_non_null(n);
	return n;
}

static void check_cases(const struct harness_normalizer *n,
			const struct normalize_case *cases, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		size_t len = 0;
		char *out = harness_normalize_string(n, cases[i].input,
						     strlen(cases[i].input),
						     &len, NULL);

		assert_non_null(out);
		if (strcmp(out, cases[i].expected) != 0)
			fail_msg("'%s' gave '%s', expected '%s'",
				 cases[i].input, out, cases[i].expected);
		assert_int_equal(len, strlen(out));
		free(out);
	}
}

#define CHECK(n, cases) check_cases(n, cases, sizeof(cases) / sizeof(cases[0]))

static void durations_are_volatile(void **state)
{
	static const struct normalize_case cases[] = {
		{ "Ran 12 tests in 0.03s", "Ran 12 tests in <duration>" },
		{ "Finished in 1.234 seconds.", "Finished in <duration>." },
		{ "took 125ms", "took <duration>" },
		{ "took 125 ms", "took <duration>" },
		{ "real 0m0.123s", "real <duration>" },
		{ "elapsed 1h2m3s", "elapsed <duration>" },
		{ "waited 800us", "waited <duration>" },
		{ "waited 800\xc2\xb5s", "waited <duration>" },
		{ "done in 3 seconds", "done in <duration>" },
		{ "(2.5 min)", "(<duration>)" },
		{ "timeout 5s", "timeout <duration>" },
		/* Near misses. */
		{ "10 items", "10 items" },
		{ "5 sheep", "5 sheep" },
		{ "version 1.2.3s", "version 1.2.3s" },
		{ "we have 3 seconds", "we have 3 seconds" },
		{ "item2s", "item2s" },
		{ "5 steps", "5 steps" },
	};
	struct harness_normalizer *n = builtins();

	(void)state;
	CHECK(n, cases);
	harness_normalizer_free(n);
}

static void timestamps_are_volatile(void **state)
{
	static const struct normalize_case cases[] = {
		{ "Today's date is 2025-06-01.",
		  "Today's date is <timestamp>." },
		{ "at 2025-06-01T10:20:30Z", "at <timestamp>" },
		{ "at 2025-06-01T10:20:30.123456+02:00", "at <timestamp>" },
		{ "at 2025-06-01 10:20:30", "at <timestamp>" },
		{ "at 2025-06-01T10:20", "at <timestamp>" },
		{ "at 20250601T102030Z", "at <timestamp>" },
		{ "on 2025/06/01", "on <timestamp>" },
		{ "Date: Fri, 04 Dec 2026 09:57:44 GMT",
		  "Date: <timestamp>" },
		{ "Fri Dec  4 09:57:44 UTC 2026", "<timestamp>" },
		{ "Today is Monday, June 2, 2025.", "Today is <timestamp>." },
		{ "June 2nd, 2025", "<timestamp>" },
		{ "2 June 2025", "<timestamp>" },
		{ "Jun. 2, 2025", "<timestamp>" },
		{ "started 10:20:30.5 ok", "started <timestamp> ok" },
		{ "-rw-r--r-- 1 a a 12 Dec  5 20:24 calc.py",
		  "-rw-r--r-- 1 a a 12 <timestamp> calc.py" },
		{ "drwxr-xr-x 2 a a 4096 Nov 14  2025 old",
		  "drwxr-xr-x 2 a a 4096 <timestamp> old" },
		{ "Dec 15 20:24:33 host sshd", "<timestamp> host sshd" },
		{ "on Dec 5 20:24", "on <timestamp>" },
		/* Near misses. */
		{ "2025-13-01", "2025-13-01" },
		{ "2025-06-32", "2025-06-32" },
		{ "2025-06/01", "2025-06/01" },
		{ "1999-1-1", "1999-1-1" },
		{ "v2025-06-01x", "v2025-06-01x" },
		{ "ratio 10:30", "ratio 10:30" },
		{ "25:61:00", "25:61:00" },
		{ "a:10:20:30", "a:10:20:30" },
		{ "June 2025", "June 2025" },
		{ "Dec 45 20:24", "Dec 45 20:24" },
		{ "Dec 32 20:24", "Dec 32 20:24" },
		{ "Dec  5 20", "Dec  5 20" },
	};
	struct harness_normalizer *n = builtins();

	(void)state;
	CHECK(n, cases);
	harness_normalizer_free(n);
}

static void unix_times_are_volatile(void **state)
{
	static const struct normalize_case cases[] = {
		{ "ts=1733300000", "ts=<unix-time>" },
		{ "ts=1733300000123", "ts=<unix-time>" },
		{ "ts=1733300000.25", "ts=<unix-time>" },
		{ "\"created\": 1000000000", "\"created\": <unix-time>" },
		/* Near misses: out of range, too long, part of a word. */
		{ "ts=9999999999", "ts=9999999999" },
		{ "ts=0999999999", "ts=0999999999" },
		{ "ts=946684800", "ts=946684800" },
		{ "phone 5551234567", "phone 5551234567" },
		{ "ts=17333000001", "ts=17333000001" },
		{ "id1733300000", "id1733300000" },
		{ "1.1733300000", "1.1733300000" },
		{ "ts=99999999999999", "ts=99999999999999" },
	};
	struct harness_normalizer *n = builtins();

	(void)state;
	CHECK(n, cases);
	harness_normalizer_free(n);
}

static void uuids_and_ulids_are_volatile(void **state)
{
	static const struct normalize_case cases[] = {
		/* Versions 1, 4, 7, the nil and the max UUID. */
		{ "a 6ba7b810-9dad-11d1-80b4-00c04fd430c8 b", "a <uuid> b" },
		{ "id=f47ac10b-58cc-4372-a567-0e02b2c3d479", "id=<uuid>" },
		{ "0190b0b4-3f2a-7cc1-9e3b-5d1f0c2a9b77", "<uuid>" },
		{ "00000000-0000-0000-0000-000000000000", "<uuid>" },
		{ "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF", "<uuid>" },
		{ "user_abc_account__session_f47ac10b-58cc-4372-a567-"
		  "0e02b2c3d479",
		  "user_abc_account__session_<uuid>" },
		{ "01ARZ3NDEKTSV4RRFFQ69G5FAV", "<ulid>" },
		{ "msg_01arz3ndektsv4rrffq69g5fav", "msg_<ulid>" },
		/* Near misses. */
		{ "f47ac10b-58cc-4372-a567-0e02b2c3d47", "f47ac10b-58cc-4372-"
		  "a567-0e02b2c3d47" },
		{ "f47ac10b-58cc-4372-a567-0e02b2c3d479a",
		  "f47ac10b-58cc-4372-a567-0e02b2c3d479a" },
		{ "g47ac10b-58cc-4372-a567-0e02b2c3d479",
		  "g47ac10b-58cc-4372-a567-0e02b2c3d479" },
		{ "f47ac10b58cc-4372-a567-0e02b2c3d479",
		  "f47ac10b58cc-4372-a567-0e02b2c3d479" },
		{ "81ARZ3NDEKTSV4RRFFQ69G5FAV", "81ARZ3NDEKTSV4RRFFQ69G5FAV" },
		{ "01ARZ3NDEKTSV4RRFFQ69G5FA", "01ARZ3NDEKTSV4RRFFQ69G5FA" },
		{ "01ARZ3NDEKTSV4RRFFQ69G5FAI", "01ARZ3NDEKTSV4RRFFQ69G5FAI" },
	};
	struct harness_normalizer *n = builtins();

	(void)state;
	CHECK(n, cases);
	harness_normalizer_free(n);
}

static void hex_ids_are_volatile(void **state)
{
	static const struct normalize_case cases[] = {
		{ "commit 3f786850e387550fdab836ed7e6dc881de23001b",
		  "commit <hex>" },
		{ "device 0123456789abcdef", "device <hex>" },
		{ "at 0x7ffd5a3c2b10", "at <hex>" },
		{ "at 0X7FFD5A3C", "at <hex>" },
		{ "user_2a9f0c1e7b3d4f5a6b7c8d9e0f1a2b3c_account",
		  "user_<hex>_account" },
		/* Near misses: too short, no digit, not hex. */
		{ "0123456789abcde", "0123456789abcde" },
		{ "at 0x7ffd5a3", "at 0x7ffd5a3" },
		{ "deadbeefcafebabe", "deadbeefcafebabe" },
		{ "0123456789abcdefg", "0123456789abcdefg" },
		{ "x0123456789abcdef", "x0123456789abcdef" },
	};
	struct harness_normalizer *n = builtins();

	(void)state;
	CHECK(n, cases);
	harness_normalizer_free(n);
}

static void tmp_paths_and_pids_are_volatile(void **state)
{
	static const struct normalize_case cases[] = {
		{ "cd /tmp/tmp.Xa12bC/src && make",
		  "cd <tmp-path>/src && make" },
		{ "/var/tmp/build-77/out.o", "<tmp-path>/out.o" },
		{ "/dev/shm/sem.x1", "<tmp-path>" },
		{ "/private/tmp/abc/def", "<tmp-path>/def" },
		{ "/var/folders/zz/zyxvpxvq6csfxvn_n0000000000000/T/tmpab1/x",
		  "<tmp-path>/x" },
		{ "C:\\Users\\me\\AppData\\Local\\Temp\\tmp123\\f.txt",
		  "<tmp-path>\\f.txt" },
		{ "pid 4242 exited", "pid <pid> exited" },
		{ "PID: 17", "PID: <pid>" },
		{ "(pid=99)", "(pid=<pid>)" },
		{ "ppid 1", "ppid <pid>" },
		/* Near misses. */
		{ "/tmpfoo/x", "/tmpfoo/x" },
		{ "/home/tmp/x", "/home/tmp/x" },
		{ "/tmp", "/tmp" },
		{ "/usr/tmp/x", "/usr/tmp/x" },
		{ "rapid 42", "rapid 42" },
		{ "pid abc", "pid abc" },
		{ "pid 12345678", "pid 12345678" },
	};
	struct harness_normalizer *n = builtins();

	(void)state;
	CHECK(n, cases);
	harness_normalizer_free(n);
}

static void scan_reports_spans_in_order(void **state)
{
	static const char text[] =
		"at 2025-06-01T10:00:00Z pid 77 id "
		"f47ac10b-58cc-4372-a567-0e02b2c3d479";
	struct harness_normalizer *n = builtins();
	struct harness_span spans[2];
	long count = harness_normalize_scan(n, text, strlen(text), spans, 2);

	(void)state;
	assert_int_equal(count, 3);
	assert_int_equal(spans[0].start, 3);
	assert_int_equal(spans[0].len, 20);
	assert_int_equal(spans[0].kind, HARNESS_VOLATILE_TIMESTAMP);
	assert_int_equal(spans[1].start, 28);
	assert_int_equal(spans[1].len, 2);
	assert_int_equal(spans[1].kind, HARNESS_VOLATILE_PID);
	harness_normalizer_free(n);
}

static void kinds_can_be_turned_off(void **state)
{
	struct harness_normalizer *n = harness_normalizer_new(
		1u << HARNESS_VOLATILE_UUID);
	static const struct normalize_case cases[] = {
		{ "2025-06-01 f47ac10b-58cc-4372-a567-0e02b2c3d479",
		  "2025-06-01 <uuid>" },
	};

	(void)state;
	assert_non_null(n);
	CHECK(n, cases);
	assert_true(harness_normalizer_has_kind(n, HARNESS_VOLATILE_UUID));
	assert_false(harness_normalizer_has_kind(n, HARNESS_VOLATILE_PID));
	assert_false(harness_normalize_is_unix_time(n, 1733300000));
	harness_normalizer_free(n);

	n = harness_normalizer_new(0);
	assert_int_equal(harness_normalize_scan(n, "2025-06-01", 10, NULL, 0),
			 0);
	harness_normalizer_free(n);
}

static void user_regex_rules_apply(void **state)
{
	struct harness_normalizer *n = builtins();
	static const struct normalize_case cases[] = {
		{ "build-4711 ok", "<user-rule> ok" },
		{ "seed=42; build-1", "seed=<user-rule>; <user-rule>" },
		{ "nothing here", "nothing here" },
	};

	(void)state;
	assert_int_equal(harness_normalizer_add_rule(n, "regex:build-[0-9]+"),
			 0);
	assert_int_equal(harness_normalizer_add_regex(n, "(?<=seed=)\\d+"), 0);
	/* A pattern that can match the empty string matches nothing. */
	assert_int_equal(harness_normalizer_add_regex(n, "x*"), 0);
	CHECK(n, cases);

	assert_int_equal(harness_normalizer_add_rule(n, "regex:(unclosed"), -1);
	assert_non_null(strstr(harness_error(), "invalid regular expression"));
	assert_non_null(strstr(harness_error(), "(unclosed"));
	assert_int_equal(harness_normalizer_add_rule(n, "regex:"), -1);
	assert_int_equal(harness_normalizer_add_rule(n, "glob:*"), -1);
	assert_non_null(strstr(harness_error(), "unknown kind"));
	assert_non_null(harness_error_hint());
	harness_normalizer_free(n);
}

static void runaway_regex_fails_cleanly(void **state)
{
	struct harness_normalizer *n = harness_normalizer_new(0);
	char text[64];

	(void)state;
	assert_int_equal(harness_normalizer_add_regex(n, "(a+)+$"), 0);
	memset(text, 'a', 40);
	strcpy(text + 40, "b");
	assert_int_equal(harness_normalize_scan(n, text, 41, NULL, 0), -1);
	assert_string_equal(harness_error(), "cannot run normalizer: "
					     "'(a+)+$': match limit exceeded");
	assert_non_null(harness_error_hint());
	assert_null(harness_normalize_string(n, text, 41, NULL, NULL));
	harness_normalizer_free(n);
}

static void ignore_paths_parse_and_match(void **state)
{
	struct harness_normalizer *n = harness_normalizer_new(0);
	struct harness_path_step id_path[] = { { "input", 0 }, { NULL, 3 },
					       { "id", 0 } };
	struct harness_path_step user[] = { { "metadata", 0 },
					    { "user_id", 0 } };
	struct harness_path_step deeper[] = { { "metadata", 0 },
					      { "user_id", 0 }, { "x", 0 } };
	struct harness_path_step other[] = { { "metadata", 0 },
					     { "name", 0 } };
	struct harness_path_step quoted[] = { { "h", 0 }, { "x-y", 0 } };
	struct harness_path_step indexed[] = { { "messages", 0 },
					       { NULL, 2 } };
	struct harness_path_step indexed_other[] = { { "messages", 0 },
						     { NULL, 1 } };
	struct harness_path_step any_key[] = { { "tools", 0 },
					       { "anything", 0 } };

	(void)state;
	assert_int_equal(harness_normalizer_add_rule(n, "path:input[*].id"),
			 0);
	assert_int_equal(harness_normalizer_add_ignore(n, "metadata.user_id"),
			 0);
	assert_int_equal(harness_normalizer_add_ignore(n, "h[\"x-y\"]"), 0);
	assert_int_equal(harness_normalizer_add_ignore(n, "messages[2]"), 0);
	assert_int_equal(harness_normalizer_add_ignore(n, "tools.*"), 0);

	assert_true(harness_normalizer_ignores(n, id_path, 3));
	assert_false(harness_normalizer_ignores(n, id_path, 2));
	assert_true(harness_normalizer_ignores(n, user, 2));
	assert_true(harness_normalizer_ignores(n, deeper, 3));
	assert_false(harness_normalizer_ignores(n, other, 2));
	assert_true(harness_normalizer_ignores(n, quoted, 2));
	assert_true(harness_normalizer_ignores(n, indexed, 2));
	assert_false(harness_normalizer_ignores(n, indexed_other, 2));
	assert_true(harness_normalizer_ignores(n, any_key, 2));

	static const char *const bad[] = {
		"", "a..b", "a[", "a[x]", "a[\"x\"", ".a", "a.1", "a b",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (harness_normalizer_add_ignore(n, bad[i]) == 0)
			fail_msg("accepted path '%s'", bad[i]);
		assert_non_null(strstr(harness_error(), "invalid JSON path"));
	}
	harness_normalizer_free(n);
}

static void json_is_normalized_in_place(void **state)
{
	static const char body[] =
		"{\"metadata\":{\"user_id\":\"user_1_session_f47ac10b-58cc-"
		"4372-a567-0e02b2c3d479\"},\"system\":\"Today's date is "
		"2025-06-01.\",\"input\":[{\"id\":\"0190b0b4-3f2a-7cc1-9e3b-"
		"5d1f0c2a9b77\",\"ts\":1733300000123},{\"pid\":4242}],"
		"\"max_tokens\":1024,\"drop\":{\"a\":1},\"keep\":[1,2]}";
	struct harness_normalizer *n = builtins();
	cJSON *tree = harness_json_parse(body, strlen(body));
	char *text;

	(void)state;
	assert_non_null(tree);
	assert_int_equal(harness_normalizer_add_ignore(n, "drop"), 0);
	assert_int_equal(harness_normalizer_add_ignore(n, "keep[0]"), 0);
	assert_int_equal(harness_normalize_json(n, tree), 7);
	text = cJSON_PrintUnformatted(tree);
	assert_string_equal(
		text,
		"{\"metadata\":{\"user_id\":\"user_1_session_<uuid>\"},"
		"\"system\":\"Today's date is <timestamp>.\",\"input\":"
		"[{\"id\":\"<uuid>\",\"ts\":\"<unix-time>\"},{\"pid\":"
		"\"<pid>\"}],\"max_tokens\":1024,\"keep\":[null,2]}");
	free(text);
	cJSON_Delete(tree);
	harness_normalizer_free(n);
}

static void member_names_are_normalized(void **state)
{
	static const char body[] =
		"{\"f47ac10b-58cc-4372-a567-0e02b2c3d479\":{\"x\":1}}";
	struct harness_normalizer *n = builtins();
	cJSON *tree = harness_json_parse(body, strlen(body));
	char *text;

	(void)state;
	assert_int_equal(harness_normalize_json(n, tree), 1);
	text = cJSON_PrintUnformatted(tree);
	assert_string_equal(text, "{\"<uuid>\":{\"x\":1}}");
	free(text);
	cJSON_Delete(tree);
	harness_normalizer_free(n);
}

static void huge_strings_are_scanned(void **state)
{
	size_t len = 8u << 20;
	char *text = malloc(len + 1);
	struct harness_normalizer *n = builtins();
	size_t spans = 0, out_len = 0;
	char *out;

	(void)state;
	memset(text, 'a', len);
	memcpy(text + len / 2, " 2025-06-01 ", 12);
	text[len] = '\0';
	out = harness_normalize_string(n, text, len, &out_len, &spans);
	assert_non_null(out);
	assert_int_equal(spans, 1);
	assert_int_equal(out_len, len - 10 + strlen("<timestamp>"));
	free(out);
	free(text);
	harness_normalizer_free(n);
}

static void placeholders_and_names(void **state)
{
	(void)state;
	assert_string_equal(harness_volatile_placeholder(HARNESS_VOLATILE_UUID),
			    "<uuid>");
	assert_string_equal(harness_volatile_name(HARNESS_VOLATILE_TMP_PATH),
			    "tmp-path");
	assert_string_equal(harness_volatile_name(HARNESS_VOLATILE_KINDS),
			    "unknown");
	assert_false(harness_normalize_is_unix_time(NULL, 1733300000));
	{
		struct harness_normalizer *n = builtins();

		assert_true(harness_normalize_is_unix_time(n, 1733300000));
		assert_true(harness_normalize_is_unix_time(n, 1733300000123.0));
		assert_false(harness_normalize_is_unix_time(n, 999999999));
		assert_false(harness_normalize_is_unix_time(n, 4102444800.0));
		assert_false(harness_normalize_is_unix_time(n, 1024));
		harness_normalizer_free(n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(durations_are_volatile),
		cmocka_unit_test(timestamps_are_volatile),
		cmocka_unit_test(unix_times_are_volatile),
		cmocka_unit_test(uuids_and_ulids_are_volatile),
		cmocka_unit_test(hex_ids_are_volatile),
		cmocka_unit_test(tmp_paths_and_pids_are_volatile),
		cmocka_unit_test(scan_reports_spans_in_order),
		cmocka_unit_test(kinds_can_be_turned_off),
		cmocka_unit_test(user_regex_rules_apply),
		cmocka_unit_test(runaway_regex_fails_cleanly),
		cmocka_unit_test(ignore_paths_parse_and_match),
		cmocka_unit_test(json_is_normalized_in_place),
		cmocka_unit_test(member_names_are_normalized),
		cmocka_unit_test(huge_strings_are_scanned),
		cmocka_unit_test(placeholders_and_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
