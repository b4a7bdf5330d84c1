/*
 * tree_count.c - count the entries that one walk of a tree reaches.
 *
 * A tree names a subtree by id, so a few kilobytes of trees that each
 * name the one below many times expand to billions of entries. The
 * count loads each distinct tree once and keeps its expanded size and
 * height by id, so it costs what reading the trees once costs, and a
 * walker checks it before it writes or prints anything.
 *
 * A tree that cannot be read counts as empty: the walker that reaches
 * it reports it in its own words.
 */
#include <stdlib.h>
#include <string.h>

#include "bundle/snapshot.h"
#include "bundle/store.h"
#include "bundle/tree_count.h"

struct memo {
	struct bundle_id id;
	uint64_t entries;
	uint32_t height;
	uint8_t used;
};

struct bundle_tree_count {
	struct bundle *bundle;
	struct memo *slots;
	size_t n_slots, n_used;
	uint64_t total;
};

struct bundle_tree_count *bundle_tree_count_new(struct bundle *bundle)
{
	struct bundle_tree_count *counter = calloc(1, sizeof(*counter));

	if (!counter) {
		bundle_set_error("cannot count tree entries: out of memory");
		return NULL;
	}
	counter->bundle = bundle;
	return counter;
}

void bundle_tree_count_free(struct bundle_tree_count *counter)
{
	if (!counter)
		return;
	free(counter->slots);
	free(counter);
}

static size_t slot_of(const struct bundle_tree_count *counter,
		      const struct bundle_id *id)
{
	size_t at;

	/* An id is a SHA-256 digest, so any of its bytes hash well. */
	memcpy(&at, id->bytes, sizeof(at));
	at &= counter->n_slots - 1;
	while (counter->slots[at].used &&
	       memcmp(counter->slots[at].id.bytes, id->bytes,
		      BUNDLE_ID_LEN) != 0)
		at = (at + 1) & (counter->n_slots - 1);
	return at;
}

static int remember(struct bundle_tree_count *counter,
		    const struct bundle_id *id, uint64_t entries,
		    uint32_t height)
{
	struct memo *slot;

	if (2 * (counter->n_used + 1) > counter->n_slots) {
		struct bundle_tree_count grown = *counter;

		grown.n_slots = counter->n_slots ? 2 * counter->n_slots : 256;
		grown.slots = calloc(grown.n_slots, sizeof(*grown.slots));
		if (!grown.slots) {
			bundle_set_error("cannot count tree entries: out of "
					 "memory");
			return -1;
		}
		for (size_t i = 0; i < counter->n_slots; i++) {
			if (counter->slots[i].used)
				grown.slots[slot_of(&grown,
						    &counter->slots[i].id)] =
					counter->slots[i];
		}
		free(counter->slots);
		*counter = grown;
	}
	slot = &counter->slots[slot_of(counter, id)];
	slot->id = *id;
	slot->entries = entries;
	slot->height = height;
	slot->used = 1;
	counter->n_used++;
	return 0;
}

static int too_many(const struct bundle_tree_count *counter,
		    const struct bundle_id *root)
{
	char hex[BUNDLE_ID_HEX_LEN + 1];

	bundle_id_to_hex(root, hex);
	bundle_set_error("cannot read snapshot: '%s': its tree %s expands to "
			 "more than %d entries, the maximum for one walk",
			 counter->bundle->path, hex,
			 BUNDLE_SNAPSHOT_MAX_ENTRIES);
	return -1;
}

static int too_deep(const struct bundle_tree_count *counter,
		    const struct bundle_id *root)
{
	char hex[BUNDLE_ID_HEX_LEN + 1];

	bundle_id_to_hex(root, hex);
	bundle_set_error("cannot read snapshot: '%s': its tree %s nests trees "
			 "deeper than %d levels", counter->bundle->path, hex,
			 BUNDLE_SNAPSHOT_MAX_DEPTH);
	return -1;
}

/* The entries below tree id and its height, where it lies depth levels
 * below root. Every sum stays within twice the cap, so none overflows. */
static int count(struct bundle_tree_count *counter, const struct bundle_id *id,
		 const struct bundle_id *root, uint32_t depth,
		 uint64_t *entries, uint32_t *height)
{
	struct bundle_tree tree;
	enum bundle_kind kind;
	void *data = NULL;
	size_t len;
	int rc = 0;

	if (counter->n_slots) {
		const struct memo *slot =
			&counter->slots[slot_of(counter, id)];

		if (slot->used) {
			*entries = slot->entries;
			*height = slot->height;
			return depth + slot->height > BUNDLE_SNAPSHOT_MAX_DEPTH
				       ? too_deep(counter, root) : 0;
		}
	}
	if (depth > BUNDLE_SNAPSHOT_MAX_DEPTH)
		return too_deep(counter, root);
	*entries = 0;
	*height = 0;
	bundle_tree_init(&tree);
	if (bundle_get(counter->bundle, id, &data, &len, &kind) < 0 ||
	    kind != BUNDLE_TREE || bundle_tree_parse(&tree, data, len) < 0) {
		free(data);
		return remember(counter, id, 0, 0);
	}
	*entries = tree.n_entries;
	for (size_t i = 0; i < tree.n_entries && rc == 0; i++) {
		const struct bundle_tree_entry *e = &tree.entries[i];
		uint64_t below;
		uint32_t h;

		if (e->kind != BUNDLE_ENTRY_DIR)
			continue;
		rc = count(counter, &e->ref, root, depth + 1, &below, &h);
		*entries += below;
		if (h + 1 > *height)
			*height = h + 1;
		if (rc == 0 && *entries > BUNDLE_SNAPSHOT_MAX_ENTRIES)
			rc = too_many(counter, root);
	}
	bundle_tree_release(&tree);
	free(data);
	if (rc == 0 && *entries > BUNDLE_SNAPSHOT_MAX_ENTRIES)
		rc = too_many(counter, root);
	return rc == 0 ? remember(counter, id, *entries, *height) : rc;
}

int bundle_tree_count_add(struct bundle_tree_count *counter,
			  const struct bundle_id *tree, uint32_t depth,
			  const struct bundle_id *root)
{
	uint64_t entries;
	uint32_t height;

	if (count(counter, tree, root, depth, &entries, &height) < 0)
		return -1;
	counter->total += entries;
	if (counter->total > BUNDLE_SNAPSHOT_MAX_ENTRIES)
		return too_many(counter, root);
	return 0;
}

int bundle_tree_count_step(struct bundle_tree_count *counter,
			   const struct bundle_id *root)
{
	if (++counter->total > BUNDLE_SNAPSHOT_MAX_ENTRIES)
		return too_many(counter, root);
	return 0;
}

int bundle_tree_check_size(struct bundle *bundle,
			   const struct bundle_id *tree)
{
	struct bundle_tree_count *counter = bundle_tree_count_new(bundle);
	int rc;

	if (!counter)
		return -1;
	rc = bundle_tree_count_add(counter, tree, 0, tree);
	bundle_tree_count_free(counter);
	return rc;
}
