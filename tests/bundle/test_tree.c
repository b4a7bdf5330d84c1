/*
 * test_tree.c - unit tests of the tree object encoding.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "bundle/tree.h"

static struct bundle_tree_entry entry(enum bundle_entry_kind kind,
				      const char *name, uint32_t mode)
{
	struct bundle_tree_entry e;

	memset(&e, 0, sizeof(e));
	e.kind = kind;
	e.name = (const unsigned char *)name;
	e.name_len = strlen(name);
	e.mode = mode;
	e.uid = 1000;
	e.gid = 100;
	e.mtime_sec = 1700000000;
	e.mtime_nsec = 123456789;
	return e;
}

static const struct bundle_extent sparse_extents[] = {
	{0, 4096},
	{5368709120ull - 4096, 4096},
};

/* One entry of every kind, added out of order. */
static void add_every_kind(struct bundle_tree *tree)
{
	struct bundle_tree_entry e;

	e = entry(BUNDLE_ENTRY_SYMLINK, "link", S_IFLNK | 0777);
	e.text = (const unsigned char *)"../loop";
	e.text_len = 7;
	e.size = 7;
	assert_int_equal(bundle_tree_add(tree, &e), 0);

	e = entry(BUNDLE_ENTRY_FILE, "big", S_IFREG | 0644);
	e.size = 5368709120ull;
	e.ref_kind = BUNDLE_CHUNKS;
	memset(e.ref.bytes, 0xab, sizeof(e.ref.bytes));
	e.sparse = 1;
	e.extents = sparse_extents;
	e.n_extents = 2;
	assert_int_equal(bundle_tree_add(tree, &e), 0);

	e = entry(BUNDLE_ENTRY_DIR, "dir", S_IFDIR | 0755);
	memset(e.ref.bytes, 0xcd, sizeof(e.ref.bytes));
	assert_int_equal(bundle_tree_add(tree, &e), 0);

	e = entry(BUNDLE_ENTRY_HARDLINK, "again", S_IFREG | 0644);
	e.text = (const unsigned char *)"dir/first";
	e.text_len = 9;
	assert_int_equal(bundle_tree_add(tree, &e), 0);

	e = entry(BUNDLE_ENTRY_SPECIAL, "fifo", S_IFIFO | 0600);
	e.rdev = 0x0103;
	assert_int_equal(bundle_tree_add(tree, &e), 0);

	e = entry(BUNDLE_ENTRY_ERROR, "secret", S_IFREG | 0000);
	e.text = (const unsigned char *)"Permission denied";
	e.text_len = 17;
	assert_int_equal(bundle_tree_add(tree, &e), 0);

	e = entry(BUNDLE_ENTRY_CHANGED, "log", S_IFREG | 0644);
	e.size = 99;
	assert_int_equal(bundle_tree_add(tree, &e), 0);

	e = entry(BUNDLE_ENTRY_FILE, "caf\xe9", S_IFREG | 0600);
	e.ref_kind = BUNDLE_BLOB;
	assert_int_equal(bundle_tree_add(tree, &e), 0);
}

static void encode_every_kind(void **data, size_t *len)
{
	struct bundle_tree tree;

	bundle_tree_init(&tree);
	add_every_kind(&tree);
	assert_int_equal(bundle_tree_encode(&tree, data, len), 0);
	bundle_tree_release(&tree);
}

static void round_trip_every_kind(void **state)
{
	struct bundle_tree tree;
	const struct bundle_tree_entry *e;
	void *data;
	size_t len;

	(void)state;
	encode_every_kind(&data, &len);
	assert_int_equal(bundle_tree_parse(&tree, data, len), 0);
	assert_int_equal(tree.n_entries, 8);

	e = bundle_tree_find(&tree, (const unsigned char *)"big", 3);
	assert_non_null(e);
	assert_int_equal(e->kind, BUNDLE_ENTRY_FILE);
	assert_true(e->size == 5368709120ull);
	assert_int_equal(e->ref_kind, BUNDLE_CHUNKS);
	assert_int_equal(e->ref.bytes[31], 0xab);
	assert_true(e->sparse);
	assert_int_equal(e->n_extents, 2);
	assert_true(e->extents[1].offset == 5368709120ull - 4096);
	assert_int_equal(e->mtime_nsec, 123456789);

	e = bundle_tree_find(&tree, (const unsigned char *)"link", 4);
	assert_non_null(e);
	assert_memory_equal(e->text, "../loop", 7);

	e = bundle_tree_find(&tree, (const unsigned char *)"again", 5);
	assert_non_null(e);
	assert_int_equal(e->kind, BUNDLE_ENTRY_HARDLINK);
	assert_memory_equal(e->text, "dir/first", 9);

	e = bundle_tree_find(&tree, (const unsigned char *)"fifo", 4);
	assert_non_null(e);
	assert_true(e->rdev == 0x0103);

	e = bundle_tree_find(&tree, (const unsigned char *)"caf\xe9", 4);
	assert_non_null(e);
	assert_int_equal(e->mode, S_IFREG | 0600);
	assert_false(e->sparse);
	assert_null(e->extents);

	assert_null(bundle_tree_find(&tree, (const unsigned char *)"x", 1));
	bundle_tree_release(&tree);
	free(data);
}

static void entries_sort_by_raw_bytes(void **state)
{
	struct bundle_tree tree;
	const char *names[] = {"b", "a\xff", "a", "B", "ab"};
	const char *sorted[] = {"B", "a", "ab", "a\xff", "b"};
	void *data;
	size_t len;

	(void)state;
	bundle_tree_init(&tree);
	for (size_t i = 0; i < 5; i++) {
		struct bundle_tree_entry e =
			entry(BUNDLE_ENTRY_CHANGED, names[i], S_IFREG | 0644);

		assert_int_equal(bundle_tree_add(&tree, &e), 0);
	}
	assert_int_equal(bundle_tree_encode(&tree, &data, &len), 0);
	bundle_tree_release(&tree);

	assert_int_equal(bundle_tree_parse(&tree, data, len), 0);
	for (size_t i = 0; i < 5; i++)
		assert_memory_equal(tree.entries[i].name, sorted[i],
				    strlen(sorted[i]));
	bundle_tree_release(&tree);
	free(data);
}

static void same_entries_same_bytes(void **state)
{
	void *a, *b;
	size_t a_len, b_len;

	(void)state;
	encode_every_kind(&a, &a_len);
	encode_every_kind(&b, &b_len);
	assert_int_equal(a_len, b_len);
	assert_memory_equal(a, b, a_len);
	free(a);
	free(b);
}

/* Return the index of the entry called name in a sorted tree. */
static size_t index_of(const struct bundle_tree *tree, const char *name)
{
	const struct bundle_tree_entry *e = bundle_tree_find(
		tree, (const unsigned char *)name, strlen(name));

	assert_non_null(e);
	return (size_t)(e - tree->entries);
}

static void same_tree_matches_its_bytes(void **state)
{
	struct bundle_tree tree, parsed;
	struct bundle_extent extents[2];
	struct bundle_tree_entry *e;
	void *data;
	size_t len;

	(void)state;
	bundle_tree_init(&tree);
	add_every_kind(&tree);
	assert_int_equal(bundle_tree_encode(&tree, &data, &len), 0);
	assert_int_equal(bundle_tree_parse(&parsed, data, len), 0);
	assert_true(bundle_tree_same(&tree, &parsed));

	e = &tree.entries[index_of(&tree, "secret")];
	e->mode ^= 1;
	assert_false(bundle_tree_same(&tree, &parsed));
	e->mode ^= 1;

	e = &tree.entries[index_of(&tree, "dir")];
	e->ref.bytes[31] ^= 1;
	assert_false(bundle_tree_same(&tree, &parsed));
	e->ref.bytes[31] ^= 1;

	e = &tree.entries[index_of(&tree, "link")];
	e->text_len--;
	assert_false(bundle_tree_same(&tree, &parsed));
	e->text_len++;

	e = &tree.entries[index_of(&tree, "fifo")];
	e->rdev++;
	assert_false(bundle_tree_same(&tree, &parsed));
	e->rdev--;

	e = &tree.entries[index_of(&tree, "big")];
	memcpy(extents, e->extents, sizeof(extents));
	extents[1].offset -= 4096;
	e->extents = extents;
	assert_false(bundle_tree_same(&tree, &parsed));
	e->sparse = 0;
	assert_false(bundle_tree_same(&tree, &parsed));

	tree.n_entries--;
	assert_false(bundle_tree_same(&tree, &parsed));

	bundle_tree_release(&parsed);
	bundle_tree_release(&tree);
	free(data);
}

static void duplicate_name_rejected(void **state)
{
	struct bundle_tree tree;
	struct bundle_tree_entry e =
		entry(BUNDLE_ENTRY_CHANGED, "x", S_IFREG | 0644);
	void *data;
	size_t len;

	(void)state;
	bundle_tree_init(&tree);
	assert_int_equal(bundle_tree_add(&tree, &e), 0);
	assert_int_equal(bundle_tree_add(&tree, &e), 0);
	assert_int_equal(bundle_tree_encode(&tree, &data, &len), -1);
	assert_non_null(strstr(bundle_error(), "occurs twice"));
	bundle_tree_release(&tree);
}

static void invalid_names_rejected(void **state)
{
	const char *bad[] = {"", ".", "..", "a/b"};
	struct bundle_tree tree;

	(void)state;
	bundle_tree_init(&tree);
	for (size_t i = 0; i < 4; i++) {
		struct bundle_tree_entry e =
			entry(BUNDLE_ENTRY_CHANGED, bad[i], S_IFREG);

		assert_int_equal(bundle_tree_add(&tree, &e), -1);
	}
	bundle_tree_release(&tree);
}

static int count_ref(const struct bundle_id *ref, enum bundle_kind kind,
		     void *arg)
{
	int *counts = arg;

	(void)ref;
	counts[kind]++;
	return 0;
}

static void foreach_ref_lists_content_and_subtrees(void **state)
{
	int counts[5] = {0};
	void *data;
	size_t len;

	(void)state;
	encode_every_kind(&data, &len);
	assert_int_equal(bundle_tree_foreach_ref(data, len, count_ref, counts),
			 0);
	assert_int_equal(counts[BUNDLE_TREE], 1);
	assert_int_equal(counts[BUNDLE_CHUNKS], 1);
	assert_int_equal(counts[BUNDLE_BLOB], 1);
	free(data);
}

static int count_any(const struct bundle_id *ref, enum bundle_kind kind,
		     void *arg)
{
	(void)ref;
	(void)kind;
	(*(int *)arg)++;
	return 0;
}

/* Every truncation and every single flipped bit either parses or fails
 * cleanly; under the sanitizers this also proves no read goes past the
 * bytes. */
static void hostile_bytes_never_crash(void **state)
{
	unsigned char *copy;
	void *data;
	size_t len;
	int calls = 0;

	(void)state;
	encode_every_kind(&data, &len);
	for (size_t cut = 0; cut < len; cut++) {
		copy = malloc(cut ? cut : 1);
		memcpy(copy, data, cut);
		assert_int_equal(
			bundle_tree_foreach_ref(copy, cut, count_any, &calls),
			-1);
		free(copy);
	}
	for (size_t bit = 0; bit < len * 8; bit++) {
		copy = malloc(len);
		memcpy(copy, data, len);
		copy[bit / 8] ^= (unsigned char)(1u << (bit % 8));
		bundle_tree_foreach_ref(copy, len, count_any, &calls);
		free(copy);
	}
	assert_int_equal(bundle_tree_foreach_ref("rbtree\0\1\xff\xff\xff\xff",
						 12, count_any, &calls),
			 -1);
	assert_non_null(strstr(bundle_error(), "entry count"));
	free(data);
}

static void trailing_bytes_rejected(void **state)
{
	unsigned char *longer;
	void *data;
	size_t len;
	struct bundle_tree tree;

	(void)state;
	encode_every_kind(&data, &len);
	longer = calloc(1, len + 1);
	memcpy(longer, data, len);
	assert_int_equal(bundle_tree_parse(&tree, longer, len + 1), -1);
	assert_non_null(strstr(bundle_error(), "trailing bytes"));
	free(longer);
	free(data);
}

static void escape_shows_raw_bytes(void **state)
{
	char out[64];

	(void)state;
	bundle_name_escape(out, sizeof(out),
			   (const unsigned char *)"caf\xc3\xa9\xff\n\\", 8);
	assert_string_equal(out, "caf\xc3\xa9\\xff\\x0a\\\\");
	bundle_name_escape(out, 5, (const unsigned char *)"\xff\xfe", 2);
	assert_string_equal(out, "\\xff");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip_every_kind),
		cmocka_unit_test(entries_sort_by_raw_bytes),
		cmocka_unit_test(same_entries_same_bytes),
		cmocka_unit_test(same_tree_matches_its_bytes),
		cmocka_unit_test(duplicate_name_rejected),
		cmocka_unit_test(invalid_names_rejected),
		cmocka_unit_test(foreach_ref_lists_content_and_subtrees),
		cmocka_unit_test(hostile_bytes_never_crash),
		cmocka_unit_test(trailing_bytes_rejected),
		cmocka_unit_test(escape_shows_raw_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
