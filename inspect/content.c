/*
 * content.c - find paths in snapshot trees, walk them, stream file
 * content from blobs and chunk lists.
 */
#include <stdlib.h>
#include <string.h>

#include "bundle/snapshot.h"
#include "bundle/tree_count.h"
#include "inspect/content.h"
#include "inspect/error.h"

/* The chunk list layout of docs/bundle-format.md ("Chunk lists"). */
#define CHUNKS_MAGIC "RBCHUNK1"
#define CHUNKS_HEADER 48
#define CHUNKS_RECORD 40

const char *inspect_kind_name(enum bundle_entry_kind kind)
{
	switch (kind) {
	case BUNDLE_ENTRY_FILE: return "file";
	case BUNDLE_ENTRY_DIR: return "dir";
	case BUNDLE_ENTRY_SYMLINK: return "symlink";
	case BUNDLE_ENTRY_HARDLINK: return "hardlink";
	case BUNDLE_ENTRY_SPECIAL: return "special";
	case BUNDLE_ENTRY_ERROR: return "error";
	case BUNDLE_ENTRY_CHANGED: return "changed";
	}
	return "unknown";
}

int inspect_tree_load(struct bundle *bundle, const struct bundle_id *id,
		      struct bundle_tree *tree, void **data)
{
	enum bundle_kind kind;
	size_t len;

	bundle_tree_init(tree);
	if (bundle_get(bundle, id, data, &len, &kind) < 0)
		return inspect_take_error(bundle_error(), bundle_error_hint());
	if (kind != BUNDLE_TREE || bundle_tree_parse(tree, *data, len) < 0) {
		char hex[BUNDLE_ID_HEX_LEN + 1];

		free(*data);
		*data = NULL;
		bundle_id_to_hex(id, hex);
		inspect_set_error("cannot read tree: '%s': %s", hex,
				  kind != BUNDLE_TREE ? "not a tree object" :
							bundle_error());
		return -1;
	}
	return 0;
}

void inspect_node_release(struct inspect_node *node)
{
	bundle_tree_release(&node->parent);
	free(node->parent_data);
	memset(node, 0, sizeof(*node));
}

static int descend(struct bundle *bundle, struct inspect_node *node,
		   const char *name, size_t len, const char *path)
{
	const struct bundle_tree_entry *e;

	if (!node->is_root && node->entry.kind != BUNDLE_ENTRY_DIR) {
		inspect_set_error("no such path: '%s': not a directory on "
				  "the way", path);
		return -1;
	}
	if (len == 2 && memcmp(name, "..", 2) == 0) {
		inspect_set_error("no such path: '%s': '..' is not allowed",
				  path);
		return -1;
	}
	{
		struct bundle_id dir = node->is_root ? node->tree :
						       node->entry.ref;

		bundle_tree_release(&node->parent);
		free(node->parent_data);
		node->parent_data = NULL;
		if (inspect_tree_load(bundle, &dir, &node->parent,
				      &node->parent_data) < 0)
			return -1;
	}
	e = bundle_tree_find(&node->parent, (const unsigned char *)name, len);
	if (!e) {
		inspect_set_error("no such path: '%s': not in the snapshot",
				  path);
		inspect_set_hint("'runbundle ls' lists the snapshot");
		return -1;
	}
	node->is_root = 0;
	node->entry = *e;
	return 0;
}

int inspect_node_find(struct bundle *bundle, const struct bundle_id *root,
		      const char *path, struct inspect_node *node)
{
	const char *p = path;

	memset(node, 0, sizeof(*node));
	bundle_tree_init(&node->parent);
	node->is_root = 1;
	node->tree = *root;
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);

		if (len && !(len == 1 && *p == '.') &&
		    descend(bundle, node, p, len, path) < 0) {
			inspect_node_release(node);
			return -1;
		}
		p += len;
		if (*p == '/')
			p++;
	}
	if (!node->is_root && node->entry.kind == BUNDLE_ENTRY_DIR)
		node->tree = node->entry.ref;
	return 0;
}

static int walk(struct bundle *bundle, const struct bundle_id *id,
		char *path, size_t len, size_t cap, int depth,
		inspect_walk_fn fn, void *arg)
{
	struct bundle_tree tree;
	void *data;
	int rc = 0;

	if (depth > BUNDLE_SNAPSHOT_MAX_DEPTH) {
		inspect_set_error("cannot read tree: '%s': nested deeper than "
				  "%d levels", path, BUNDLE_SNAPSHOT_MAX_DEPTH);
		return -1;
	}
	if (inspect_tree_load(bundle, id, &tree, &data) < 0)
		return -1;
	for (size_t i = 0; i < tree.n_entries && rc == 0; i++) {
		const struct bundle_tree_entry *e = &tree.entries[i];
		size_t at = len ? len + 1 : 0;

		if (at + e->name_len + 1 > cap) {
			inspect_set_error("cannot read tree: '%s': path too "
					  "long", path);
			rc = -1;
			break;
		}
		if (len)
			path[len] = '/';
		memcpy(path + at, e->name, e->name_len);
		path[at + e->name_len] = '\0';
		rc = fn(path, e, arg);
		if (rc == 0 && e->kind == BUNDLE_ENTRY_DIR)
			rc = walk(bundle, &e->ref, path, at + e->name_len, cap,
				  depth + 1, fn, arg);
		path[len] = '\0';
	}
	bundle_tree_release(&tree);
	free(data);
	return rc;
}

int inspect_tree_walk(struct bundle *bundle, const struct bundle_id *tree,
		      const char *prefix, inspect_walk_fn fn, void *arg)
{
	/* 512 levels of 255-byte names, plus separators. */
	size_t cap = (size_t)(BUNDLE_SNAPSHOT_MAX_DEPTH + 2) * 256;
	char *path = malloc(cap);
	size_t len = strlen(prefix);
	int rc;

	if (!path || len >= cap) {
		free(path);
		inspect_set_error("cannot walk tree: out of memory");
		return -1;
	}
	memcpy(path, prefix, len + 1);
	/* Before the first entry, so that nothing is printed or written of
	 * a walk that could not end. */
	if (bundle_tree_check_size(bundle, tree) < 0)
		rc = inspect_take_error(bundle_error(), bundle_error_hint());
	else
		rc = walk(bundle, tree, path, len, cap, 0, fn, arg);
	free(path);
	return rc;
}

static uint64_t get_be64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

int inspect_chunks_foreach(const void *data, size_t len,
			   int (*fn)(const struct bundle_id *id,
				     uint64_t size, void *arg),
			   void *arg)
{
	const unsigned char *p = data;
	uint64_t total = 0;
	int rc;

	if (len < CHUNKS_HEADER || memcmp(p, CHUNKS_MAGIC, 8) != 0 ||
	    (len - CHUNKS_HEADER) % CHUNKS_RECORD != 0) {
		inspect_set_error("cannot read chunk list: malformed framing");
		return -1;
	}
	for (size_t at = CHUNKS_HEADER; at < len; at += CHUNKS_RECORD)
		total += get_be64(p + at + 32);
	if (total != get_be64(p + 8)) {
		inspect_set_error("cannot read chunk list: the chunk sizes do "
				  "not add up to the total");
		return -1;
	}
	for (size_t at = CHUNKS_HEADER; at < len; at += CHUNKS_RECORD) {
		struct bundle_id id;

		memcpy(id.bytes, p + at, BUNDLE_ID_LEN);
		rc = fn(&id, get_be64(p + at + 32), arg);
		if (rc)
			return rc;
	}
	return 0;
}

/* Turns the stored bytes of a sparse file (its extents, one after the
 * other) back into the file's bytes, with zeros in the holes. */
struct expander {
	struct bundle *bundle;
	const struct bundle_tree_entry *entry;
	uint64_t pos;	   /* bytes of the file produced */
	uint32_t extent;   /* the extent being filled */
	uint64_t in_extent; /* bytes of it produced */
	inspect_bytes_fn fn;
	inspect_hole_fn hole; /* or NULL for holes as zero bytes */
	void *arg;
};

static int zeros(struct expander *x, uint64_t upto)
{
	static const unsigned char zero[65536];
	int rc;

	if (x->hole && x->pos < upto) {
		rc = x->hole(upto - x->pos, x->arg);
		if (rc == 0)
			x->pos = upto;
		return rc;
	}
	while (x->pos < upto) {
		uint64_t n = upto - x->pos;

		n = n > sizeof(zero) ? sizeof(zero) : n;
		rc = x->fn(zero, (size_t)n, x->arg);
		if (rc)
			return rc;
		x->pos += n;
	}
	return 0;
}

/* Set the error of a file whose content is not what its entry records,
 * and return -1. */
static int set_content_error(const struct bundle_tree_entry *entry,
			     const char *reason)
{
	char name[1024];

	bundle_name_escape(name, sizeof(name), entry->name, entry->name_len);
	inspect_set_error("cannot read file: '%s': %s", name, reason);
	return -1;
}

static int expand(const unsigned char *data, size_t len, struct expander *x)
{
	const struct bundle_tree_entry *e = x->entry;
	int rc;

	if (!e->sparse) {
		/* An archive header has already given the size, so no
		 * byte past it may reach the callback. */
		if (len > e->size - x->pos)
			return set_content_error(e, "content longer than "
						 "its entry");
		x->pos += len;
		return x->fn(data, len, x->arg);
	}
	while (len) {
		const struct bundle_extent *ext;
		uint64_t n;

		if (x->extent >= e->n_extents) {
			inspect_set_error("cannot read file: more data than "
					  "its extents hold");
			return -1;
		}
		ext = &e->extents[x->extent];
		rc = zeros(x, ext->offset);
		if (rc)
			return rc;
		n = ext->length - x->in_extent;
		n = n > len ? len : n;
		rc = x->fn(data, (size_t)n, x->arg);
		if (rc)
			return rc;
		data += n;
		len -= (size_t)n;
		x->pos += n;
		x->in_extent += n;
		if (x->in_extent == ext->length) {
			x->extent++;
			x->in_extent = 0;
		}
	}
	return 0;
}

/* Expand one chunk, which must have the size that the chunk list
 * records. An object that declares more is not decompressed. */
static int stream_blob(const struct bundle_id *id, uint64_t size, void *arg)
{
	struct expander *x = arg;
	char hex[BUNDLE_ID_HEX_LEN + 1];
	void *data;
	size_t len;
	int rc;

	rc = bundle_get_max(x->bundle, id, size, &data, &len);
	if (rc == -1)
		return inspect_take_error(bundle_error(), bundle_error_hint());
	if (rc == -2 || len != size) {
		if (rc == 0)
			free(data);
		bundle_id_to_hex(id, hex);
		inspect_set_error("cannot read chunk: '%s': %zu bytes, its "
				  "chunk list says %llu", hex, len,
				  (unsigned long long)size);
		return -1;
	}
	rc = expand(data, len, x);
	free(data);
	return rc;
}

int inspect_content_stream(struct bundle *bundle,
			   const struct bundle_tree_entry *entry,
			   inspect_bytes_fn fn, void *arg)
{
	return inspect_content_stream_holes(bundle, entry, fn, NULL, arg);
}

int inspect_content_stream_holes(struct bundle *bundle,
				 const struct bundle_tree_entry *entry,
				 inspect_bytes_fn fn, inspect_hole_fn hole,
				 void *arg)
{
	struct expander x = { bundle, entry, 0, 0, 0, fn, hole, arg };
	void *data;
	size_t len;
	int rc;

	if (entry->kind != BUNDLE_ENTRY_FILE) {
		inspect_set_error("cannot read file: it is a %s",
				  inspect_kind_name(entry->kind));
		return -1;
	}
	if (entry->ref_kind != BUNDLE_CHUNKS) {
		rc = bundle_get_max(bundle, &entry->ref,
				    bundle_entry_content_size(entry), &data,
				    &len);
		if (rc == -2)
			return set_content_error(entry, "content longer than "
						 "its entry");
		if (rc < 0)
			return inspect_take_error(bundle_error(),
						  bundle_error_hint());
		rc = expand(data, len, &x);
		free(data);
	} else {
		if (bundle_get(bundle, &entry->ref, &data, &len, NULL) < 0)
			return inspect_take_error(bundle_error(),
						  bundle_error_hint());
		rc = inspect_chunks_foreach(data, len, stream_blob, &x);
		free(data);
	}
	if (rc == 0 && entry->sparse && x.extent == entry->n_extents)
		rc = zeros(&x, entry->size);
	/* Without this check, an archive pads short content with zeros
	 * up to the recorded size, however large. */
	if (rc == 0 && x.pos != entry->size)
		return set_content_error(entry, "content shorter than its "
					 "entry");
	return rc;
}

struct reader {
	unsigned char *data;
	size_t len, max;
};

static int collect(const void *data, size_t len, void *arg)
{
	struct reader *r = arg;
	unsigned char *grown;

	if (len > r->max - r->len) {
		inspect_set_error("cannot read file: larger than %zu bytes",
				  r->max);
		return -1;
	}
	grown = realloc(r->data, r->len + len + 1);
	if (!grown) {
		inspect_set_error("cannot read file: out of memory");
		return -1;
	}
	memcpy(grown + r->len, data, len);
	r->data = grown;
	r->len += len;
	r->data[r->len] = '\0';
	return 0;
}

int inspect_content_read(struct bundle *bundle,
			 const struct bundle_tree_entry *entry, size_t max,
			 unsigned char **data, size_t *len)
{
	struct reader r = { malloc(1), 0, max };

	if (!r.data) {
		inspect_set_error("cannot read file: out of memory");
		return -1;
	}
	r.data[0] = '\0';
	if (inspect_content_stream(bundle, entry, collect, &r) != 0) {
		free(r.data);
		return -1;
	}
	*data = r.data;
	*len = r.len;
	return 0;
}
