/*
 * tree_count.h - bound the entries that one walk of a snapshot reaches.
 *
 * Subtrees are shared by id, so a small hostile bundle can name more
 * entries than any walk could list or write. Each walker checks the
 * count first and fails past BUNDLE_SNAPSHOT_MAX_ENTRIES, far above a
 * real workspace (docs/bundle-format.md).
 *
 * Errors: functions return 0, or -1 with the message in bundle_error().
 */
#ifndef BUNDLE_TREE_COUNT_H
#define BUNDLE_TREE_COUNT_H

#include <stdint.h>

#include "bundle/bundle.h"

#define BUNDLE_SNAPSHOT_MAX_ENTRIES 10000000

/* Fail when a walk of tree would reach more than the cap. */
int bundle_tree_check_size(struct bundle *bundle,
			   const struct bundle_id *tree);

/* A running count for a walk that reaches trees one at a time, such as
 * a diff. It keeps the expanded size of each tree it has counted. */
struct bundle_tree_count;

struct bundle_tree_count *bundle_tree_count_new(struct bundle *bundle);
void bundle_tree_count_free(struct bundle_tree_count *counter);

/* Add what is below tree, which lies depth levels below the snapshot
 * root that the error names. */
int bundle_tree_count_add(struct bundle_tree_count *counter,
			  const struct bundle_id *tree, uint32_t depth,
			  const struct bundle_id *root);

/* Add one entry that the walk reached. */
int bundle_tree_count_step(struct bundle_tree_count *counter,
			   const struct bundle_id *root);

#endif
