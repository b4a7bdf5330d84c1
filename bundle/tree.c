/*
 * tree.c - encode and parse tree objects.
 *
 * Integers are little-endian and nothing is padded. An object is the
 * 8-byte magic "rbtree\0\1" and a u32 entry count, then the entries.
 * Each entry is u8 kind, u8 name length, the name, u32 mode, u32 uid,
 * u32 gid, i64 mtime seconds, u32 mtime nanoseconds and u64 size, then a
 * part that depends on the kind (docs/bundle-format.md has the table).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bundle/tree.h"

static const unsigned char tree_magic[8] = "rbtree\0\1";

/* The blocks that a tree owns: chunks that added entries are carved
 * from, blocks for large ones, and the extents of a parsed tree. */
struct tree_storage {
	void **blocks;
	size_t n, alloc;
	unsigned char *chunk; /* the chunk being carved, or NULL */
	size_t chunk_used;
};

/* Bytes per chunk. An entry that needs more than a quarter of one gets a
 * block of its own, so at most a quarter of a chunk is left unused. */
#define TREE_CHUNK 16384

void bundle_tree_init(struct bundle_tree *tree)
{
	memset(tree, 0, sizeof(*tree));
}

void bundle_tree_release(struct bundle_tree *tree)
{
	struct tree_storage *storage = tree->storage;

	if (storage) {
		for (size_t i = 0; i < storage->n; i++)
			free(storage->blocks[i]);
		free(storage->blocks);
		free(storage);
	}
	free(tree->entries);
	bundle_tree_init(tree);
}

static int tree_keep(struct bundle_tree *tree, void *block)
{
	struct tree_storage *storage = tree->storage;

	if (!storage) {
		storage = calloc(1, sizeof(*storage));
		if (!storage)
			goto nomem;
		tree->storage = storage;
	}
	if (storage->n == storage->alloc) {
		size_t alloc = storage->alloc ? storage->alloc * 2 : 16;
		void **blocks =
			realloc(storage->blocks, alloc * sizeof(*blocks));
		if (!blocks)
			goto nomem;
		storage->blocks = blocks;
		storage->alloc = alloc;
	}
	storage->blocks[storage->n++] = block;
	return 0;

nomem:
	free(block);
	bundle_set_error("cannot build tree: out of memory");
	return -1;
}

/* Return room for len bytes that the tree owns, aligned for extents. */
static unsigned char *tree_alloc(struct bundle_tree *tree, size_t len)
{
	struct tree_storage *storage;
	unsigned char *block;

	len = (len + 7) & ~(size_t)7;
	storage = tree->storage;
	if (storage && storage->chunk &&
	    TREE_CHUNK - storage->chunk_used >= len) {
		block = storage->chunk + storage->chunk_used;
		storage->chunk_used += len;
		return block;
	}
	block = malloc(len > TREE_CHUNK / 4 ? len : TREE_CHUNK);
	if (!block) {
		bundle_set_error("cannot build tree: out of memory");
		return NULL;
	}
	if (tree_keep(tree, block) < 0)
		return NULL;
	if (len > TREE_CHUNK / 4)
		return block;
	storage = tree->storage;
	storage->chunk = block;
	storage->chunk_used = len;
	return block;
}

static struct bundle_tree_entry *tree_grow(struct bundle_tree *tree)
{
	if (tree->n_entries == tree->alloc) {
		size_t alloc = tree->alloc ? tree->alloc * 2 : 16;
		struct bundle_tree_entry *entries;

		entries = realloc(tree->entries, alloc * sizeof(*entries));
		if (!entries) {
			bundle_set_error("cannot build tree: out of memory");
			return NULL;
		}
		tree->entries = entries;
		tree->alloc = alloc;
	}
	return &tree->entries[tree->n_entries];
}

static int name_is_valid(const unsigned char *name, size_t len)
{
	if (len == 0 || len > BUNDLE_TREE_NAME_MAX)
		return 0;
	if (memchr(name, '/', len) || memchr(name, '\0', len))
		return 0;
	if ((len == 1 && name[0] == '.') ||
	    (len == 2 && name[0] == '.' && name[1] == '.'))
		return 0;
	return 1;
}

static int mode_fits_kind(enum bundle_entry_kind kind, uint32_t mode)
{
	switch (kind) {
	case BUNDLE_ENTRY_FILE:
	case BUNDLE_ENTRY_HARDLINK:
		return S_ISREG(mode);
	case BUNDLE_ENTRY_DIR:
		return S_ISDIR(mode);
	case BUNDLE_ENTRY_SYMLINK:
		return S_ISLNK(mode);
	case BUNDLE_ENTRY_SPECIAL:
		return S_ISCHR(mode) || S_ISBLK(mode) || S_ISFIFO(mode) ||
		       S_ISSOCK(mode);
	case BUNDLE_ENTRY_ERROR:
	case BUNDLE_ENTRY_CHANGED:
		return 1;
	}
	return 0;
}

int bundle_tree_add(struct bundle_tree *tree,
		    const struct bundle_tree_entry *entry)
{
	size_t ext_size = entry->sparse ? (size_t)entry->n_extents *
						  sizeof(*entry->extents)
					: 0;
	struct bundle_tree_entry *slot;
	unsigned char *block;
	char shown[64];

	if (!name_is_valid(entry->name, entry->name_len)) {
		bundle_name_escape(shown, sizeof(shown), entry->name,
				   entry->name_len);
		bundle_set_error("cannot add tree entry: '%s': invalid name",
				 shown);
		return -1;
	}
	if (!mode_fits_kind(entry->kind, entry->mode)) {
		bundle_name_escape(shown, sizeof(shown), entry->name,
				   entry->name_len);
		bundle_set_error("cannot add tree entry: '%s': kind %d does "
				 "not fit mode %o",
				 shown, (int)entry->kind,
				 (unsigned)entry->mode);
		return -1;
	}
	if (entry->text_len > BUNDLE_TREE_TEXT_MAX) {
		bundle_name_escape(shown, sizeof(shown), entry->name,
				   entry->name_len);
		bundle_set_error("cannot add tree entry: '%s': target or "
				 "message longer than %d bytes",
				 shown, BUNDLE_TREE_TEXT_MAX);
		return -1;
	}
	slot = tree_grow(tree);
	if (!slot)
		return -1;

	/* Extents first, so they stay aligned. */
	block = tree_alloc(tree, ext_size + entry->name_len + entry->text_len);
	if (!block)
		return -1;

	*slot = *entry;
	if (!entry->sparse)
		slot->n_extents = 0;
	if (ext_size) {
		memcpy(block, entry->extents, ext_size);
		slot->extents = (const struct bundle_extent *)block;
	} else {
		slot->extents = NULL;
	}
	memcpy(block + ext_size, entry->name, entry->name_len);
	slot->name = block + ext_size;
	if (entry->text_len)
		memcpy(block + ext_size + entry->name_len, entry->text,
		       entry->text_len);
	slot->text =
		entry->text_len ? block + ext_size + entry->name_len : NULL;
	tree->n_entries++;
	return 0;
}

int bundle_tree_name_cmp(const unsigned char *a, size_t a_len,
			 const unsigned char *b, size_t b_len)
{
	int c = memcmp(a, b, a_len < b_len ? a_len : b_len);

	if (c)
		return c;
	return a_len < b_len ? -1 : a_len > b_len;
}

static int entry_cmp(const void *x, const void *y)
{
	const struct bundle_tree_entry *a = x, *b = y;

	return bundle_tree_name_cmp(a->name, a->name_len, b->name, b->name_len);
}

uint64_t bundle_entry_content_size(const struct bundle_tree_entry *e)
{
	uint64_t size = 0;

	if (!e->sparse)
		return e->size;
	for (uint32_t i = 0; i < e->n_extents; i++)
		size += e->extents[i].length;
	return size;
}

int bundle_same_layout(int a_sparse, const struct bundle_extent *a,
		       uint32_t a_n, int b_sparse,
		       const struct bundle_extent *b, uint32_t b_n)
{
	if (!a_sparse != !b_sparse || a_n != b_n)
		return 0;
	for (uint32_t i = 0; i < a_n; i++)
		if (a[i].offset != b[i].offset || a[i].length != b[i].length)
			return 0;
	return 1;
}

const struct bundle_tree_entry *bundle_tree_find(const struct bundle_tree *tree,
						 const unsigned char *name,
						 size_t name_len)
{
	size_t lo = 0, hi = tree->n_entries;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct bundle_tree_entry *e = &tree->entries[mid];
		int c = bundle_tree_name_cmp(e->name, e->name_len, name,
					     name_len);

		if (c == 0)
			return e;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Encoding: the size of each entry is known, so the object is sized
 * first and then written without checks. */
static size_t entry_size(const struct bundle_tree_entry *e)
{
	size_t size = 34 + e->name_len;

	switch (e->kind) {
	case BUNDLE_ENTRY_FILE:
		size += 1 + BUNDLE_ID_LEN + 1;
		if (e->sparse)
			size += 4 + (size_t)e->n_extents * 16;
		break;
	case BUNDLE_ENTRY_DIR:
		size += BUNDLE_ID_LEN;
		break;
	case BUNDLE_ENTRY_SYMLINK:
	case BUNDLE_ENTRY_HARDLINK:
	case BUNDLE_ENTRY_ERROR:
		size += 2 + e->text_len;
		break;
	case BUNDLE_ENTRY_SPECIAL:
		size += 8;
		break;
	case BUNDLE_ENTRY_CHANGED:
		break;
	}
	return size;
}

static unsigned char *put_bytes(unsigned char *p, const void *src, size_t n)
{
	memcpy(p, src, n);
	return p + n;
}

static unsigned char *put_le(unsigned char *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (unsigned char)(v >> (8 * i));
	return p + bytes;
}

static unsigned char *encode_entry(unsigned char *p,
				   const struct bundle_tree_entry *e)
{
	*p++ = (unsigned char)e->kind;
	*p++ = (unsigned char)e->name_len;
	p = put_bytes(p, e->name, e->name_len);
	p = put_le(p, e->mode, 4);
	p = put_le(p, e->uid, 4);
	p = put_le(p, e->gid, 4);
	p = put_le(p, (uint64_t)e->mtime_sec, 8);
	p = put_le(p, e->mtime_nsec, 4);
	p = put_le(p, e->size, 8);

	switch (e->kind) {
	case BUNDLE_ENTRY_FILE:
		*p++ = (unsigned char)e->ref_kind;
		p = put_bytes(p, e->ref.bytes, BUNDLE_ID_LEN);
		*p++ = e->sparse ? 1 : 0;
		if (!e->sparse)
			break;
		p = put_le(p, e->n_extents, 4);
		for (uint32_t i = 0; i < e->n_extents; i++) {
			p = put_le(p, e->extents[i].offset, 8);
			p = put_le(p, e->extents[i].length, 8);
		}
		break;
	case BUNDLE_ENTRY_DIR:
		p = put_bytes(p, e->ref.bytes, BUNDLE_ID_LEN);
		break;
	case BUNDLE_ENTRY_SYMLINK:
	case BUNDLE_ENTRY_HARDLINK:
	case BUNDLE_ENTRY_ERROR:
		p = put_le(p, e->text_len, 2);
		if (e->text_len)
			p = put_bytes(p, e->text, e->text_len);
		break;
	case BUNDLE_ENTRY_SPECIAL:
		p = put_le(p, e->rdev, 8);
		break;
	case BUNDLE_ENTRY_CHANGED:
		break;
	}
	return p;
}

/* Return nonzero when a and b encode to the same bytes. It compares
 * exactly the fields that encode_entry() writes. */
static int same_entry(const struct bundle_tree_entry *a,
		      const struct bundle_tree_entry *b)
{
	if (a->kind != b->kind || a->name_len != b->name_len ||
	    memcmp(a->name, b->name, a->name_len) != 0 || a->mode != b->mode ||
	    a->uid != b->uid || a->gid != b->gid ||
	    a->mtime_sec != b->mtime_sec || a->mtime_nsec != b->mtime_nsec ||
	    a->size != b->size)
		return 0;

	switch (a->kind) {
	case BUNDLE_ENTRY_FILE:
		if (a->ref_kind != b->ref_kind || !a->sparse != !b->sparse ||
		    memcmp(a->ref.bytes, b->ref.bytes, BUNDLE_ID_LEN) != 0)
			return 0;
		if (!a->sparse)
			return 1;
		return a->n_extents == b->n_extents &&
		       (a->n_extents == 0 ||
			memcmp(a->extents, b->extents,
			       a->n_extents * sizeof(*a->extents)) == 0);
	case BUNDLE_ENTRY_DIR:
		return memcmp(a->ref.bytes, b->ref.bytes, BUNDLE_ID_LEN) == 0;
	case BUNDLE_ENTRY_SYMLINK:
	case BUNDLE_ENTRY_HARDLINK:
	case BUNDLE_ENTRY_ERROR:
		return a->text_len == b->text_len &&
		       (a->text_len == 0 ||
			memcmp(a->text, b->text, a->text_len) == 0);
	case BUNDLE_ENTRY_SPECIAL:
		return a->rdev == b->rdev;
	case BUNDLE_ENTRY_CHANGED:
		return 1;
	}
	return 0;
}

int bundle_tree_same(const struct bundle_tree *tree,
		     const struct bundle_tree *parsed)
{
	if (tree->n_entries != parsed->n_entries)
		return 0;
	for (size_t i = 0; i < tree->n_entries; i++)
		if (!same_entry(&tree->entries[i], &parsed->entries[i]))
			return 0;
	return 1;
}

/* Sort the entries unless they are in order already (the snapshot walk
 * adds them sorted), and reject a name that occurs twice. */
static int sort_entries(struct bundle_tree *tree)
{
	size_t i, n = tree->n_entries;

	for (i = 1; i < n; i++)
		if (entry_cmp(&tree->entries[i - 1], &tree->entries[i]) >= 0)
			break;
	if (i >= n)
		return 0;
	qsort(tree->entries, n, sizeof(*tree->entries), entry_cmp);
	for (i = 1; i < n; i++) {
		if (entry_cmp(&tree->entries[i - 1], &tree->entries[i]) == 0) {
			char shown[64];

			bundle_name_escape(shown, sizeof(shown),
					   tree->entries[i].name,
					   tree->entries[i].name_len);
			bundle_set_error("cannot encode tree: '%s': name "
					 "occurs twice",
					 shown);
			return -1;
		}
	}
	return 0;
}

int bundle_tree_encode(struct bundle_tree *tree, void **data, size_t *len)
{
	size_t size = sizeof(tree_magic) + 4;
	unsigned char *buf, *p;

	if (tree->n_entries > UINT32_MAX) {
		bundle_set_error("cannot encode tree: %zu entries: more "
				 "than 2^32 - 1",
				 tree->n_entries);
		return -1;
	}
	if (sort_entries(tree) < 0)
		return -1;

	for (size_t i = 0; i < tree->n_entries; i++)
		size += entry_size(&tree->entries[i]);
	buf = malloc(size);
	if (!buf) {
		bundle_set_error("cannot encode tree: out of memory");
		return -1;
	}
	p = put_bytes(buf, tree_magic, sizeof(tree_magic));
	p = put_le(p, tree->n_entries, 4);
	for (size_t i = 0; i < tree->n_entries; i++)
		p = encode_entry(p, &tree->entries[i]);
	*data = buf;
	*len = (size_t)(p - buf);
	return 0;
}

/* Parsing: a cursor that fails, once and for good, instead of reading
 * past the end. */
struct cursor {
	const unsigned char *p;
	size_t left;
	const char *why; /* the first problem found, or NULL */
};

static const unsigned char *take(struct cursor *c, size_t n)
{
	const unsigned char *p = c->p;

	if (c->why)
		return NULL;
	if (n > c->left) {
		c->why = "truncated";
		return NULL;
	}
	c->p += n;
	c->left -= n;
	return p;
}

static uint64_t take_le(struct cursor *c, int bytes)
{
	const unsigned char *p = take(c, (size_t)bytes);
	uint64_t v = 0;

	if (!p)
		return 0;
	for (int i = bytes - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* Read fixed-width fields of a span already bounds-checked. Compilers
 * usually merge these shifts into one load. */
static uint32_t le32_at(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t le64_at(const unsigned char *p)
{
	return (uint64_t)le32_at(p) | (uint64_t)le32_at(p + 4) << 32;
}

/* The flags and extents of a FILE entry: allocated as one block the tree
 * keeps, because the bytes are neither aligned nor in host order. */
static int parse_extents(struct cursor *c, struct bundle_tree *tree,
			 struct bundle_tree_entry *e)
{
	struct bundle_extent *ext;
	uint64_t end = 0;
	uint64_t flags = take_le(c, 1);

	e->n_extents = 0;
	e->extents = NULL;
	if (!c->why && flags > 1)
		c->why = "unknown file flags";
	e->sparse = flags == 1;
	if (!e->sparse)
		return 0;
	e->n_extents = (uint32_t)take_le(c, 4);
	if (c->why || e->n_extents == 0)
		return 0;
	if (e->n_extents > c->left / 16) {
		c->why = "truncated extent list";
		return 0;
	}
	ext = malloc(e->n_extents * sizeof(*ext));
	if (!ext || tree_keep(tree, ext) < 0) {
		c->why = "out of memory";
		return -1;
	}
	for (uint32_t i = 0; i < e->n_extents; i++) {
		ext[i].offset = take_le(c, 8);
		ext[i].length = take_le(c, 8);
		if (ext[i].length == 0) {
			c->why = "empty extent";
			return 0;
		}
		if (ext[i].offset < end) {
			c->why = "extents overlap or out of order";
			return 0;
		}
		if (ext[i].length > e->size ||
		    ext[i].offset > e->size - ext[i].length) {
			c->why = "extent past the file's size";
			return 0;
		}
		end = ext[i].offset + ext[i].length;
	}
	e->extents = ext;
	return 0;
}

static void parse_kind_part(struct cursor *c, struct bundle_tree *tree,
			    struct bundle_tree_entry *e)
{
	const unsigned char *p;

	switch (e->kind) {
	case BUNDLE_ENTRY_FILE:
		e->ref_kind = take_le(c, 1);
		if (!c->why && e->ref_kind != BUNDLE_BLOB &&
		    e->ref_kind != BUNDLE_CHUNKS)
			c->why = "file content is neither blob nor chunks";
		p = take(c, BUNDLE_ID_LEN);
		if (p)
			memcpy(e->ref.bytes, p, BUNDLE_ID_LEN);
		parse_extents(c, tree, e);
		break;
	case BUNDLE_ENTRY_DIR:
		e->ref_kind = BUNDLE_TREE;
		p = take(c, BUNDLE_ID_LEN);
		if (p)
			memcpy(e->ref.bytes, p, BUNDLE_ID_LEN);
		break;
	case BUNDLE_ENTRY_SYMLINK:
	case BUNDLE_ENTRY_HARDLINK:
	case BUNDLE_ENTRY_ERROR:
		e->text_len = take_le(c, 2);
		e->text = take(c, e->text_len);
		if (!c->why && e->kind != BUNDLE_ENTRY_ERROR &&
		    (e->text_len == 0 || memchr(e->text, 0, e->text_len)))
			c->why = "empty link target or NUL in it";
		break;
	case BUNDLE_ENTRY_SPECIAL:
		e->rdev = take_le(c, 8);
		break;
	case BUNDLE_ENTRY_CHANGED:
		break;
	default:
		c->why = "unknown entry kind";
	}
}

static void parse_entry(struct cursor *c, struct bundle_tree *tree,
			struct bundle_tree_entry *e)
{
	const unsigned char *p;

	memset(e, 0, sizeof(*e));
	e->kind = take_le(c, 1);
	e->name_len = take_le(c, 1);
	e->name = take(c, e->name_len);
	if (!c->why && !name_is_valid(e->name, e->name_len))
		c->why = "invalid entry name";

	/* mode, uid, gid, mtime seconds and nanoseconds, size */
	p = take(c, 4 + 4 + 4 + 8 + 4 + 8);
	if (!p)
		return;
	e->mode = le32_at(p);
	e->uid = le32_at(p + 4);
	e->gid = le32_at(p + 8);
	e->mtime_sec = (int64_t)le64_at(p + 12);
	e->mtime_nsec = le32_at(p + 20);
	e->size = le64_at(p + 24);
	if (!c->why && e->mtime_nsec >= 1000000000u)
		c->why = "nanoseconds out of range";
	if (!c->why && !mode_fits_kind(e->kind, e->mode))
		c->why = "file type does not match entry kind";
	parse_kind_part(c, tree, e);
}

int bundle_tree_parse(struct bundle_tree *tree, const void *data, size_t len)
{
	struct cursor c = {data, len, NULL};
	const unsigned char *magic;
	uint64_t count;
	char bad[1024]; /* the name of the entry at fault, or "" */

	bundle_tree_init(tree);
	bad[0] = '\0';
	magic = take(&c, sizeof(tree_magic));
	if (magic && memcmp(magic, tree_magic, sizeof(tree_magic)) != 0)
		c.why = "bad magic";
	count = take_le(&c, 4);

	/* The smallest entry is 35 bytes, so a count that the bytes cannot
	 * hold is rejected before it sizes an allocation. */
	if (!c.why && count > c.left / 35)
		c.why = "entry count larger than the object";
	if (!c.why && count) {
		/* parse_entry() clears each entry. */
		tree->entries = malloc(count * sizeof(*tree->entries));
		if (!tree->entries)
			c.why = "out of memory";
		tree->alloc = count;
	}
	for (uint64_t i = 0; i < count && !c.why; i++) {
		struct bundle_tree_entry *e = &tree->entries[i];

		parse_entry(&c, tree, e);
		tree->n_entries++;
		if (!c.why && i > 0 && entry_cmp(e - 1, e) >= 0)
			c.why = "entries out of order";
		/* verify prints this message, which is all that a reader
		 * has to find the entry in a tree of thousands. */
		if (c.why && e->name)
			bundle_name_escape(bad, sizeof(bad), e->name,
					   e->name_len);
	}
	if (!c.why && c.left)
		c.why = "trailing bytes";
	if (c.why) {
		bundle_tree_release(tree);
		if (bad[0])
			bundle_set_error("malformed tree object: %zu bytes: "
					 "entry '%s': %s",
					 len, bad, c.why);
		else
			bundle_set_error("malformed tree object: %zu bytes: "
					 "%s",
					 len, c.why);
		return -1;
	}
	return 0;
}

int bundle_tree_foreach_ref(const void *data, size_t len,
			    int (*fn)(const struct bundle_id *ref,
				      enum bundle_kind kind, void *arg),
			    void *arg)
{
	struct bundle_tree tree;
	int rc = 0;

	if (bundle_tree_parse(&tree, data, len) < 0)
		return -1;
	for (size_t i = 0; i < tree.n_entries && rc == 0; i++) {
		const struct bundle_tree_entry *e = &tree.entries[i];

		if (e->kind == BUNDLE_ENTRY_FILE || e->kind == BUNDLE_ENTRY_DIR)
			rc = fn(&e->ref, e->ref_kind, arg);
	}
	bundle_tree_release(&tree);
	return rc;
}

/* Length of the valid UTF-8 sequence at p (at most left bytes), or 0. */
static size_t utf8_len(const unsigned char *p, size_t left)
{
	size_t n;
	uint32_t cp;

	if (p[0] < 0xc2 || p[0] > 0xf4)
		return 0;
	if (p[0] < 0xe0)
		n = 2;
	else if (p[0] < 0xf0)
		n = 3;
	else
		n = 4;
	if (n > left)
		return 0;
	cp = p[0] & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates and code points past U+10FFFF. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

void bundle_name_escape(char *dst, size_t dstlen, const unsigned char *name,
			size_t name_len)
{
	size_t out = 0;

	if (dstlen == 0)
		return;
	for (size_t i = 0; i < name_len;) {
		size_t n = utf8_len(name + i, name_len - i);
		char esc[5];
		const char *piece = esc;
		size_t piece_len;

		if (n) {
			piece = (const char *)name + i;
			piece_len = n;
		} else if (name[i] == '\\') {
			piece = "\\\\";
			piece_len = 2;
			n = 1;
		} else if (name[i] >= 0x20 && name[i] < 0x7f) {
			piece = (const char *)name + i;
			piece_len = 1;
			n = 1;
		} else {
			snprintf(esc, sizeof(esc), "\\x%02x", name[i]);
			piece_len = 4;
			n = 1;
		}
		if (out + piece_len >= dstlen)
			break;
		memcpy(dst + out, piece, piece_len);
		out += piece_len;
		i += n;
	}
	dst[out] = '\0';
}

char *bundle_name_escape_dup(const unsigned char *name, size_t name_len)
{
	/* Four bytes at most for each byte of the name: "\\xHH". */
	size_t cap = name_len * 4 + 1;
	char *dst = name_len < SIZE_MAX / 4 ? malloc(cap) : NULL;

	if (dst)
		bundle_name_escape(dst, cap, name, name_len);
	return dst;
}
