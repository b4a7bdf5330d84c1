/*
 * content.h - read snapshots out of a bundle: find a path in a tree,
 * walk a tree, and stream a file's bytes.
 *
 * Invariants:
 *  1. Paths are '/'-separated names from the snapshot root, compared as
 *     raw bytes; "", "." and "/" name the root. No component may be
 *     ".." and nothing outside the tree is ever reached.
 *  2. Walks stop at BUNDLE_SNAPSHOT_MAX_DEPTH levels, so a hostile tree
 *     cannot exhaust the stack. A tree cannot reference itself, because
 *     an id is the hash of the content.
 *  3. File content streams chunk by chunk (one chunk in memory at a
 *     time); a sparse file's holes come out as zero bytes. Content
 *     longer or shorter than its entry's size fails the stream.
 *
 * Errors: functions return 0, or -1 with the message in inspect_error().
 * Callbacks stop a walk or a stream by returning nonzero, which is then
 * returned.
 */
#ifndef INSPECT_CONTENT_H
#define INSPECT_CONTENT_H

#include <stddef.h>
#include <stdint.h>

#include "bundle/bundle.h"
#include "bundle/tree.h"

/* One resolved path: the entry, or the root directory itself. */
struct inspect_node {
	int is_root;
	struct bundle_id tree;		/* is_root, or a DIR entry's ref */
	struct bundle_tree_entry entry; /* !is_root; points into parent */
	struct bundle_tree parent;	/* private */
	void *parent_data;		/* private */
};

/* Resolve path below the tree root. */
int inspect_node_find(struct bundle *bundle, const struct bundle_id *root,
		      const char *path, struct inspect_node *node);

/* Free what a resolved node holds; accepts a zeroed node. */
void inspect_node_release(struct inspect_node *node);

/* Load and parse one tree; release with bundle_tree_release() and free
 * *data afterwards. */
int inspect_tree_load(struct bundle *bundle, const struct bundle_id *id,
		      struct bundle_tree *tree, void **data);

/* Called for every entry below a tree, depth first in tree order. path
 * is the raw path from where the walk started, NUL-terminated and
 * without a leading '/'. Directories come before their entries. */
typedef int (*inspect_walk_fn)(const char *path,
			       const struct bundle_tree_entry *entry,
			       void *arg);

int inspect_tree_walk(struct bundle *bundle, const struct bundle_id *tree,
		      const char *prefix, inspect_walk_fn fn, void *arg);

typedef int (*inspect_bytes_fn)(const void *data, size_t len, void *arg);

/* Stream the whole content of a FILE entry, holes as zeros. */
int inspect_content_stream(struct bundle *bundle,
			   const struct bundle_tree_entry *entry,
			   inspect_bytes_fn fn, void *arg);

typedef int (*inspect_hole_fn)(uint64_t len, void *arg);

/* Stream the content of a FILE entry as inspect_content_stream() does,
 * but pass each hole of a sparse file to hole as its length, in one
 * call, so that a hole of exabytes costs no more than a small one. */
int inspect_content_stream_holes(struct bundle *bundle,
				 const struct bundle_tree_entry *entry,
				 inspect_bytes_fn fn, inspect_hole_fn hole,
				 void *arg);

/* The content of a FILE entry in one buffer (malloc'd, NUL after the
 * last byte). Fails when it is larger than max bytes. */
int inspect_content_read(struct bundle *bundle,
			 const struct bundle_tree_entry *entry, size_t max,
			 unsigned char **data, size_t *len);

/* Call fn with the id and the size of every chunk of a chunk list
 * object (data, len), after checking its framing. */
int inspect_chunks_foreach(const void *data, size_t len,
			   int (*fn)(const struct bundle_id *id,
				     uint64_t size, void *arg),
			   void *arg);

/* The display name of an entry kind: "file", "dir", "symlink", ... */
const char *inspect_kind_name(enum bundle_entry_kind kind);

#endif
