/*
 * canon.c - bounded JSON parsing and the canonical form of a document.
 */
#include <stdlib.h>
#include <string.h>

#include "harness/canon.h"
#include "harness/error.h"

static int is_json_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The depth of item, counting from level, but no deeper than limit + 1,
 * so that a tree built deeper than any parse allows cannot exhaust the
 * stack. */
static int depth_upto(const cJSON *item, int level, int limit)
{
	int deepest = level;

	if (level > limit)
		return level;
	for (const cJSON *child = item->child; child; child = child->next) {
		int depth = depth_upto(child, level + 1, limit);

		if (depth > deepest)
			deepest = depth;
		if (deepest > limit)
			break;
	}
	return deepest;
}

int harness_json_depth(const cJSON *item)
{
	if (!item)
		return 0;
	return depth_upto(item, 1, HARNESS_JSON_MAX_DEPTH);
}

cJSON *harness_json_parse(const void *text, size_t len)
{
	const char *end = NULL;
	const char *start = text;
	cJSON *tree;

	if (len > HARNESS_JSON_MAX_BYTES) {
		harness_set_error("cannot parse JSON: '%zu bytes': larger than "
				  "the limit of %zu bytes",
				  len, HARNESS_JSON_MAX_BYTES);
		return NULL;
	}

	/* cJSON stops at its own nesting limit (1000) before it recurses
	 * deeper, so the parse itself is bounded. */
	tree = cJSON_ParseWithLengthOpts(start, len, &end, 0);
	if (!tree) {
		size_t at = end && end >= start ? (size_t)(end - start) : 0;

		harness_set_error("cannot parse JSON: 'byte %zu': invalid or "
				  "nested too deeply", at);
		return NULL;
	}

	/* A NUL byte counts as text too: only len matters, so
	 * "[1]\0junk" is rejected. */
	while (end < start + len && is_json_space((unsigned char)*end))
		end++;
	if (end < start + len) {
		harness_set_error("cannot parse JSON: 'byte %zu': text after "
				  "the document", (size_t)(end - start));
		cJSON_Delete(tree);
		return NULL;
	}

	if (harness_json_depth(tree) > HARNESS_JSON_MAX_DEPTH) {
		harness_set_error("cannot parse JSON: 'depth over %d': nested "
				  "too deeply", HARNESS_JSON_MAX_DEPTH);
		cJSON_Delete(tree);
		return NULL;
	}
	return tree;
}

static int key_less_or_equal(const cJSON *a, const cJSON *b)
{
	const char *ka = a->string ? a->string : "";
	const char *kb = b->string ? b->string : "";

	return strcmp(ka, kb) <= 0;
}

/* Stable merge sort of a NULL-terminated list linked by next. */
static cJSON *sort_list(cJSON *head)
{
	cJSON *slow = head, *fast, *right, *merged = NULL, **tail = &merged;

	if (!head || !head->next)
		return head;

	fast = head->next;
	while (fast && fast->next) {
		slow = slow->next;
		fast = fast->next->next;
	}
	right = slow->next;
	slow->next = NULL;

	head = sort_list(head);
	right = sort_list(right);
	while (head && right) {
		cJSON **pick = key_less_or_equal(head, right) ? &head : &right;

		*tail = *pick;
		*pick = (*pick)->next;
		tail = &(*tail)->next;
	}
	*tail = head ? head : right;
	return merged;
}

/* cJSON keeps child->prev pointing at the last child, so appends stay
 * cheap; the prev links are rebuilt to keep that true. */
static void relink(cJSON *parent)
{
	cJSON *prev = NULL;

	for (cJSON *item = parent->child; item; item = item->next) {
		item->prev = prev;
		prev = item;
	}
	if (parent->child)
		parent->child->prev = prev;
}

static int sort_at(cJSON *item, int depth)
{
	if (depth > HARNESS_JSON_MAX_DEPTH) {
		harness_set_error("cannot sort JSON: 'depth over %d': nested "
				  "too deeply", HARNESS_JSON_MAX_DEPTH);
		return -1;
	}

	if (cJSON_IsObject(item) && item->child) {
		for (cJSON *last = item->child; last; last = last->next)
			last->prev = NULL;
		item->child = sort_list(item->child);
		relink(item);
	}

	for (cJSON *child = item->child; child; child = child->next) {
		if (sort_at(child, depth + 1) < 0)
			return -1;
	}
	return 0;
}

int harness_canon_sort(cJSON *item)
{
	if (!item)
		return 0;
	return sort_at(item, 1);
}

char *harness_canon_print(cJSON *item)
{
	char *text;

	if (harness_canon_sort(item) < 0)
		return NULL;

	text = cJSON_PrintUnformatted(item);
	if (!text)
		harness_set_error("cannot print JSON: 'canonical form': out "
				  "of memory");
	return text;
}

char *harness_canon_text(const void *text, size_t len)
{
	cJSON *tree = harness_json_parse(text, len);
	char *canon;

	if (!tree)
		return NULL;
	canon = harness_canon_print(tree);
	cJSON_Delete(tree);
	return canon;
}
