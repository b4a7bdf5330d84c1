/*
 * tree.h - the tree object: one directory of a snapshot.
 *
 * A tree object lists the entries of one directory, sorted by the raw
 * bytes of their names (memcmp order, a shorter name first when it is a
 * prefix of a longer one). A subdirectory is an entry that references the
 * tree object of that subdirectory, so a snapshot is a Merkle tree whose
 * root id names the whole directory, and an unchanged subdirectory has
 * the same id in every snapshot. docs/bundle-format.md gives the byte
 * layout.
 *
 * Invariants of an encoded tree, which bundle_tree_parse() checks:
 *  1. Names are 1 to 255 bytes, contain neither '/' nor NUL, are neither
 *     "." nor "..", and are not required to be UTF-8. Names are stored
 *     and compared as raw bytes; only display escapes them.
 *  2. Entries are in strictly increasing name order, so no name repeats
 *     and the same directory always encodes to the same bytes.
 *  3. Sizes and offsets are 64-bit everywhere.
 *  4. A sparse file lists its data extents in increasing order, without
 *     overlaps and within its size. Its ref names the data of those
 *     extents, one after the other, so the holes are not stored.
 *
 * Errors: functions return 0 on success and -1 on failure, with the
 * message in bundle_error(). Parsing never reads outside the given bytes,
 * whatever they contain.
 */
#ifndef BUNDLE_TREE_H
#define BUNDLE_TREE_H

#include <stddef.h>
#include <stdint.h>

#include "bundle/bundle.h"

#define BUNDLE_TREE_NAME_MAX 255
#define BUNDLE_TREE_TEXT_MAX 65535 /* symlink target, link path, error */

/* The kind of a directory entry, stored as one byte in tree objects. */
enum bundle_entry_kind {
	BUNDLE_ENTRY_FILE = 1,	   /* regular file: content in ref */
	BUNDLE_ENTRY_DIR = 2,	   /* directory: its tree in ref */
	BUNDLE_ENTRY_SYMLINK = 3,  /* target in text, never followed */
	BUNDLE_ENTRY_HARDLINK = 4, /* another link to the file whose path
				    * from the snapshot root is in text */
	BUNDLE_ENTRY_SPECIAL = 5,  /* fifo, socket or device: mode, rdev */
	BUNDLE_ENTRY_ERROR = 6,	   /* could not be read: reason in text */
	BUNDLE_ENTRY_CHANGED = 7,  /* kept changing while it was read */
};

/* One data extent of a sparse file, in bytes. */
struct bundle_extent {
	uint64_t offset;
	uint64_t length;
};

/*
 * One directory entry. In a parsed tree, name, text and the extents point
 * into the tree's bytes (or into the struct bundle_tree that owns them)
 * and live as long as those. The stat fields hold what lstat() returned
 * for every kind; size is the file size for FILE, HARDLINK and CHANGED,
 * and the target length for SYMLINK.
 */
struct bundle_tree_entry {
	enum bundle_entry_kind kind;
	const unsigned char *name;
	size_t name_len;
	uint32_t mode; /* st_mode, file type bits included */
	uint32_t uid;
	uint32_t gid;
	int64_t mtime_sec;
	uint32_t mtime_nsec;
	uint64_t size;
	enum bundle_kind ref_kind; /* FILE: BLOB or CHUNKS; DIR: TREE */
	struct bundle_id ref;	   /* FILE and DIR only */
	uint64_t rdev;		   /* SPECIAL only */
	const unsigned char *text; /* SYMLINK, HARDLINK and ERROR only */
	size_t text_len;
	int sparse;			     /* FILE: holes are not stored */
	const struct bundle_extent *extents; /* FILE and sparse only */
	uint32_t n_extents;		     /* 0 for a file of one hole */
};

/*
 * A list of entries: a parsed tree, or one being built. Entries added
 * with bundle_tree_add() are copied, names and text included, so the
 * caller's buffers may be reused at once.
 */
struct bundle_tree {
	struct bundle_tree_entry *entries;
	size_t n_entries;
	size_t alloc;
	void *storage; /* private: copies of names, text and extents */
};

/* Initialize an empty tree. */
void bundle_tree_init(struct bundle_tree *tree);

/* Free what the tree owns and leave it empty. Accepts a zeroed tree. */
void bundle_tree_release(struct bundle_tree *tree);

/* The length of the content that a FILE entry's ref names: its size, or
 * the total length of its data extents when it is sparse. */
uint64_t bundle_entry_content_size(const struct bundle_tree_entry *e);

/* Copy entry (with its name, text and extents) into tree. Entries may be
 * added in any order; bundle_tree_encode() sorts them. Fails on an
 * invalid name or text longer than BUNDLE_TREE_TEXT_MAX. */
int bundle_tree_add(struct bundle_tree *tree,
		    const struct bundle_tree_entry *entry);

/*
 * Sort the entries and encode them into a new buffer (*data, malloc'd,
 * owned by the caller). Fails when two entries have the same name. After
 * a successful call, tree->entries is in tree order.
 */
int bundle_tree_encode(struct bundle_tree *tree, void **data, size_t *len);

/*
 * Return nonzero when tree, without sorting it, encodes to the same bytes
 * as parsed, a tree from bundle_tree_parse(). A parsed tree is in strict
 * tree order, so a tree that matches it is sorted and has no name twice.
 */
int bundle_tree_same(const struct bundle_tree *tree,
		     const struct bundle_tree *parsed);

/*
 * Parse an encoded tree. The entries point into data, which must outlive
 * tree; free them with bundle_tree_release(). Fails, with nothing to
 * release, on any violation of the invariants above.
 */
int bundle_tree_parse(struct bundle_tree *tree, const void *data, size_t len);

/* Find an entry by name in a sorted tree (binary search); NULL if none. */
const struct bundle_tree_entry *bundle_tree_find(const struct bundle_tree *tree,
						 const unsigned char *name,
						 size_t name_len);

/*
 * Return whether two files keep their data at the same places: both
 * dense, or both sparse with the same extents. The content id of a
 * sparse file names the bytes of its extents only, so data moved to
 * another offset keeps the id, and two files hold the same bytes only
 * when their ids, sizes and layouts agree.
 */
int bundle_same_layout(int a_sparse, const struct bundle_extent *a,
		       uint32_t a_n, int b_sparse,
		       const struct bundle_extent *b, uint32_t b_n);

/* Compare two names as tree order does: <0, 0 or >0. */
int bundle_tree_name_cmp(const unsigned char *a, size_t a_len,
			 const unsigned char *b, size_t b_len);

/*
 * Parse a tree object and call fn for every object that it references:
 * subtrees as BUNDLE_TREE, file content as BUNDLE_BLOB or BUNDLE_CHUNKS.
 * Stops and returns fn's value when fn returns nonzero. Returns -1 with
 * bundle_error() set when the tree is malformed, before calling fn.
 */
int bundle_tree_foreach_ref(const void *data, size_t len,
			    int (*fn)(const struct bundle_id *ref,
				      enum bundle_kind kind, void *arg),
			    void *arg);

/*
 * Write name into dst (dstlen bytes, always NUL-terminated, truncated
 * when longer) for display: printable ASCII and valid UTF-8 sequences
 * are copied, a backslash becomes "\\", and every other byte becomes
 * "\xHH".
 */
void bundle_name_escape(char *dst, size_t dstlen, const unsigned char *name,
			size_t name_len);

/* Return name escaped as bundle_name_escape() does, whole, in a malloc'd
 * string, or NULL when memory runs out. A path deeper than PATH_MAX
 * does not fit a fixed buffer, and a cut one names another file. */
char *bundle_name_escape_dup(const unsigned char *name, size_t name_len);

#endif
