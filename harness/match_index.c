/*
 * match_index.c - hash tables from a 32-byte digest to the recorded
 * exchanges that have it, for the matcher (see match_index.h).
 *
 * The keys are SHA-256 digests, so their first 8 bytes are already a
 * uniform hash. Collisions in the table are resolved by linear probing,
 * and the table is kept at most half full.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness/error.h"
#include "harness/match_index.h"

static int out_of_memory(void)
{
	harness_set_error("cannot index recordings: 'memory': out of memory");
	return -1;
}

static size_t slot_of(const struct match_index *index,
		      const unsigned char key[32])
{
	uint64_t hash;

	memcpy(&hash, key, sizeof(hash));
	return (size_t)hash & (index->n_slots - 1);
}

int match_index_init(struct match_index *index, size_t expected)
{
	size_t n = 16;

	while (n < expected * 2)
		n *= 2;
	index->slots = calloc(n, sizeof(*index->slots));
	index->n_slots = n;
	index->used = 0;
	return index->slots ? 0 : out_of_memory();
}

/* The slot that contains key, or the empty one where it would go. */
static struct match_list *probe(const struct match_index *index,
				const unsigned char key[32])
{
	size_t i = slot_of(index, key);

	for (;;) {
		struct match_list *list = &index->slots[i];

		if (list->n == 0 || memcmp(list->key, key, 32) == 0)
			return list;
		i = (i + 1) & (index->n_slots - 1);
	}
}

static int grow(struct match_index *index)
{
	struct match_index bigger;

	if (match_index_init(&bigger, index->n_slots) < 0)
		return -1;
	for (size_t i = 0; i < index->n_slots; i++) {
		if (index->slots[i].n)
			*probe(&bigger, index->slots[i].key) = index->slots[i];
	}
	bigger.used = index->used;
	free(index->slots);
	*index = bigger;
	return 0;
}

static int append(struct match_list *list, size_t value)
{
	if (list->n == list->capacity) {
		size_t capacity = list->capacity ? list->capacity * 2 : 1;
		size_t *grown = realloc(list->values,
					capacity * sizeof(*grown));

		if (!grown)
			return out_of_memory();
		list->values = grown;
		list->capacity = capacity;
	}
	list->values[list->n++] = value;
	return 0;
}

int match_index_add(struct match_index *index, const unsigned char key[32],
		    size_t value)
{
	struct match_list *list;

	if ((index->used + 1) * 2 > index->n_slots && grow(index) < 0)
		return -1;
	list = probe(index, key);
	if (list->n == 0) {
		memcpy(list->key, key, 32);
		index->used++;
	}
	return append(list, value);
}

struct match_list *match_index_get(const struct match_index *index,
				   const unsigned char key[32])
{
	struct match_list *list;

	if (!index->slots)
		return NULL;
	list = probe(index, key);
	return list->n ? list : NULL;
}

void match_list_skip(struct match_list *list,
		     bool (*used)(const void *ctx, size_t value),
		     const void *ctx)
{
	while (list->cursor < list->n && used(ctx, list->values[list->cursor]))
		list->cursor++;
}

void match_index_release(struct match_index *index)
{
	for (size_t i = 0; index->slots && i < index->n_slots; i++)
		free(index->slots[i].values);
	free(index->slots);
	memset(index, 0, sizeof(*index));
}
