/*
 * fuzz_tree.c - libFuzzer target: a tree object and a chunk list, as
 * "runbundle ls" and the exports read them from an untrusted bundle.
 */
#include <stdint.h>
#include <stdlib.h>

#include "bundle/tree.h"
#include "inspect/content.h"

static int count(const struct bundle_id *id, void *arg)
{
	(void)id;
	++*(size_t *)arg;
	return 0;
}

static int count_kind(const struct bundle_id *id, enum bundle_kind kind,
		      void *arg)
{
	(void)kind;
	return count(id, arg);
}

static int count_chunk(const struct bundle_id *id, uint64_t size, void *arg)
{
	(void)size;
	return count(id, arg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bundle_tree tree;
	size_t n = 0;
	char name[1024];

	if (bundle_tree_parse(&tree, data, size) == 0) {
		for (size_t i = 0; i < tree.n_entries; i++) {
			const struct bundle_tree_entry *e = &tree.entries[i];

			bundle_name_escape(name, sizeof(name), e->name,
					   e->name_len);
			if (e->text)
				bundle_name_escape(name, sizeof(name), e->text,
						   e->text_len);
			(void)inspect_kind_name(e->kind);
			(void)bundle_tree_find(&tree, e->name, e->name_len);
		}
		bundle_tree_release(&tree);
	}
	bundle_tree_foreach_ref(data, size, count_kind, &n);
	inspect_chunks_foreach(data, size, count_chunk, &n);
	return 0;
}
