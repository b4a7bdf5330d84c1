/*
 * test_tree_checkout.c - checkout of forged trees: nothing is written
 * outside the target directory, and damaged content is an error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "bundle/checkout.h"

struct fixture {
	char dir[64];
	char outside[96];
	char target[96];
	struct bundle *bundle;
	struct bundle_tree tree;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char path[160];
	FILE *fp;

	snprintf(f->dir, sizeof(f->dir), "/tmp/rbtest-checkout.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->outside, sizeof(f->outside), "%s/outside", f->dir);
	snprintf(f->target, sizeof(f->target), "%s/dst", f->dir);
	assert_int_equal(mkdir(f->outside, 0755), 0);
	snprintf(path, sizeof(path), "%s/secret", f->outside);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("secret\n", fp);
	fclose(fp);
	snprintf(path, sizeof(path), "%s/b.rb", f->dir);
	f->bundle = bundle_create(path, NULL);
	assert_non_null(f->bundle);
	bundle_tree_init(&f->tree);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	bundle_tree_release(&f->tree);
	bundle_close(f->bundle);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void add(struct fixture *f, enum bundle_entry_kind kind,
		const char *name, uint32_t mode, const char *text)
{
	struct bundle_tree_entry e;

	memset(&e, 0, sizeof(e));
	e.kind = kind;
	e.name = (const unsigned char *)name;
	e.name_len = strlen(name);
	e.mode = mode;
	e.mtime_sec = 1700000000;
	if (text) {
		e.text = (const unsigned char *)text;
		e.text_len = strlen(text);
	}
	assert_int_equal(bundle_tree_add(&f->tree, &e), 0);
}

static void add_file(struct fixture *f, const char *name, const char *content,
		     uint64_t size)
{
	struct bundle_tree_entry e;

	memset(&e, 0, sizeof(e));
	e.kind = BUNDLE_ENTRY_FILE;
	e.name = (const unsigned char *)name;
	e.name_len = strlen(name);
	e.mode = S_IFREG | 0644;
	e.size = size;
	e.ref_kind = BUNDLE_BLOB;
	assert_int_equal(bundle_put(f->bundle, BUNDLE_BLOB, content,
				    strlen(content), &e.ref),
			 0);
	assert_int_equal(bundle_tree_add(&f->tree, &e), 0);
}

static int checkout(struct fixture *f, struct bundle_checkout_stats *stats)
{
	struct bundle_id root;
	void *data;
	size_t len;

	assert_int_equal(bundle_tree_encode(&f->tree, &data, &len), 0);
	assert_int_equal(bundle_put(f->bundle, BUNDLE_TREE, data, len, &root),
			 0);
	free(data);
	return bundle_checkout(f->bundle, &root, f->target, NULL, stats);
}

static void assert_outside_untouched(struct fixture *f)
{
	char path[160];
	struct stat st;

	snprintf(path, sizeof(path), "%s/secret", f->outside);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_nlink, 1);
	assert_int_equal(st.st_size, 7);
	snprintf(path, sizeof(path), "%s/planted", f->outside);
	assert_int_equal(access(path, F_OK), -1);
}

/* A symlink out of the target, then entries that go through it. */
static void hardlink_through_symlink_rejected(void **state)
{
	struct fixture *f = *state;
	struct bundle_checkout_stats stats;

	add(f, BUNDLE_ENTRY_SYMLINK, "a", S_IFLNK | 0777, f->outside);
	add(f, BUNDLE_ENTRY_HARDLINK, "b", S_IFREG | 0644, "a/secret");
	assert_int_equal(checkout(f, &stats), 0);
	assert_int_equal(stats.symlinks, 1);
	assert_int_equal(stats.skipped, 1);
	assert_int_equal(stats.files, 0);
	assert_outside_untouched(f);
}

static void dotdot_hardlink_skipped(void **state)
{
	struct fixture *f = *state;
	struct bundle_checkout_stats stats;

	add(f, BUNDLE_ENTRY_HARDLINK, "b", S_IFREG | 0644, "../outside/secret");
	add(f, BUNDLE_ENTRY_HARDLINK, "c", S_IFREG | 0644, "/etc/passwd");
	add(f, BUNDLE_ENTRY_HARDLINK, "d", S_IFREG | 0644, "x//y");
	add_file(f, "e", "kept\n", 5);
	assert_int_equal(checkout(f, &stats), 0);
	assert_int_equal(stats.skipped, 3);
	assert_int_equal(stats.files, 1);
	assert_outside_untouched(f);
}

static void short_content_is_an_error(void **state)
{
	struct fixture *f = *state;
	struct bundle_checkout_stats stats;

	add_file(f, "f", "abc", 10);
	assert_int_equal(checkout(f, &stats), -1);
	assert_non_null(strstr(bundle_error(), "shorter"));
}

static void long_content_is_an_error(void **state)
{
	struct fixture *f = *state;
	struct bundle_checkout_stats stats;

	add_file(f, "f", "abcdef", 2);
	assert_int_equal(checkout(f, &stats), -1);
	assert_non_null(strstr(bundle_error(), "longer"));
}

/* Content far larger than the socket buffer, cut short by the reader:
 * the writer thread must fail quietly, not kill the process. */
static void long_big_content_is_an_error(void **state)
{
	struct fixture *f = *state;
	size_t len = 600000;
	char *big = malloc(len + 1);

	memset(big, 'x', len);
	big[len] = '\0';
	add_file(f, "f", big, 10);
	free(big);
	assert_int_equal(checkout(f, NULL), -1);
	assert_non_null(strstr(bundle_error(), "longer"));
}

static void missing_subtree_is_an_error(void **state)
{
	struct fixture *f = *state;
	struct bundle_checkout_stats stats;
	struct bundle_tree_entry e;

	memset(&e, 0, sizeof(e));
	e.kind = BUNDLE_ENTRY_DIR;
	e.name = (const unsigned char *)"d";
	e.name_len = 1;
	e.mode = S_IFDIR | 0755;
	e.ref_kind = BUNDLE_TREE;
	memset(e.ref.bytes, 0x42, sizeof(e.ref.bytes));
	assert_int_equal(bundle_tree_add(&f->tree, &e), 0);
	assert_int_equal(checkout(f, &stats), -1);
}

static void target_not_empty_rejected(void **state)
{
	struct fixture *f = *state;
	char path[160];
	FILE *fp;

	add_file(f, "f", "new\n", 4);
	assert_int_equal(mkdir(f->target, 0755), 0);
	snprintf(path, sizeof(path), "%s/old", f->target);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fclose(fp);
	assert_int_equal(checkout(f, NULL), -1);
	assert_non_null(strstr(bundle_error(), "not empty"));
	assert_non_null(bundle_error_hint());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			hardlink_through_symlink_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(dotdot_hardlink_skipped, setup,
						teardown),
		cmocka_unit_test_setup_teardown(short_content_is_an_error,
						setup, teardown),
		cmocka_unit_test_setup_teardown(long_content_is_an_error, setup,
						teardown),
		cmocka_unit_test_setup_teardown(long_big_content_is_an_error,
						setup, teardown),
		cmocka_unit_test_setup_teardown(missing_subtree_is_an_error,
						setup, teardown),
		cmocka_unit_test_setup_teardown(target_not_empty_rejected,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
