/*
 * match_index.h - the matcher's lookup tables: recorded exchanges grouped
 * by a 32-byte key (a SHA-256 digest), so that finding the recordings
 * with a given key costs the same whatever the size of the recording.
 *
 * Invariants:
 *  1. Each key has one list, with the values added with that key in
 *     the order they were added. The matcher adds them in seq order.
 *  2. A list's cursor only moves forward: every value before it has been
 *     used up, as the caller reported through match_list_skip().
 *
 * Memory: the index owns its lists; match_index_get() returns a list
 * that lives until match_index_release(). Functions that fail return -1
 * and store the message in harness_error(). Not thread-safe: the
 * matcher holds its lock around every call.
 */
#ifndef HARNESS_MATCH_INDEX_H
#define HARNESS_MATCH_INDEX_H

#include <stdbool.h>
#include <stddef.h>

struct match_list {
	unsigned char key[32];
	size_t *values;
	size_t n;
	size_t capacity;
	size_t cursor; /* the first value that may still be unused */
};

struct match_index {
	struct match_list *slots; /* open addressing; n_slots a power of
				   * two, an empty slot has no values */
	size_t n_slots;
	size_t used;
};

/* An empty index for about expected keys. Returns 0 or -1. */
int match_index_init(struct match_index *index, size_t expected);

/* Append value to the list of key. Returns 0 or -1. */
int match_index_add(struct match_index *index, const unsigned char key[32],
		    size_t value);

/* The list of key, or NULL when no value has that key. */
struct match_list *match_index_get(const struct match_index *index,
				   const unsigned char key[32]);

/* Move the cursor of list past the leading values for which used()
 * returns true. */
void match_list_skip(struct match_list *list,
		     bool (*used)(const void *ctx, size_t value),
		     const void *ctx);

void match_index_release(struct match_index *index);

#endif
