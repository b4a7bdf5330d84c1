/*
 * test_jsondiff.c - unit tests of the structured JSON diff: exact paths,
 * absent values, type changes, spans in long strings, classes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "harness/canon.h"
#include "harness/error.h"
#include "harness/jsondiff.h"

static cJSON *json(const char *text)
{
	cJSON *tree = harness_json_parse(text, strlen(text));

	if (!tree)
		fail_msg("bad test JSON '%s': %s", text, harness_error());
	return tree;
}

/* Diff two documents with an optional normalizer. */
static void diff_texts(const char *a, const char *b,
		       const struct harness_normalizer *n,
		       struct harness_diff *diff)
{
	cJSON *x = json(a), *y = json(b);

	memset(diff, 0, sizeof(*diff));
	assert_int_equal(harness_jsondiff(x, y, n, NULL, diff), 0);
	cJSON_Delete(x);
	cJSON_Delete(y);
}

static void expect_entry(const struct harness_diff *diff, size_t i,
			 const char *path, const char *recorded,
			 const char *live, enum harness_diff_class class)
{
	const struct harness_diff_entry *e;

	if (i >= diff->count)
		fail_msg("entry %zu missing: only %zu", i, diff->count);
	e = &diff->entries[i];
	assert_string_equal(e->path, path);
	if (recorded)
		assert_string_equal(e->recorded, recorded);
	else
		assert_null(e->recorded);
	if (live)
		assert_string_equal(e->live, live);
	else
		assert_null(e->live);
	assert_int_equal(e->class, class);
}

static void identical_documents_have_no_diff(void **state)
{
	struct harness_diff diff;

	(void)state;
	diff_texts("{\"a\":[1,{\"b\":null}],\"c\":true}",
		   "{\"c\":true,\"a\":[1,{\"b\":null}]}", NULL, &diff);
	assert_int_equal(diff.count, 0);
	assert_int_equal(diff.total, 0);
	harness_diff_release(&diff);
}

static void paths_name_nested_members(void **state)
{
	struct harness_diff diff;

	(void)state;
	diff_texts("{\"messages\":[{\"role\":\"user\",\"content\":\"a\"},"
		   "{\"role\":\"assistant\",\"content\":[{\"type\":\"text\","
		   "\"text\":\"b\"}]}],\"model\":\"x\"}",
		   "{\"messages\":[{\"role\":\"user\",\"content\":\"a\"},"
		   "{\"role\":\"assistant\",\"content\":[{\"type\":\"text\","
		   "\"text\":\"c\"}]}],\"model\":\"y\"}",
		   NULL, &diff);
	assert_int_equal(diff.count, 2);
	expect_entry(&diff, 0, "messages[1].content[0].text", "\"b\"",
		     "\"c\"", HARNESS_DIFF_DIVERGENT);
	expect_entry(&diff, 1, "model", "\"x\"", "\"y\"",
		     HARNESS_DIFF_DIVERGENT);
	assert_int_equal(diff.divergent, 2);
	harness_diff_release(&diff);
}

static void messages_seven_content(void **state)
{
	struct harness_diff diff;
	char a[1024] = "{\"messages\":[", b[1024] = "{\"messages\":[";

	(void)state;
	for (int i = 0; i < 9; i++) {
		char item[64];

		snprintf(item, sizeof(item), "%s{\"content\":\"m%d\"}",
			 i ? "," : "", i);
		strcat(a, item);
		if (i == 7)
			snprintf(item, sizeof(item),
				 ",{\"content\":\"changed\"}");
		strcat(b, item);
	}
	strcat(a, "]}");
	strcat(b, "]}");
	diff_texts(a, b, NULL, &diff);
	assert_int_equal(diff.count, 1);
	expect_entry(&diff, 0, "messages[7].content", "\"m7\"",
		     "\"changed\"", HARNESS_DIFF_DIVERGENT);
	harness_diff_release(&diff);
}

static void arrays_of_different_lengths(void **state)
{
	struct harness_diff diff;

	(void)state;
	diff_texts("{\"input\":[1,2,3]}", "{\"input\":[1,2,3,4,5]}", NULL,
		   &diff);
	assert_int_equal(diff.count, 2);
	expect_entry(&diff, 0, "input[3]", NULL, "4", HARNESS_DIFF_DIVERGENT);
	expect_entry(&diff, 1, "input[4]", NULL, "5", HARNESS_DIFF_DIVERGENT);
	harness_diff_release(&diff);

	diff_texts("{\"input\":[1,{\"a\":1}]}", "{\"input\":[1]}", NULL,
		   &diff);
	assert_int_equal(diff.count, 1);
	expect_entry(&diff, 0, "input[1]", "{\"a\":1}", NULL,
		     HARNESS_DIFF_DIVERGENT);
	harness_diff_release(&diff);
}

static void members_absent_on_one_side(void **state)
{
	struct harness_diff diff;

	(void)state;
	diff_texts("{\"a\":1,\"b\":2}", "{\"b\":2,\"c\":3}", NULL, &diff);
	assert_int_equal(diff.count, 2);
	expect_entry(&diff, 0, "a", "1", NULL, HARNESS_DIFF_DIVERGENT);
	expect_entry(&diff, 1, "c", NULL, "3", HARNESS_DIFF_DIVERGENT);
	harness_diff_release(&diff);
}

static void type_changes_are_one_difference(void **state)
{
	struct harness_diff diff;

	(void)state;
	diff_texts("{\"a\":{\"x\":1,\"y\":2},\"b\":\"1\",\"c\":true,"
		   "\"d\":[1]}",
		   "{\"a\":[1,2],\"b\":1,\"c\":false,\"d\":null}", NULL, &diff);
	assert_int_equal(diff.count, 4);
	expect_entry(&diff, 0, "a", "{\"x\":1,\"y\":2}", "[1,2]",
		     HARNESS_DIFF_DIVERGENT);
	expect_entry(&diff, 1, "b", "\"1\"", "1", HARNESS_DIFF_DIVERGENT);
	expect_entry(&diff, 2, "c", "true", "false", HARNESS_DIFF_DIVERGENT);
	expect_entry(&diff, 3, "d", "[1]", "null", HARNESS_DIFF_DIVERGENT);
	assert_false(diff.entries[1].has_span);
	harness_diff_release(&diff);
}

static void root_differences_have_empty_path(void **state)
{
	struct harness_diff diff;

	(void)state;
	diff_texts("[1]", "{\"a\":1}", NULL, &diff);
	assert_int_equal(diff.count, 1);
	expect_entry(&diff, 0, "", "[1]", "{\"a\":1}", HARNESS_DIFF_DIVERGENT);
	harness_diff_release(&diff);

	memset(&diff, 0, sizeof(diff));
	assert_int_equal(harness_jsondiff(NULL, NULL, NULL, NULL, &diff), 0);
	assert_int_equal(diff.count, 0);
}

static void keys_that_are_not_identifiers_are_quoted(void **state)
{
	struct harness_diff diff;

	(void)state;
	diff_texts("{\"x-y\":{\"a b\":1,\"q\\\"\":1,\"9\":1}}",
		   "{\"x-y\":{\"a b\":2,\"q\\\"\":2,\"9\":2}}", NULL, &diff);
	assert_int_equal(diff.count, 3);
	expect_entry(&diff, 0, "[\"x-y\"][\"a b\"]", "1", "2",
		     HARNESS_DIFF_DIVERGENT);
	expect_entry(&diff, 1, "[\"x-y\"][\"q\\\"\"]", "1", "2",
		     HARNESS_DIFF_DIVERGENT);
	expect_entry(&diff, 2, "[\"x-y\"][\"9\"]", "1", "2",
		     HARNESS_DIFF_DIVERGENT);
	harness_diff_release(&diff);
}

static void prefix_joins_paths(void **state)
{
	struct harness_diff diff = { 0 };
	cJSON *a = json("{\"ts\":1,\"list\":[1]}");
	cJSON *b = json("{\"ts\":2,\"list\":[2]}");
	cJSON *c = json("[1]"), *d = json("[2]");

	(void)state;
	assert_int_equal(harness_jsondiff(a, b, NULL, "headers[\"x-meta\"]",
					  &diff), 0);
	assert_int_equal(harness_jsondiff(c, d, NULL, "body", &diff), 0);
	assert_int_equal(diff.count, 3);
	expect_entry(&diff, 0, "headers[\"x-meta\"].ts", "1", "2",
		     HARNESS_DIFF_DIVERGENT);
	expect_entry(&diff, 1, "headers[\"x-meta\"].list[0]", "1", "2",
		     HARNESS_DIFF_DIVERGENT);
	expect_entry(&diff, 2, "body[0]", "1", "2", HARNESS_DIFF_DIVERGENT);
	harness_diff_release(&diff);
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(c);
	cJSON_Delete(d);
}

static void long_strings_mark_the_span(void **state)
{
	char a[4096], b[4096], doc_a[4200], doc_b[4200];
	struct harness_diff diff;
	const struct harness_diff_entry *e;
	char *report;

	(void)state;
	memset(a, 'p', 2000);
	memcpy(a + 2000, "OLD", 3);
	memset(a + 2003, 's', 1000);
	a[3003] = '\0';
	memcpy(b, a, 2000);
	memcpy(b + 2000, "NEWER", 5);
	memset(b + 2005, 's', 1000);
	b[3005] = '\0';
	snprintf(doc_a, sizeof(doc_a), "{\"system\":\"%s\"}", a);
	snprintf(doc_b, sizeof(doc_b), "{\"system\":\"%s\"}", b);
	diff_texts(doc_a, doc_b, NULL, &diff);

	assert_int_equal(diff.count, 1);
	e = &diff.entries[0];
	assert_string_equal(e->path, "system");
	assert_true(e->has_span);
	assert_int_equal(e->span_start, 2000);
	assert_int_equal(e->span_recorded_len, 3);
	assert_int_equal(e->span_live_len, 5);

	report = harness_diff_format(&diff, 4);
	assert_string_equal(report, "divergent system: \"...pppp\xc2\xab"
				    "OLD\xc2\xbbssss...\" -> \"...pppp\xc2\xab"
				    "NEWER\xc2\xbbssss...\"\n");
	free(report);
	harness_diff_release(&diff);
}

static void spans_respect_utf8(void **state)
{
	struct harness_diff diff;
	const struct harness_diff_entry *e;

	(void)state;
	/* U+00E9 and U+00E8 share their first byte. */
	diff_texts("{\"t\":\"caf\xc3\xa9!\"}", "{\"t\":\"caf\xc3\xa8!\"}",
		   NULL, &diff);
	e = &diff.entries[0];
	assert_int_equal(e->span_start, 3);
	assert_int_equal(e->span_recorded_len, 2);
	assert_int_equal(e->span_live_len, 2);
	harness_diff_release(&diff);

	diff_texts("{\"t\":\"aaa\"}", "{\"t\":\"aaaa\"}", NULL, &diff);
	e = &diff.entries[0];
	assert_int_equal(e->span_start, 3);
	assert_int_equal(e->span_recorded_len, 0);
	assert_int_equal(e->span_live_len, 1);
	harness_diff_release(&diff);
}

static void normalizer_classes_volatile(void **state)
{
	struct harness_normalizer *n =
		harness_normalizer_new(HARNESS_VOLATILE_BUILTINS);
	struct harness_diff diff;

	(void)state;
	assert_int_equal(harness_normalizer_add_ignore(n, "metadata.seed"), 0);
	diff_texts("{\"system\":\"Today's date is 2025-06-01.\","
		   "\"ts\":1733300000123,\"metadata\":{\"seed\":{\"a\":1}},"
		   "\"pid\":10,\"text\":\"hello\"}",
		   "{\"system\":\"Today's date is 2025-06-02.\","
		   "\"ts\":1733300999999,\"metadata\":{\"seed\":[7]},"
		   "\"pid\":11,\"text\":\"world\"}",
		   n, &diff);
	assert_int_equal(diff.count, 5);
	expect_entry(&diff, 0, "system", "\"Today's date is 2025-06-01.\"",
		     "\"Today's date is 2025-06-02.\"", HARNESS_DIFF_VOLATILE);
	expect_entry(&diff, 1, "ts", "1733300000123", "1733300999999",
		     HARNESS_DIFF_VOLATILE);
	expect_entry(&diff, 2, "metadata.seed", "{\"a\":1}", "[7]",
		     HARNESS_DIFF_VOLATILE);
	expect_entry(&diff, 3, "pid", "10", "11", HARNESS_DIFF_VOLATILE);
	expect_entry(&diff, 4, "text", "\"hello\"", "\"world\"",
		     HARNESS_DIFF_DIVERGENT);
	assert_int_equal(diff.divergent, 1);
	assert_int_equal(diff.total, 5);
	harness_diff_release(&diff);
	harness_normalizer_free(n);
}

static void same_placeholder_needs_same_rest(void **state)
{
	struct harness_normalizer *n =
		harness_normalizer_new(HARNESS_VOLATILE_BUILTINS);
	struct harness_diff diff;

	(void)state;
	diff_texts("{\"t\":\"run 2025-06-01 ok\"}",
		   "{\"t\":\"run 2025-06-02 failed\"}", n, &diff);
	assert_int_equal(diff.count, 1);
	assert_int_equal(diff.entries[0].class, HARNESS_DIFF_DIVERGENT);
	harness_diff_release(&diff);
	harness_normalizer_free(n);
}

static void entries_stop_at_the_limit(void **state)
{
	size_t n = HARNESS_DIFF_MAX_ENTRIES + 50;
	cJSON *a = cJSON_CreateArray(), *b = cJSON_CreateArray();
	struct harness_diff diff = { 0 };
	char *report;

	(void)state;
	for (size_t i = 0; i < n; i++) {
		cJSON_AddItemToArray(a, cJSON_CreateNumber((double)i));
		cJSON_AddItemToArray(b, cJSON_CreateNumber((double)i + 1));
	}
	assert_int_equal(harness_jsondiff(a, b, NULL, NULL, &diff), 0);
	assert_int_equal(diff.count, HARNESS_DIFF_MAX_ENTRIES);
	assert_int_equal(diff.total, n);
	assert_int_equal(diff.divergent, n);
	report = harness_diff_format(&diff, 10);
	assert_non_null(strstr(report, "... and 50 more differences\n"));
	free(report);
	harness_diff_release(&diff);
	cJSON_Delete(a);
	cJSON_Delete(b);
}

static void deep_trees_fail_cleanly(void **state)
{
	cJSON *a = cJSON_CreateArray(), *b = cJSON_CreateArray();
	cJSON *at = a;
	struct harness_diff diff = { 0 };

	(void)state;
	for (int i = 0; i < HARNESS_JSON_MAX_DEPTH + 5; i++) {
		cJSON *child = cJSON_CreateArray();

		cJSON_AddItemToArray(at, child);
		at = child;
	}
	assert_int_equal(harness_jsondiff(a, b, NULL, NULL, &diff), -1);
	assert_non_null(strstr(harness_error(), "nested too deeply"));
	harness_diff_release(&diff);
	cJSON_Delete(a);
	cJSON_Delete(b);
}

static void diff_strings_and_json_report(void **state)
{
	struct harness_normalizer *n =
		harness_normalizer_new(HARNESS_VOLATILE_BUILTINS);
	struct harness_diff diff = { 0 };
	cJSON *report;
	char *text;

	(void)state;
	assert_int_equal(harness_diff_strings("query", "a=1", "a=2", n, &diff),
			 0);
	assert_int_equal(harness_diff_strings("headers[\"user-agent\"]", NULL,
					      "x/1", n, &diff), 0);
	assert_int_equal(harness_diff_strings("same", "v", "v", n, &diff), 0);
	assert_int_equal(diff.count, 2);

	report = harness_diff_to_json(&diff);
	text = cJSON_PrintUnformatted(report);
	assert_string_equal(
		text,
		"[{\"path\":\"query\",\"class\":\"divergent\",\"recorded\":"
		"\"a=1\",\"live\":\"a=2\",\"span\":{\"start\":2,"
		"\"recorded_len\":1,\"live_len\":1}},{\"path\":"
		"\"headers[\\\"user-agent\\\"]\",\"class\":\"divergent\","
		"\"live\":\"x/1\"}]");
	free(text);
	cJSON_Delete(report);

	text = harness_diff_format(&diff, 10);
	assert_string_equal(text, "divergent query: \"a=\xc2\xab" "1\xc2\xbb\" "
				  "-> \"a=\xc2\xab" "2\xc2\xbb\"\n"
				  "divergent headers[\"user-agent\"]: (absent) "
				  "-> \"x/1\"\n");
	free(text);
	harness_diff_release(&diff);
	harness_normalizer_free(n);
}

static void path_format_covers_every_step(void **state)
{
	struct harness_path_step steps[] = { { "input", 0 }, { NULL, 12 },
					     { "output", 0 }, { "a.b", 0 } };
	char *path;

	(void)state;
	assert_int_equal(harness_path_format(steps, 4, &path), 0);
	assert_string_equal(path, "input[12].output[\"a.b\"]");
	free(path);
	assert_int_equal(harness_path_format(steps + 1, 1, &path), 0);
	assert_string_equal(path, "[12]");
	free(path);
	assert_int_equal(harness_path_format(steps, 0, &path), 0);
	assert_string_equal(path, "");
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(identical_documents_have_no_diff),
		cmocka_unit_test(paths_name_nested_members),
		cmocka_unit_test(messages_seven_content),
		cmocka_unit_test(arrays_of_different_lengths),
		cmocka_unit_test(members_absent_on_one_side),
		cmocka_unit_test(type_changes_are_one_difference),
		cmocka_unit_test(root_differences_have_empty_path),
		cmocka_unit_test(keys_that_are_not_identifiers_are_quoted),
		cmocka_unit_test(prefix_joins_paths),
		cmocka_unit_test(long_strings_mark_the_span),
		cmocka_unit_test(spans_respect_utf8),
		cmocka_unit_test(normalizer_classes_volatile),
		cmocka_unit_test(same_placeholder_needs_same_rest),
		cmocka_unit_test(entries_stop_at_the_limit),
		cmocka_unit_test(deep_trees_fail_cleanly),
		cmocka_unit_test(diff_strings_and_json_report),
		cmocka_unit_test(path_format_covers_every_step),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
