/*
 * model_script_keys.c - finding a key that appears twice in one object
 * of a model script.
 *
 * cJSON keeps every member of an object, duplicates included, and its
 * lookups return the first one, so a script with {"text": "a", "text":
 * "b"} would silently serve "a". RFC 8259, section 4, leaves the meaning
 * of such an object to each implementation, so the script is rejected
 * instead of guessed at.
 */
#include <stdlib.h>
#include <string.h>

#include "harness/canon.h"
#include "harness/error.h"
#include "harness/jsondiff.h"
#include "harness/model_script_internal.h"
#include "harness/normalize.h"

/* Objects with more members than this are checked by sorting their keys
 * rather than by comparing every pair. */
#define PAIRWISE_MAX 32

struct member {
	const char *key;
	size_t index;
};

static int compare_members(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	int rc = strcmp(x->key, y->key);

	if (rc != 0)
		return rc;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* The index of the first member whose key an earlier member has, or
 * SIZE_MAX for none. Returns -1 when out of memory. */
static int first_duplicate(const cJSON *object, size_t count, size_t *out)
{
	struct member *members;
	size_t i = 0;

	*out = SIZE_MAX;
	if (count <= PAIRWISE_MAX) {
		for (const cJSON *a = object->child; a; a = a->next, i++)
			for (const cJSON *b = object->child; b != a;
			     b = b->next)
				if (strcmp(a->string, b->string) == 0) {
					*out = i;
					return 0;
				}
		return 0;
	}

	members = malloc(count * sizeof(*members));
	if (!members)
		return -1;
	for (const cJSON *a = object->child; a; a = a->next, i++)
		members[i] = (struct member){a->string, i};
	qsort(members, count, sizeof(*members), compare_members);
	for (i = 1; i < count; i++)
		if (strcmp(members[i].key, members[i - 1].key) == 0 &&
		    members[i].index < *out)
			*out = members[i].index;
	free(members);
	return 0;
}

static const cJSON *nth_child(const cJSON *item, size_t n)
{
	const cJSON *child = item->child;

	while (n-- > 0)
		child = child->next;
	return child;
}

/* Walk the tree depth first. Returns 1 with the path in steps[0..*depth)
 * when a duplicate is found, 0 when none is, -1 when out of memory. */
static int walk(const cJSON *item, struct harness_path_step *steps,
		size_t *depth)
{
	size_t count = 0, index = 0, level = *depth;

	if (!cJSON_IsObject(item) && !cJSON_IsArray(item))
		return 0;
	for (const cJSON *child = item->child; child; child = child->next)
		count++;
	if (cJSON_IsObject(item)) {
		size_t duplicate;

		if (first_duplicate(item, count, &duplicate) < 0)
			return -1;
		if (duplicate != SIZE_MAX) {
			steps[level].key = nth_child(item, duplicate)->string;
			*depth = level + 1;
			return 1;
		}
	}
	for (const cJSON *child = item->child; child; child = child->next) {
		int rc;

		steps[level].key = cJSON_IsObject(item) ? child->string : NULL;
		steps[level].index = index++;
		*depth = level + 1;
		rc = walk(child, steps, depth);
		if (rc != 0)
			return rc;
	}
	*depth = level;
	return 0;
}

int script_check_keys(const char *name, const char *prefix,
		      const cJSON *root)
{
	/* harness_json_parse() rejects deeper trees, so the walk stays
	 * within the steps. */
	struct harness_path_step steps[HARNESS_JSON_MAX_DEPTH + 1];
	size_t depth = 0;
	char *path = NULL;
	int rc = walk(root, steps, &depth);

	if (rc == 0)
		return 0;
	if (rc < 0 || harness_path_format(steps, depth, &path) < 0) {
		harness_set_error("cannot load model script: '%s': out of "
				  "memory",
				  name);
		return -1;
	}
	harness_set_error("invalid model script: '%s': %s%s%s: duplicate "
			  "key \"%.80s\"",
			  name, prefix ? prefix : "",
			  prefix && path[0] != '[' ? "." : "", path,
			  steps[depth - 1].key);
	harness_set_hint("give each key of an object once; see "
			 "docs/model-script.md for the format");
	free(path);
	return -1;
}
