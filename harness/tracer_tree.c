/*
 * tracer_tree.c - the process tree as one JSON text.
 *
 * A run can start tens of thousands of processes. Built as one cJSON
 * tree, the tree of 20,000 took the recording's peak memory from 40 to
 * 154 MB, so the text is written one process at a time. Two arrays of
 * indexes and an explicit stack keep the nesting, because a chain of
 * processes as deep as the run must not overflow the C stack.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness/tracer_internal.h"

#define NONE SIZE_MAX

/* A growing text buffer, NUL-terminated once not empty. */
struct text {
	char *data;
	size_t len, capacity;
};

/* The tree's shape: each process's first child and next sibling, in
 * index order, and the walk's stack of open processes. */
struct shape {
	size_t *first_child;
	size_t *next_sibling;
	size_t *stack;
};

static int append(struct text *text, const char *bytes, size_t len)
{
	if (text->len + len + 1 > text->capacity) {
		size_t capacity = text->capacity ? text->capacity : 4096;
		char *grown;

		while (text->len + len + 1 > capacity)
			capacity *= 2;
		grown = realloc(text->data, capacity);
		if (!grown)
			return -1;
		text->data = grown;
		text->capacity = capacity;
	}
	memcpy(text->data + text->len, bytes, len);
	text->len += len;
	text->data[text->len] = '\0';
	return 0;
}

/* Link each process to its parent. Parents are recorded before their
 * children, and a process whose parent was not traced hangs below the
 * root, as its first process. */
static int shape_build(struct shape *shape,
		       const struct harness_tracer *tracer)
{
	size_t n = tracer->n_processes;

	shape->first_child = malloc(n * sizeof(size_t));
	shape->next_sibling = malloc(n * sizeof(size_t));
	shape->stack = malloc(n * sizeof(size_t));
	if (!shape->first_child || !shape->next_sibling || !shape->stack)
		return -1;

	for (size_t i = 0; i < n; i++)
		shape->first_child[i] = shape->next_sibling[i] = NONE;
	/* Backwards, so that each list of children is in index order. */
	for (size_t i = n - 1; i > 0; i--) {
		long parent = tracer->processes[i]->parent;
		size_t at = parent >= 0 && (size_t)parent < i ? (size_t)parent
							       : 0;

		shape->next_sibling[i] = shape->first_child[at];
		shape->first_child[at] = i;
	}
	return 0;
}

static void shape_free(struct shape *shape)
{
	free(shape->first_child);
	free(shape->next_sibling);
	free(shape->stack);
}

/* Append a process's object without its closing brace, followed by the
 * opening of its "children" array, the last member. */
static int open_process(struct text *text, const struct harness_process *p,
			struct tracer_env_cache *cache)
{
	static const char children[] = ",\"children\":[";
	cJSON *obj = tracer_process_object(p, cache);
	char *printed = obj ? cJSON_PrintUnformatted(obj) : NULL;
	size_t len = printed ? strlen(printed) : 0;
	int rc = -1;

	/* The object has members, so it ends in "}" after at least one. */
	if (len > 2 && append(text, printed, len - 1) == 0 &&
	    append(text, children, sizeof(children) - 1) == 0)
		rc = 0;
	free(printed);
	cJSON_Delete(obj);
	return rc;
}

/* Walk the tree depth first. The stack contains the open processes,
 * and first_child[] of each is its next child not yet written, so a
 * step opens that child or closes the process on top. */
static int walk(struct text *text, const struct harness_tracer *tracer,
		struct shape *shape, struct tracer_env_cache *cache)
{
	size_t depth = 0;

	if (open_process(text, tracer->processes[0], cache) < 0)
		return -1;
	shape->stack[depth++] = 0;
	while (depth > 0) {
		size_t top = shape->stack[depth - 1];
		size_t child = shape->first_child[top];

		if (child == NONE) {
			if (append(text, "]}", 2) < 0)
				return -1;
			depth--;
			continue;
		}

		shape->first_child[top] = shape->next_sibling[child];
		/* After "[" comes the first child, after "}" another. */
		if (text->data[text->len - 1] != '[' &&
		    append(text, ",", 1) < 0)
			return -1;
		if (open_process(text, tracer->processes[child], cache) < 0)
			return -1;
		shape->stack[depth++] = child;
	}
	return 0;
}

char *harness_tracer_tree_text(const struct harness_tracer *tracer,
			       size_t *len)
{
	struct shape shape = { 0 };
	struct text text = { 0 };
	struct tracer_env_cache cache = { 0 };
	int rc = -1;

	if (tracer->n_processes == 0)
		rc = append(&text, "null", 4);
	else if (shape_build(&shape, tracer) == 0)
		rc = walk(&text, tracer, &shape, &cache);

	shape_free(&shape);
	tracer_env_cache_release(&cache);
	if (rc < 0) {
		free(text.data);
		return NULL;
	}
	*len = text.len;
	return text.data;
}
