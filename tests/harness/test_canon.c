/*
 * test_canon.c - unit tests of bounded JSON parsing and the canonical
 * form, including malformed, deep and huge documents.
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

static void check_canon(const char *input, const char *expected)
{
	char *text = harness_canon_text(input, strlen(input));

	if (!text)
		fail_msg("'%s' rejected: %s", input, harness_error());
	assert_string_equal(text, expected);
	free(text);
}

static void keys_are_sorted_at_every_level(void **state)
{
	(void)state;
	check_canon("{\"b\":1,\"a\":{\"d\":[{\"z\":1,\"y\":2}],\"c\":null}}",
		    "{\"a\":{\"c\":null,\"d\":[{\"y\":2,\"z\":1}]},\"b\":1}");
	check_canon("{\"B\":1,\"a\":2,\"_\":3,\"\":4}",
		    "{\"\":4,\"B\":1,\"_\":3,\"a\":2}");
	check_canon("[3,1,2]", "[3,1,2]");
}

static void whitespace_is_dropped(void **state)
{
	(void)state;
	check_canon(" {\n\t\"a\" :\r\n [ 1 , 2 ] } \n", "{\"a\":[1,2]}");
	check_canon("\"x\"", "\"x\"");
	check_canon("  true ", "true");
}

static void equal_documents_share_one_form(void **state)
{
	static const char a[] = "{\"model\":\"m\",\"messages\":[{\"role\":"
				"\"user\",\"content\":\"hi\"}],"
				"\"stream\":true}";
	static const char b[] = "{ \"stream\" : true , \"messages\" : [ {"
				"\"content\":\"hi\", \"role\":\"user\"} ], "
				"\"model\": \"m\" }";
	char *ca = harness_canon_text(a, strlen(a));
	char *cb = harness_canon_text(b, strlen(b));

	(void)state;
	assert_non_null(ca);
	assert_non_null(cb);
	assert_string_equal(ca, cb);
	free(ca);
	free(cb);
}

static void duplicate_keys_keep_their_order(void **state)
{
	(void)state;
	check_canon("{\"b\":1,\"a\":1,\"b\":2}", "{\"a\":1,\"b\":1,\"b\":2}");
}

static void sorted_tree_keeps_links(void **state)
{
	cJSON *tree = harness_json_parse("{\"c\":1,\"b\":2,\"a\":3}", 19);

	(void)state;
	assert_non_null(tree);
	assert_int_equal(harness_canon_sort(tree), 0);
	/* cJSON keeps the first child's prev at the last child. */
	assert_string_equal(tree->child->string, "a");
	assert_string_equal(tree->child->prev->string, "c");
	assert_null(tree->child->prev->next);
	assert_int_equal(cJSON_AddNumberToObject(tree, "d", 4) != NULL, 1);
	assert_string_equal(tree->child->prev->string, "d");
	assert_int_equal(cJSON_GetArraySize(tree), 4);
	cJSON_Delete(tree);
}

static void malformed_json_is_rejected(void **state)
{
	static const char *const cases[] = {
		"", " ", "{", "}", "{\"a\":}", "[1,]", "{\"a\" 1}", "nul",
		"\"unterminated", "{\"a\":1} x", "[1] [2]", "{'a':1}",
		"\x01", "{\"a\":1}}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *tree = harness_json_parse(cases[i], strlen(cases[i]));

		if (tree)
			fail_msg("accepted '%s'", cases[i]);
		assert_non_null(strstr(harness_error(), "cannot parse JSON"));
	}
}

static void trailing_text_names_its_offset(void **state)
{
	(void)state;
	assert_null(harness_json_parse("{\"a\":1} junk", 12));
	assert_string_equal(harness_error(), "cannot parse JSON: 'byte 8': "
					     "text after the document");
}

static void nul_before_length_is_rejected(void **state)
{
	(void)state;
	assert_null(harness_json_parse("[1]\0junk", 8));
	assert_null(harness_json_parse("[1] \0", 5));
	assert_non_null(strstr(harness_error(), "text after the document"));
}

static void length_bounds_the_parse(void **state)
{
	/* The bytes after len must not be read, even without a NUL. */
	static const char text[] = "[1,2]garbage";
	cJSON *tree = harness_json_parse(text, 5);

	(void)state;
	assert_non_null(tree);
	assert_int_equal(cJSON_GetArraySize(tree), 2);
	cJSON_Delete(tree);
}

static char *nested(size_t depth, char open, char close)
{
	char *text = malloc(depth * 2 + 1);

	assert_non_null(text);
	memset(text, open, depth);
	memset(text + depth, close, depth);
	text[depth * 2] = '\0';
	return text;
}

static void deep_nesting_is_bounded(void **state)
{
	char *ok = nested(HARNESS_JSON_MAX_DEPTH, '[', ']');
	char *deep = nested(HARNESS_JSON_MAX_DEPTH + 1, '[', ']');
	char *very_deep = nested(200000, '[', ']');
	cJSON *tree;

	(void)state;
	tree = harness_json_parse(ok, strlen(ok));
	assert_non_null(tree);
	assert_int_equal(harness_json_depth(tree), HARNESS_JSON_MAX_DEPTH);
	cJSON_Delete(tree);

	assert_null(harness_json_parse(deep, strlen(deep)));
	assert_non_null(strstr(harness_error(), "nested too deeply"));
	assert_null(harness_json_parse(very_deep, strlen(very_deep)));
	assert_null(harness_canon_text(very_deep, strlen(very_deep)));
	free(ok);
	free(deep);
	free(very_deep);
}

static void deep_objects_are_bounded(void **state)
{
	size_t depth = 3000;
	char *text = malloc(depth * 6 + 2);
	size_t at = 0;

	(void)state;
	for (size_t i = 0; i < depth; i++)
		at += (size_t)sprintf(text + at, "{\"a\":");
	text[at++] = '1';
	memset(text + at, '}', depth);
	text[at + depth] = '\0';
	assert_null(harness_canon_text(text, strlen(text)));
	free(text);
}

static void depth_of_built_tree_is_capped(void **state)
{
	cJSON *root = cJSON_CreateArray();
	cJSON *at = root;

	(void)state;
	assert_int_equal(harness_json_depth(NULL), 0);
	assert_int_equal(harness_json_depth(root), 1);
	for (int i = 0; i < 100000; i++) {
		cJSON *child = cJSON_CreateArray();

		cJSON_AddItemToArray(at, child);
		at = child;
	}
	assert_int_equal(harness_json_depth(root), HARNESS_JSON_MAX_DEPTH + 1);
	/* cJSON_Delete recurses, so the tree is taken apart from the top. */
	while (root) {
		cJSON *child = cJSON_DetachItemFromArray(root, 0);

		cJSON_Delete(root);
		root = child;
	}
}

static void sort_rejects_built_deep_trees(void **state)
{
	cJSON *root = cJSON_CreateArray();
	cJSON *at = root;

	(void)state;
	for (int i = 0; i < HARNESS_JSON_MAX_DEPTH + 10; i++) {
		cJSON *child = cJSON_CreateArray();

		cJSON_AddItemToArray(at, child);
		at = child;
	}
	assert_int_equal(harness_canon_sort(root), -1);
	assert_non_null(strstr(harness_error(), "nested too deeply"));
	assert_null(harness_canon_print(root));
	cJSON_Delete(root);
}

static void huge_strings_survive(void **state)
{
	size_t len = 32u << 20;
	char *text = malloc(len + 16);
	char *canon;

	(void)state;
	assert_non_null(text);
	memset(text, 'x', len + 16);
	memcpy(text, "{\"b\":\"", 6);
	memcpy(text + 6 + len, "\",\"a\":1}", 9);
	canon = harness_canon_text(text, strlen(text));
	assert_non_null(canon);
	assert_int_equal(strlen(canon), len + 14);
	assert_true(strncmp(canon, "{\"a\":1,\"b\":\"xxx", 15) == 0);
	free(canon);
	free(text);
}

static void oversized_input_is_rejected(void **state)
{
	(void)state;
	assert_null(harness_json_parse("{}", HARNESS_JSON_MAX_BYTES + 1));
	assert_non_null(strstr(harness_error(), "larger than the limit"));
}

static void unicode_escapes_are_decoded(void **state)
{
	(void)state;
	check_canon("{\"k\":\"\\u00e9\\n\"}", "{\"k\":\"\xc3\xa9\\n\"}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(keys_are_sorted_at_every_level),
		cmocka_unit_test(whitespace_is_dropped),
		cmocka_unit_test(equal_documents_share_one_form),
		cmocka_unit_test(duplicate_keys_keep_their_order),
		cmocka_unit_test(sorted_tree_keeps_links),
		cmocka_unit_test(malformed_json_is_rejected),
		cmocka_unit_test(trailing_text_names_its_offset),
		cmocka_unit_test(nul_before_length_is_rejected),
		cmocka_unit_test(length_bounds_the_parse),
		cmocka_unit_test(deep_nesting_is_bounded),
		cmocka_unit_test(deep_objects_are_bounded),
		cmocka_unit_test(depth_of_built_tree_is_capped),
		cmocka_unit_test(sort_rejects_built_deep_trees),
		cmocka_unit_test(huge_strings_survive),
		cmocka_unit_test(oversized_input_is_rejected),
		cmocka_unit_test(unicode_escapes_are_decoded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
