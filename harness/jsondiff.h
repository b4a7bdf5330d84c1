/*
 * jsondiff.h - a structured diff of two JSON documents, a recorded one
 * and a live one.
 *
 * Each difference names the JSON path where the documents part, written
 * as members and indexes from the root: "messages[7].content",
 * "input[12].output", "metadata[\"user-id\"]" for a key that is not an
 * identifier, and "" for the root itself.
 *
 * Objects are compared member by member, in the recorded document's
 * order and then the members only the live one has, so canonical trees
 * come out in key order. Arrays are compared element by element by
 * index, so an array that grew has one difference per extra element,
 * with the value absent on the shorter side. A change of type is one
 * difference at that path.
 *
 * Each difference is volatile when a normalizer explains it (both values
 * normalize to the same thing, or the path is ignored) and divergent
 * otherwise. For two strings the differing span is recorded: the bytes
 * before it are common, and so are the bytes after it. The span never
 * splits a UTF-8 sequence.
 *
 * Memory: a struct harness_diff owns its entries and every string in
 * them; release it with harness_diff_release(). Functions that fail
 * return -1 or NULL with the message in harness_error().
 */
#ifndef HARNESS_JSONDIFF_H
#define HARNESS_JSONDIFF_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "harness/normalize.h"

/* The maximum number of differences one diff stores. Later ones are
 * only counted. */
#define HARNESS_DIFF_MAX_ENTRIES 1000

enum harness_diff_class {
	HARNESS_DIFF_VOLATILE,
	HARNESS_DIFF_DIVERGENT,
};

struct harness_diff_entry {
	char *path;
	char *recorded;		/* compact JSON of the value, NULL when
				 * the recorded document has none there */
	char *live;		/* likewise for the live document */
	enum harness_diff_class class;
	bool has_span;		/* both values are strings */
	size_t span_start;	/* bytes common to both strings at the
				 * start, in the decoded strings */
	size_t span_recorded_len; /* differing bytes of the recorded string */
	size_t span_live_len;	/* differing bytes of the live string */
};

struct harness_diff {
	struct harness_diff_entry *entries;
	size_t count;
	size_t capacity;
	size_t total;		/* differences found, stored or not */
	size_t divergent;	/* of those, how many are divergent */
};

/* Append the differences between recorded and live to diff. Paths start
 * with prefix when it is neither NULL nor "", joined as a member would
 * be, so the prefix "headers" gives "headers.model". A NULL normalizer
 * makes every difference divergent. Ignore rules match paths from the
 * root of the trees given, without the prefix. Either tree may be NULL
 * for an absent document. Trees deeper than HARNESS_JSON_MAX_DEPTH fail.
 */
int harness_jsondiff(const cJSON *recorded, const cJSON *live,
		     const struct harness_normalizer *normalizer,
		     const char *prefix, struct harness_diff *diff);

/* Append one difference between two plain strings (header values, query
 * strings) at path, classed with the normalizer. Either may be NULL for
 * absent. */
int harness_diff_strings(const char *path, const char *recorded,
			 const char *live,
			 const struct harness_normalizer *normalizer,
			 struct harness_diff *diff);

void harness_diff_release(struct harness_diff *diff);

/* A report of the diff for people: one difference a line, as
 *   divergent messages[7].content: "...sum «4» of..." -> "...sum «5» of..."
 * with long strings cut to context bytes either side of the span.
 * The caller frees it with free(). */
char *harness_diff_format(const struct harness_diff *diff, size_t context);

/* The diff as a JSON array of objects with the members path, class
 * ("volatile" or "divergent"), recorded and live (the values, absent when
 * absent) and, for strings, span: {start, recorded_len, live_len}. A path
 * or value that is not valid UTF-8 is path_base64, recorded_base64 or
 * live_base64 instead: its text, a value's as JSON, in base64. The
 * caller frees it with cJSON_Delete(). */
cJSON *harness_diff_to_json(const struct harness_diff *diff);

/* Format the path of depth steps in the notation above into a new
 * string *out, which the caller frees with free(). */
int harness_path_format(const struct harness_path_step *steps, size_t depth,
			char **out);

#endif
