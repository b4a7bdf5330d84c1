/*
 * test_tree_diff.c - unit tests of snapshot diffs and of the stat cache,
 * on real directories and a real bundle.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "bundle/snapshot.h"
#include "fixture.h"

/* A case that starts from a new fixture. */
#define TEST(name) \
	cmocka_unit_test_setup_teardown(name, fixture_setup, fixture_teardown)

static void take(struct fixture *f, struct bundle_snapshot *s)
{
	assert_int_equal(bundle_snapshot_take(f->bundle, f->src, NULL, s), 0);
}

static void diff_lists_each_change(void **state)
{
	struct fixture *f = *state;
	struct bundle_snapshot one, two;
	struct changes c;
	char path[256];

	make_dir(f, "kept");
	make_dir(f, "gone");
	write_file(f, "kept/same", "same\n");
	write_file(f, "kept/edit", "before\n");
	write_file(f, "kept/mode", "mode\n");
	write_file(f, "gone/a", "a\n");
	write_file(f, "gone/b", "b\n");
	take(f, &one);

	write_file(f, "kept/edit", "after, longer\n");
	snprintf(path, sizeof(path), "%s/kept/mode", f->src);
	assert_int_equal(chmod(path, 0700), 0);
	snprintf(path, sizeof(path), "rm -r '%s/gone'", f->src);
	assert_int_equal(system(path), 0);
	make_dir(f, "new");
	write_file(f, "new/file", "new\n");
	make_dir(f, "new/empty");
	take(f, &two);

	diff(f, &one, &two, &c);
	assert_string_equal(c.text, "D gone/a\n"
				    "D gone/b\n"
				    "M kept/edit\n"
				    "T kept/mode\n"
				    "A new/empty\n"
				    "A new/file\n");
}

static void diff_from_nothing_adds_all(void **state)
{
	struct fixture *f = *state;
	struct bundle_snapshot one;
	struct changes c;

	make_dir(f, "d");
	write_file(f, "d/x", "x\n");
	write_file(f, "top", "t\n");
	take(f, &one);
	diff(f, NULL, &one, &c);
	assert_string_equal(c.text, "A d/x\nA top\n");
}

static void diff_of_same_tree_is_empty(void **state)
{
	struct fixture *f = *state;
	struct bundle_snapshot one, two;
	struct changes c;

	write_file(f, "x", "x\n");
	take(f, &one);
	take(f, &two);
	assert_memory_equal(&one.root, &two.root, sizeof(one.root));
	diff(f, &one, &two, &c);
	assert_string_equal(c.text, "");
}

static void file_replaced_by_dir(void **state)
{
	struct fixture *f = *state;
	struct bundle_snapshot one, two;
	struct changes c;
	char path[256];

	write_file(f, "x", "x\n");
	take(f, &one);
	snprintf(path, sizeof(path), "%s/x", f->src);
	assert_int_equal(unlink(path), 0);
	make_dir(f, "x");
	write_file(f, "x/inner", "i\n");
	take(f, &two);
	diff(f, &one, &two, &c);
	assert_string_equal(c.text, "D x\nA x/inner\n");
}

/* Old files come from the cache; nothing is read again. */
static void cache_skips_old_files(void **state)
{
	struct fixture *f = *state;
	struct bundle_snapshot one, two;

	write_file(f, "a", "aaaa\n");
	write_file(f, "b", "bbbb\n");
	age(f, "a", 3600);
	age(f, "b", 3600);
	take(f, &one);
	assert_int_equal(one.stats.cached, 0);
	take(f, &two);
	assert_int_equal(two.stats.cached, 2);
	assert_int_equal(two.stats.bytes_read, 0);
	assert_memory_equal(&one.root, &two.root, sizeof(one.root));
}

/*
 * git's racy rule: a file whose mtime is within the racy window of the
 * previous snapshot is read again, so a same-size rewrite that keeps the
 * mtime is still found.
 */
static void racy_file_is_read_again(void **state)
{
	struct fixture *f = *state;
	struct bundle_snapshot one, two;
	struct changes c;
	struct stat st;
	struct timespec times[2];
	char path[256];

	write_file(f, "racy", "1111\n");
	take(f, &one);

	snprintf(path, sizeof(path), "%s/racy", f->src);
	assert_int_equal(stat(path, &st), 0);
	write_file(f, "racy", "2222\n");
	times[0] = st.st_mtim;
	times[1] = st.st_mtim;
	assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
	take(f, &two);

	assert_int_equal(two.stats.cached, 0);
	diff(f, &one, &two, &c);
	assert_string_equal(c.text, "M racy\n");
}

static void changed_size_is_read_again(void **state)
{
	struct fixture *f = *state;
	struct bundle_snapshot one, two;
	struct changes c;

	write_file(f, "grow", "1\n");
	age(f, "grow", 3600);
	take(f, &one);
	write_file(f, "grow", "12\n");
	age(f, "grow", 3600);
	take(f, &two);
	assert_int_equal(two.stats.cached, 0);
	diff(f, &one, &two, &c);
	assert_string_equal(c.text, "M grow\n");
}

static void find_names_snapshots(void **state)
{
	struct fixture *f = *state;
	struct bundle_snapshot one, two, found;
	char hex[BUNDLE_ID_HEX_LEN + 1];

	write_file(f, "x", "1\n");
	take(f, &one);
	write_file(f, "x", "22\n");
	take(f, &two);

	assert_int_equal(bundle_snapshot_find(f->bundle, "latest", &found), 0);
	assert_int_equal(found.seq, two.seq);
	assert_int_equal(bundle_snapshot_find(f->bundle, "1", &found), 0);
	assert_memory_equal(&found.root, &one.root, sizeof(one.root));
	bundle_id_to_hex(&two.root, hex);
	hex[10] = '\0';
	assert_int_equal(bundle_snapshot_find(f->bundle, hex, &found), 0);
	assert_int_equal(found.seq, two.seq);
	assert_int_equal(bundle_snapshot_find(f->bundle, "9", &found), -1);
	assert_int_equal(bundle_snapshot_find(f->bundle, "xyz!", &found), -1);
}

/* The root directory's mode and mtime are recorded, loaded and restored
 * by checkout. */
static void root_metadata_round_trips(void **state)
{
	struct fixture *f = *state;
	struct bundle_checkout_options options = {0};
	struct timespec times[2] = {{1577836800, 123456789},
				    {1577836800, 123456789}};
	struct bundle_snapshot taken, found;
	char target[128];
	struct stat st;

	write_file(f, "x", "1\n");
	assert_int_equal(chmod(f->src, 0750), 0);
	assert_int_equal(utimensat(AT_FDCWD, f->src, times, 0), 0);
	take(f, &taken);
	assert_true(taken.root_meta.have);

	assert_int_equal(bundle_snapshot_find(f->bundle, "latest", &found), 0);
	assert_true(found.root_meta.have);
	assert_int_equal(found.root_meta.mode & 07777, 0750);
	assert_int_equal(found.root_meta.mtime_sec, 1577836800);
	assert_int_equal(found.root_meta.mtime_nsec, 123456789);

	snprintf(target, sizeof(target), "%s/out", f->dir);
	options.root = &found.root_meta;
	assert_int_equal(bundle_checkout(f->bundle, &found.root, target,
					 &options, NULL),
			 0);
	assert_int_equal(stat(target, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750);
	assert_int_equal(st.st_mtim.tv_sec, 1577836800);
	assert_int_equal(st.st_mtim.tv_nsec, 123456789);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(diff_lists_each_change),
		TEST(diff_from_nothing_adds_all),
		TEST(diff_of_same_tree_is_empty),
		TEST(file_replaced_by_dir),
		TEST(cache_skips_old_files),
		TEST(racy_file_is_read_again),
		TEST(changed_size_is_read_again),
		TEST(find_names_snapshots),
		TEST(root_metadata_round_trips),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
