/*
 * jsondiff.c - the structured diff of two JSON documents.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/canon.h"
#include "harness/error.h"
#include "harness/json_bytes.h"
#include "harness/jsondiff.h"

struct walk {
	const struct harness_normalizer *normalizer;
	bool use_ignores;
	const char *prefix;
	struct harness_diff *diff;
	struct harness_path_step steps[HARNESS_JSON_MAX_DEPTH + 1];
};

static int out_of_memory(const char *what)
{
	harness_set_error("cannot diff JSON: '%s': out of memory", what);
	return -1;
}

static int is_identifier(const char *key)
{
	if (!((*key >= 'A' && *key <= 'Z') || (*key >= 'a' && *key <= 'z') ||
	      *key == '_'))
		return 0;
	for (const char *p = key; *p; p++) {
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || *p == '_'))
			return 0;
	}
	return 1;
}

/* A growing string for paths and reports. */
struct text {
	char *data;
	size_t len;
	size_t capacity;
	int failed;
};

static void text_add(struct text *text, const char *s, size_t len)
{
	if (text->failed)
		return;
	if (text->len + len + 1 > text->capacity) {
		size_t capacity = (text->len + len + 1) * 2;
		char *data = realloc(text->data, capacity);

		if (!data) {
			text->failed = 1;
			return;
		}
		text->data = data;
		text->capacity = capacity;
	}
	memcpy(text->data + text->len, s, len);
	text->len += len;
	text->data[text->len] = '\0';
}

static void text_puts(struct text *text, const char *s)
{
	text_add(text, s, strlen(s));
}

/* Append s as a JSON string literal. */
static void text_quote(struct text *text, const char *s, size_t len)
{
	char *copy = strndup(s, len);
	cJSON *string = copy ? cJSON_CreateString(copy) : NULL;
	char *printed = string ? cJSON_PrintUnformatted(string) : NULL;

	if (printed)
		text_puts(text, printed);
	else
		text->failed = 1;
	free(printed);
	cJSON_Delete(string);
	free(copy);
}

static void path_add_key(struct text *text, const char *key, int first)
{
	if (is_identifier(key)) {
		if (!first)
			text_puts(text, ".");
		text_puts(text, key);
		return;
	}
	text_puts(text, "[");
	text_quote(text, key, strlen(key));
	text_puts(text, "]");
}

int harness_path_format(const struct harness_path_step *steps, size_t depth,
			char **out)
{
	struct text text = { NULL, 0, 0, 0 };

	text_add(&text, "", 0);
	for (size_t i = 0; i < depth; i++) {
		char index[32];

		if (steps[i].key) {
			path_add_key(&text, steps[i].key, i == 0);
			continue;
		}
		snprintf(index, sizeof(index), "[%zu]", steps[i].index);
		text_puts(&text, index);
	}
	if (text.failed) {
		free(text.data);
		return out_of_memory("path");
	}
	*out = text.data;
	return 0;
}

static char *entry_path(const struct walk *walk, size_t depth)
{
	char *tail = NULL;
	struct text text = { NULL, 0, 0, 0 };

	if (harness_path_format(walk->steps, depth, &tail) < 0)
		return NULL;
	text_add(&text, "", 0);
	if (walk->prefix && *walk->prefix) {
		text_puts(&text, walk->prefix);
		if (*tail && *tail != '[')
			text_puts(&text, ".");
	}
	text_puts(&text, tail);
	free(tail);
	if (text.failed) {
		free(text.data);
		out_of_memory("path");
		return NULL;
	}
	return text.data;
}

static int is_utf8_continuation(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

/* The differing middle of two strings: after the longest common prefix
 * and before the longest common suffix that does not overlap it. */
static void find_span(const char *a, size_t a_len, const char *b,
		      size_t b_len, struct harness_diff_entry *entry)
{
	size_t start = 0, suffix = 0;
	size_t shorter = a_len < b_len ? a_len : b_len;

	while (start < shorter && a[start] == b[start])
		start++;
	while (start > 0 && (is_utf8_continuation(a[start]) ||
			     is_utf8_continuation(b[start])))
		start--;
	while (suffix < shorter - start &&
	       a[a_len - 1 - suffix] == b[b_len - 1 - suffix])
		suffix++;
	while (suffix > 0 &&
	       (is_utf8_continuation(a[a_len - suffix]) ||
		is_utf8_continuation(b[b_len - suffix])))
		suffix--;

	entry->has_span = true;
	entry->span_start = start;
	entry->span_recorded_len = a_len - start - suffix;
	entry->span_live_len = b_len - start - suffix;
}

static int strings_equal_normalized(const struct harness_normalizer *n,
				    const char *a, const char *b)
{
	size_t a_spans = 0, b_spans = 0;
	char *na = harness_normalize_string(n, a, strlen(a), NULL, &a_spans);
	char *nb = harness_normalize_string(n, b, strlen(b), NULL, &b_spans);
	int equal = -1;

	if (na && nb)
		equal = a_spans + b_spans > 0 && strcmp(na, nb) == 0;
	free(na);
	free(nb);
	return equal;
}

static int is_pid_key(const char *key)
{
	return key && (strcmp(key, "pid") == 0 || strcmp(key, "ppid") == 0);
}

/* Whether the normalizer explains the difference between two values;
 * -1 when it cannot tell (out of memory). */
static int is_volatile(const struct walk *walk, const cJSON *a,
		       const cJSON *b, size_t depth)
{
	const struct harness_normalizer *n = walk->normalizer;

	if (!n)
		return 0;
	if (walk->use_ignores && harness_normalizer_ignores(n, walk->steps,
							    depth))
		return 1;
	if (!a || !b)
		return 0;
	if (cJSON_IsString(a) && cJSON_IsString(b))
		return strings_equal_normalized(n, a->valuestring,
						b->valuestring);
	if (cJSON_IsNumber(a) && cJSON_IsNumber(b)) {
		const char *key = depth ? walk->steps[depth - 1].key : NULL;

		if (harness_normalize_is_unix_time(n, a->valuedouble) &&
		    harness_normalize_is_unix_time(n, b->valuedouble))
			return 1;
		return is_pid_key(key) &&
		       harness_normalizer_has_kind(n, HARNESS_VOLATILE_PID);
	}
	return 0;
}

static char *print_value(const cJSON *item, int *failed)
{
	char *text;

	if (!item)
		return NULL;
	text = cJSON_PrintUnformatted(item);
	if (!text)
		*failed = 1;
	return text;
}

static int add_entry(struct walk *walk, const cJSON *a, const cJSON *b,
		     size_t depth)
{
	struct harness_diff *diff = walk->diff;
	struct harness_diff_entry entry = { 0 };
	int failed = 0;
	int volatile_ = is_volatile(walk, a, b, depth);

	if (volatile_ < 0)
		return -1;
	diff->total++;
	if (!volatile_)
		diff->divergent++;
	if (diff->count >= HARNESS_DIFF_MAX_ENTRIES)
		return 0;

	if (diff->count == diff->capacity) {
		size_t capacity = diff->capacity ? diff->capacity * 2 : 16;
		void *entries = realloc(diff->entries,
					capacity * sizeof(*diff->entries));

		if (!entries)
			return out_of_memory("entries");
		diff->entries = entries;
		diff->capacity = capacity;
	}

	entry.class = volatile_ ? HARNESS_DIFF_VOLATILE
				: HARNESS_DIFF_DIVERGENT;
	entry.path = entry_path(walk, depth);
	entry.recorded = print_value(a, &failed);
	entry.live = print_value(b, &failed);
	if (!entry.path || failed) {
		free(entry.path);
		free(entry.recorded);
		free(entry.live);
		return out_of_memory("value");
	}
	if (cJSON_IsString(a) && cJSON_IsString(b))
		find_span(a->valuestring, strlen(a->valuestring),
			  b->valuestring, strlen(b->valuestring), &entry);
	diff->entries[diff->count++] = entry;
	return 0;
}

static int same_kind(const cJSON *a, const cJSON *b)
{
	if (cJSON_IsBool(a) && cJSON_IsBool(b))
		return 1;
	return (a->type & 0xff) == (b->type & 0xff);
}

static int diff_at(struct walk *walk, const cJSON *a, const cJSON *b,
		   size_t depth);

static int diff_objects(struct walk *walk, const cJSON *a, const cJSON *b,
			size_t depth)
{
	for (const cJSON *item = a->child; item; item = item->next) {
		const cJSON *other = cJSON_GetObjectItemCaseSensitive(
			b, item->string);

		walk->steps[depth] = (struct harness_path_step){ item->string,
								 0 };
		if (diff_at(walk, item, other, depth + 1) < 0)
			return -1;
	}
	for (const cJSON *item = b->child; item; item = item->next) {
		if (cJSON_GetObjectItemCaseSensitive(a, item->string))
			continue;
		walk->steps[depth] = (struct harness_path_step){ item->string,
								 0 };
		if (diff_at(walk, NULL, item, depth + 1) < 0)
			return -1;
	}
	return 0;
}

static int diff_arrays(struct walk *walk, const cJSON *a, const cJSON *b,
		       size_t depth)
{
	const cJSON *x = a->child, *y = b->child;

	for (size_t i = 0; x || y; i++) {
		walk->steps[depth] = (struct harness_path_step){ NULL, i };
		if (diff_at(walk, x, y, depth + 1) < 0)
			return -1;
		x = x ? x->next : NULL;
		y = y ? y->next : NULL;
	}
	return 0;
}

static int diff_at(struct walk *walk, const cJSON *a, const cJSON *b,
		   size_t depth)
{
	if (!a && !b)
		return 0;
	if (depth > HARNESS_JSON_MAX_DEPTH) {
		harness_set_error("cannot diff JSON: 'depth over %d': nested "
				  "too deeply", HARNESS_JSON_MAX_DEPTH);
		return -1;
	}
	if (!a || !b || !same_kind(a, b))
		return add_entry(walk, a, b, depth);

	/* An ignored subtree is one volatile difference, however deep. */
	if (walk->use_ignores &&
	    harness_normalizer_ignores(walk->normalizer, walk->steps, depth)) {
		if (cJSON_Compare(a, b, true))
			return 0;
		return add_entry(walk, a, b, depth);
	}

	if (cJSON_IsObject(a))
		return diff_objects(walk, a, b, depth);
	if (cJSON_IsArray(a))
		return diff_arrays(walk, a, b, depth);
	if (cJSON_Compare(a, b, true))
		return 0;
	return add_entry(walk, a, b, depth);
}

int harness_jsondiff(const cJSON *recorded, const cJSON *live,
		     const struct harness_normalizer *normalizer,
		     const char *prefix, struct harness_diff *diff)
{
	struct walk *walk = malloc(sizeof(*walk));
	int rc;

	if (!walk)
		return out_of_memory("walk");
	walk->normalizer = normalizer;
	walk->prefix = prefix;
	walk->use_ignores = normalizer != NULL;
	walk->diff = diff;

	if (harness_json_depth(recorded) > HARNESS_JSON_MAX_DEPTH ||
	    harness_json_depth(live) > HARNESS_JSON_MAX_DEPTH) {
		free(walk);
		harness_set_error("cannot diff JSON: 'depth over %d': nested "
				  "too deeply", HARNESS_JSON_MAX_DEPTH);
		return -1;
	}
	rc = diff_at(walk, recorded, live, 0);
	free(walk);
	return rc;
}

int harness_diff_strings(const char *path, const char *recorded,
			 const char *live,
			 const struct harness_normalizer *normalizer,
			 struct harness_diff *diff)
{
	cJSON *a = recorded ? cJSON_CreateString(recorded) : NULL;
	cJSON *b = live ? cJSON_CreateString(live) : NULL;
	struct walk walk = { normalizer, false, path, diff, { { 0 } } };
	int rc;

	if ((recorded && !a) || (live && !b)) {
		cJSON_Delete(a);
		cJSON_Delete(b);
		return out_of_memory(path);
	}
	rc = 0;
	if (!a || !b || strcmp(recorded, live) != 0)
		rc = add_entry(&walk, a, b, 0);
	cJSON_Delete(a);
	cJSON_Delete(b);
	return rc;
}

void harness_diff_release(struct harness_diff *diff)
{
	for (size_t i = 0; i < diff->count; i++) {
		free(diff->entries[i].path);
		free(diff->entries[i].recorded);
		free(diff->entries[i].live);
	}
	free(diff->entries);
	memset(diff, 0, sizeof(*diff));
}

static void text_span_side(struct text *text, const char *s, size_t len,
			   size_t start, size_t span, size_t context)
{
	size_t from = start > context ? start - context : 0;
	size_t to = start + span + context < len ? start + span + context
						 : len;
	struct text excerpt = { NULL, 0, 0, 0 };

	while (from > 0 && is_utf8_continuation(s[from]))
		from--;
	while (to < len && is_utf8_continuation(s[to]))
		to++;

	text_add(&excerpt, "", 0);
	if (from > 0)
		text_puts(&excerpt, "...");
	text_add(&excerpt, s + from, start - from);
	text_puts(&excerpt, "\xc2\xab");
	text_add(&excerpt, s + start, span);
	text_puts(&excerpt, "\xc2\xbb");
	text_add(&excerpt, s + start + span, to - start - span);
	if (to < len)
		text_puts(&excerpt, "...");
	if (excerpt.failed)
		text->failed = 1;
	else
		text_quote(text, excerpt.data, excerpt.len);
	free(excerpt.data);
}

static void format_side(struct text *text, const char *json, size_t start,
			size_t span, bool has_span, size_t context)
{
	cJSON *value;

	if (!json) {
		text_puts(text, "(absent)");
		return;
	}
	if (!has_span) {
		text_puts(text, json);
		return;
	}
	value = cJSON_Parse(json);
	if (!cJSON_IsString(value)) {
		text_puts(text, json);
	} else {
		size_t len = strlen(value->valuestring);

		text_span_side(text, value->valuestring, len, start, span,
			       context);
	}
	cJSON_Delete(value);
}

char *harness_diff_format(const struct harness_diff *diff, size_t context)
{
	struct text text = { NULL, 0, 0, 0 };

	text_add(&text, "", 0);
	for (size_t i = 0; i < diff->count; i++) {
		const struct harness_diff_entry *e = &diff->entries[i];

		text_puts(&text, e->class == HARNESS_DIFF_VOLATILE
					 ? "volatile "
					 : "divergent ");
		text_puts(&text, *e->path ? e->path : "(root)");
		text_puts(&text, ": ");
		format_side(&text, e->recorded, e->span_start,
			    e->span_recorded_len, e->has_span, context);
		text_puts(&text, " -> ");
		format_side(&text, e->live, e->span_start, e->span_live_len,
			    e->has_span, context);
		text_puts(&text, "\n");
	}
	if (diff->total > diff->count) {
		char more[96];

		snprintf(more, sizeof(more), "... and %zu more differences\n",
			 diff->total - diff->count);
		text_puts(&text, more);
	}
	if (text.failed) {
		free(text.data);
		out_of_memory("report");
		return NULL;
	}
	return text.data;
}

/* Add text to object as name: parsed when is_json, or as a string. Text
 * that is not valid UTF-8, which cJSON parses and prints as it is, goes
 * in base64 under name + "_base64" instead, so the output stays JSON that
 * a strict parser reads. */
static int add_text(cJSON *object, const char *name, const char *text,
		    bool is_json)
{
	char key[32];
	cJSON *value;

	if (!text)
		return 0;
	if (harness_is_utf8((const unsigned char *)text, strlen(text))) {
		value = is_json ? cJSON_Parse(text) : cJSON_CreateString(text);
	} else {
		snprintf(key, sizeof(key), "%s_base64", name);
		name = key;
		value = harness_json_base64((const unsigned char *)text,
					    strlen(text));
	}
	if (!value || !cJSON_AddItemToObject(object, name, value)) {
		cJSON_Delete(value);
		return -1;
	}
	return 0;
}

static cJSON *entry_to_json(const struct harness_diff_entry *e)
{
	cJSON *object = cJSON_CreateObject();
	cJSON *span;
	int ok;

	if (!object)
		return NULL;
	ok = add_text(object, "path", e->path, false) == 0 &&
	     cJSON_AddStringToObject(object, "class",
				     e->class == HARNESS_DIFF_VOLATILE
					     ? "volatile"
					     : "divergent") &&
	     add_text(object, "recorded", e->recorded, true) == 0 &&
	     add_text(object, "live", e->live, true) == 0;
	if (ok && e->has_span) {
		span = cJSON_AddObjectToObject(object, "span");
		ok = span &&
		     cJSON_AddNumberToObject(span, "start", e->span_start) &&
		     cJSON_AddNumberToObject(span, "recorded_len",
					     e->span_recorded_len) &&
		     cJSON_AddNumberToObject(span, "live_len",
					     e->span_live_len);
	}
	if (!ok) {
		cJSON_Delete(object);
		return NULL;
	}
	return object;
}

cJSON *harness_diff_to_json(const struct harness_diff *diff)
{
	cJSON *array = cJSON_CreateArray();

	if (!array) {
		out_of_memory("report");
		return NULL;
	}
	for (size_t i = 0; i < diff->count; i++) {
		cJSON *entry = entry_to_json(&diff->entries[i]);

		if (!entry || !cJSON_AddItemToArray(array, entry)) {
			cJSON_Delete(entry);
			cJSON_Delete(array);
			out_of_memory("report");
			return NULL;
		}
	}
	return array;
}
