/*
 * diff.c - list what changed between two snapshot trees.
 *
 * Both trees are sorted by name, so one merge pass per directory pairs
 * the entries. A subtree whose id is the same on both sides is skipped
 * without being loaded, so the cost follows the changed paths.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bundle/snapshot_internal.h"
#include "bundle/tree_count.h"

struct diff {
	struct bundle *bundle;
	bundle_diff_fn fn;
	void *arg;
	struct snapshot_path path;
	const struct bundle_id *old_root, *new_root;
	struct bundle_tree_count *count;
	uint32_t depth; /* of the trees being merged, below the roots */
	int counted;	/* inside a subtree counted whole already */
};

static int load_tree(struct bundle *bundle, const struct bundle_id *id,
		     struct bundle_tree *tree, void **data)
{
	enum bundle_kind kind;
	size_t len;
	char hex[BUNDLE_ID_HEX_LEN + 1];

	bundle_tree_init(tree);
	*data = NULL;
	if (!id)
		return 0;
	if (bundle_get(bundle, id, data, &len, &kind) < 0)
		return -1;
	if (kind != BUNDLE_TREE) {
		bundle_id_to_hex(id, hex);
		bundle_set_error("cannot compare snapshots: '%s': object is "
				 "not a tree",
				 hex);
		free(*data);
		*data = NULL;
		return -1;
	}
	if (bundle_tree_parse(tree, *data, len) < 0) {
		free(*data);
		*data = NULL;
		return -1;
	}
	return 0;
}

static int diff_trees(struct diff *d, const struct bundle_id *old_id,
		      const struct bundle_id *new_id);

static int report(struct diff *d, enum bundle_change change,
		  const struct bundle_tree_entry *old,
		  const struct bundle_tree_entry *new)
{
	return d->fn((const unsigned char *)d->path.data, d->path.len, change,
		     old, new, d->arg);
}

/* An entry on one side only: a directory lists what is below it. */
static int one_side(struct diff *d, const struct bundle_tree_entry *e,
		    int added)
{
	const struct bundle_tree_entry *old = added ? NULL : e;
	const struct bundle_tree_entry *new = added ? e : NULL;
	struct bundle_tree tree;
	void *data;
	size_t n;
	int rc;

	if (e->kind != BUNDLE_ENTRY_DIR)
		return report(
			d, added ? BUNDLE_CHANGE_ADDED : BUNDLE_CHANGE_DELETED,
			old, new);
	/* Every entry below is reported, so a subtree that names its own
	 * subtrees many times over is counted, once per tree, first. */
	if (!d->counted &&
	    bundle_tree_count_add(d->count, &e->ref, d->depth,
				  added ? d->new_root : d->old_root) < 0)
		return -1;
	if (load_tree(d->bundle, &e->ref, &tree, &data) < 0)
		return -1;
	n = tree.n_entries;
	bundle_tree_release(&tree);
	free(data);
	if (n == 0)
		return report(
			d, added ? BUNDLE_CHANGE_ADDED : BUNDLE_CHANGE_DELETED,
			old, new);
	d->counted++;
	rc = added ? diff_trees(d, NULL, &e->ref)
		   : diff_trees(d, &e->ref, NULL);
	d->counted--;
	return rc;
}

static int same_file(const struct bundle_tree_entry *a,
		     const struct bundle_tree_entry *b)
{
	return a->size == b->size &&
	       memcmp(&a->ref, &b->ref, sizeof(a->ref)) == 0 &&
	       bundle_same_layout(a->sparse, a->extents, a->n_extents,
				  b->sparse, b->extents, b->n_extents);
}

/* A regular file found by its path, with the tree that contains it. */
struct linked {
	struct bundle_tree tree;
	void *data;
	const struct bundle_tree_entry *entry;
};

/* Find the regular file at path below the tree root. Returns 0, with
 * the tree in *out to release, or -1 when no regular file is there or a
 * tree cannot be read. */
static int link_find(struct bundle *bundle, const struct bundle_id *root,
		     const unsigned char *path, size_t len,
		     struct linked *out)
{
	struct bundle_id id = *root;
	size_t start = 0;

	for (;;) {
		const unsigned char *slash = memchr(path + start, '/',
						    len - start);
		size_t end = slash ? (size_t)(slash - path) : len;
		const struct bundle_tree_entry *e;
		bool into_dir;

		if (load_tree(bundle, &id, &out->tree, &out->data) < 0)
			return -1;
		e = bundle_tree_find(&out->tree, path + start, end - start);
		if (e && !slash && e->kind == BUNDLE_ENTRY_FILE) {
			out->entry = e;
			return 0;
		}

		/* e points into the tree, so what is needed of it is taken
		 * before the tree is released. */
		into_dir = e && slash && e->kind == BUNDLE_ENTRY_DIR;
		if (into_dir)
			id = e->ref;
		bundle_tree_release(&out->tree);
		free(out->data);
		if (!into_dir)
			return -1;
		start = end + 1;
	}
}

/* Return whether two hardlinks name files of the same content. A write
 * through one link changes them all, but a snapshot stores the content
 * with the first link only.
 * NOTE: a subtree whose id did not change is skipped, so a link in it is
 * missed when the write kept the file's size and mtime (touch -r). */
static int same_link_content(const struct diff *d,
			     const struct bundle_tree_entry *a,
			     const struct bundle_tree_entry *b)
{
	struct linked old, new;
	int same;

	if (!d->old_root || !d->new_root ||
	    link_find(d->bundle, d->old_root, a->text, a->text_len, &old) < 0)
		return 0;
	if (link_find(d->bundle, d->new_root, b->text, b->text_len,
		      &new) < 0) {
		same = 0;
	} else {
		same = same_file(old.entry, new.entry);
		bundle_tree_release(&new.tree);
		free(new.data);
	}
	bundle_tree_release(&old.tree);
	free(old.data);
	return same;
}

static int same_content(const struct diff *d,
			const struct bundle_tree_entry *a,
			const struct bundle_tree_entry *b)
{
	if (a->kind != b->kind || (a->mode & S_IFMT) != (b->mode & S_IFMT))
		return 0;
	switch (a->kind) {
	case BUNDLE_ENTRY_FILE:
		return same_file(a, b);
	case BUNDLE_ENTRY_HARDLINK:
		return a->text_len == b->text_len &&
		       memcmp(a->text, b->text, a->text_len) == 0 &&
		       same_link_content(d, a, b);
	case BUNDLE_ENTRY_SYMLINK:
	case BUNDLE_ENTRY_ERROR:
		return a->text_len == b->text_len &&
		       memcmp(a->text, b->text, a->text_len) == 0;
	case BUNDLE_ENTRY_SPECIAL:
		return a->rdev == b->rdev;
	case BUNDLE_ENTRY_DIR:
		return 1;
	case BUNDLE_ENTRY_CHANGED:
		/* Nothing was stored, so nothing shows it unchanged. */
		return 0;
	}
	return 0;
}

static int both_sides(struct diff *d, const struct bundle_tree_entry *old,
		      const struct bundle_tree_entry *new)
{
	int old_dir = old->kind == BUNDLE_ENTRY_DIR;
	int new_dir = new->kind == BUNDLE_ENTRY_DIR;
	int rc;

	if (old_dir && new_dir)
		return diff_trees(d, &old->ref, &new->ref);
	if (old_dir || new_dir) {
		rc = one_side(d, old, 0);
		return rc ? rc : one_side(d, new, 1);
	}
	if (!same_content(d, old, new))
		return report(d, BUNDLE_CHANGE_MODIFIED, old, new);
	if ((old->mode & 07777) != (new->mode & 07777))
		return report(d, BUNDLE_CHANGE_MODE, old, new);
	return 0;
}

static int merge(struct diff *d, const struct bundle_tree *old,
		 const struct bundle_tree *new)
{
	size_t i = 0, j = 0, mark = d->path.len;
	int rc = 0;

	while (rc == 0 && (i < old->n_entries || j < new->n_entries)) {
		const struct bundle_tree_entry *a =
			i < old->n_entries ? &old->entries[i] : NULL;
		const struct bundle_tree_entry *b =
			j < new->n_entries ? &new->entries[j] : NULL;
		const struct bundle_tree_entry *first;
		int c;

		if (!a)
			c = 1;
		else if (!b)
			c = -1;
		else
			c = bundle_tree_name_cmp(a->name, a->name_len, b->name,
						 b->name_len);
		first = c <= 0 ? a : b;
		/* Trees that differ everywhere are merged entry by entry,
		 * so these count too.
		 * NOTE: such a pair is reported change by change up to the
		 * cap, unlike a subtree on one side, which fails first. */
		if (!d->counted)
			rc = bundle_tree_count_step(
				d->count, c < 0 ? d->old_root : d->new_root);
		if (rc == 0)
			rc = snapshot_path_push(&d->path,
						(const char *)first->name,
						first->name_len);
		if (rc == 0 && c < 0)
			rc = one_side(d, a, 0);
		else if (rc == 0 && c > 0)
			rc = one_side(d, b, 1);
		else if (rc == 0)
			rc = both_sides(d, a, b);
		snapshot_path_pop(&d->path, mark);
		i += c <= 0;
		j += c >= 0;
	}
	return rc;
}

static int diff_trees(struct diff *d, const struct bundle_id *old_id,
		      const struct bundle_id *new_id)
{
	struct bundle_tree old, new;
	void *old_data, *new_data;
	int rc = -1;

	if (old_id && new_id && memcmp(old_id, new_id, sizeof(*old_id)) == 0)
		return 0;
	if (load_tree(d->bundle, old_id, &old, &old_data) < 0)
		return -1;
	if (load_tree(d->bundle, new_id, &new, &new_data) == 0) {
		d->depth++;
		rc = merge(d, &old, &new);
		d->depth--;
		bundle_tree_release(&new);
		free(new_data);
	}
	bundle_tree_release(&old);
	free(old_data);
	return rc;
}

int bundle_snapshot_diff(struct bundle *bundle,
			 const struct bundle_id *old_root,
			 const struct bundle_id *new_root, bundle_diff_fn fn,
			 void *arg)
{
	struct diff d = {bundle, fn, arg, {0}, old_root, new_root,
			  NULL, 0, 0};
	int rc;

	d.count = bundle_tree_count_new(bundle);
	if (!d.count)
		return -1;
	/* A diff against nothing lists one whole tree: count it first. */
	if (!old_root != !new_root) {
		const struct bundle_id *root = old_root ? old_root : new_root;

		d.counted = 1;
		rc = bundle_tree_count_add(d.count, root, 0, root);
		if (rc < 0)
			goto out;
	}
	rc = diff_trees(&d, old_root, new_root);
out:
	bundle_tree_count_free(d.count);
	snapshot_path_release(&d.path);
	return rc;
}
