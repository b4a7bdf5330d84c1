/*
 * test_snapshot_absent.c - unit tests of the snapshot option
 * absent_if_empty (bundle/snapshot.h, invariant 5), on real directories
 * and a real bundle.
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

/* The parts that the sandbox makes for a policy's ".git/hooks". */
static const char *const hooks_chain[] = { ".git", ".git/hooks" };

/* Set up the fixture with one file, a.txt, whose mtime is a minute ago.
 * That is out of reach of the racy rule, so a second snapshot takes the
 * file from the stat cache. */
static int setup(void **state)
{
	fixture_setup(state);
	write_file(*state, "a.txt", "a\n");
	age(*state, "a.txt", 60);
	return 0;
}

#define TEST(name) \
	cmocka_unit_test_setup_teardown(name, setup, fixture_teardown)

static void take(struct fixture *f, const struct bundle_snapshot_options *o,
		 struct bundle_snapshot *s)
{
	assert_int_equal(bundle_snapshot_take(f->bundle, f->src, o, s), 0);
}

/* A snapshot that leaves out the empty parts of paths[0..n). */
static void take_absent(struct fixture *f, const char *const *paths, size_t n,
			struct bundle_snapshot *s)
{
	struct bundle_snapshot_options o = {
		.absent_if_empty = paths,
		.n_absent_if_empty = n,
	};

	take(f, &o, s);
}

/* Store in before a snapshot taken before a run, then make the empty
 * parts of hooks_chain as the sandbox does for the run. */
static void start_run(struct fixture *f, struct bundle_snapshot *before)
{
	take(f, NULL, before);
	make_dir(f, ".git");
	make_dir(f, ".git/hooks");
}

/* Take a snapshot that leaves out the empty parts of paths[0..n), store
 * it in during unless during is NULL, and list in c what changed since
 * before. */
static void diff_absent(struct fixture *f, const struct bundle_snapshot *before,
			const char *const *paths, size_t n,
			struct bundle_snapshot *during, struct changes *c)
{
	struct bundle_snapshot taken;

	take_absent(f, paths, n, &taken);
	diff(f, before, &taken, c);
	if (during)
		*during = taken;
}

static void empty_chain_left_out(void **state)
{
	struct fixture *f = *state;
	struct bundle_snapshot before, during;

	start_run(f, &before);
	take_absent(f, hooks_chain, 2, &during);
	assert_memory_equal(&before.root, &during.root, sizeof(before.root));
	assert_int_equal(during.stats.dirs, 0);
	assert_int_equal(during.stats.files, 1);
}

static void content_keeps_its_dirs(void **state)
{
	struct fixture *f = *state;
	struct bundle_snapshot before, during, after;
	struct changes c;
	char path[256];

	start_run(f, &before);
	write_file(f, ".git/config", "[core]\n");
	diff_absent(f, &before, hooks_chain, 2, &during, &c);
	assert_string_equal(c.text, "A .git/config\n");
	assert_int_equal(during.stats.dirs, 1);

	/* The teardown removes the empty .git/hooks and keeps .git. */
	snprintf(path, sizeof(path), "%s/.git/hooks", f->src);
	assert_int_equal(rmdir(path), 0);
	take(f, NULL, &after);
	diff(f, &during, &after, &c);
	assert_string_equal(c.text, "");
}

static void content_below_part_kept(void **state)
{
	struct fixture *f = *state;
	struct bundle_snapshot before, during;
	struct changes c;

	start_run(f, &before);
	write_file(f, ".git/hooks/pre-commit", "#!/bin/sh\n");
	diff_absent(f, &before, hooks_chain, 2, &during, &c);
	assert_string_equal(c.text, "A .git/hooks/pre-commit\n");
	assert_int_equal(during.stats.dirs, 2);
}

static void empty_subdir_keeps_parent(void **state)
{
	struct fixture *f = *state;
	struct bundle_snapshot before;
	struct changes c;

	start_run(f, &before);
	make_dir(f, ".git/info");
	diff_absent(f, &before, hooks_chain, 2, NULL, &c);
	assert_string_equal(c.text, "A .git/info\n");
}

static void unlisted_parent_is_kept(void **state)
{
	struct fixture *f = *state;
	struct bundle_snapshot before;
	struct changes c;

	start_run(f, &before);
	diff_absent(f, &before, hooks_chain + 1, 1, NULL, &c);
	assert_string_equal(c.text, "A .git\n");
}

static void file_at_listed_path_kept(void **state)
{
	struct fixture *f = *state;
	struct bundle_snapshot before;
	struct changes c;

	take(f, NULL, &before);
	write_file(f, ".git", "gitdir: ../elsewhere\n");
	diff_absent(f, &before, hooks_chain, 2, NULL, &c);
	assert_string_equal(c.text, "A .git\n");
}

/* An excluded name is still there, so the directory is not empty: the
 * teardown could not remove it. */
static void excluded_content_keeps_dir(void **state)
{
	static const char *const excludes[] = { "*.o" };
	struct fixture *f = *state;
	struct bundle_snapshot_options o = {
		.excludes = excludes,
		.n_excludes = 1,
		.absent_if_empty = hooks_chain,
		.n_absent_if_empty = 2,
	};
	struct bundle_snapshot before, during;
	struct changes c;

	start_run(f, &before);
	write_file(f, ".git/x.o", "object\n");
	take(f, &o, &during);
	diff(f, &before, &during, &c);
	assert_string_equal(c.text, "A .git\n");
}

/* The parent of a left-out directory keeps its stat cache: a.txt sorts
 * after .git, so its record must not take .git's place. */
static void left_out_keeps_stat_cache(void **state)
{
	struct fixture *f = *state;
	struct bundle_snapshot first, second;

	make_dir(f, ".git");
	make_dir(f, ".git/hooks");
	take_absent(f, hooks_chain, 2, &first);
	take_absent(f, hooks_chain, 2, &second);
	assert_memory_equal(&first.root, &second.root, sizeof(first.root));
	assert_int_equal(second.stats.cached, 1);
	assert_int_equal(second.stats.bytes_read, 0);
}

static void list_only_matches_whole_names(void **state)
{
	static const char *const paths[] = { ".gi", ".git/hook" };
	struct fixture *f = *state;
	struct bundle_snapshot before;
	struct changes c;

	start_run(f, &before);
	diff_absent(f, &before, paths, 2, NULL, &c);
	assert_string_equal(c.text, "A .git/hooks\n");
}

static void invalid_paths_rejected(void **state)
{
	static const char *const bad[] = { "", "/x", "x/", "a//b", ".",
					   "./a", "a/..", "a/./b" };
	struct fixture *f = *state;
	struct bundle_snapshot s;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct bundle_snapshot_options o = {
			.absent_if_empty = &bad[i],
			.n_absent_if_empty = 1,
		};
		char want[64];

		assert_int_equal(bundle_snapshot_take(f->bundle, f->src, &o,
						      &s),
				 -1);
		snprintf(want, sizeof(want), "'%s'", bad[i]);
		assert_non_null(strstr(bundle_error(), want));
	}
	/* Nothing was stored, and the bundle still takes snapshots. */
	take_absent(f, hooks_chain, 2, &s);
	assert_int_equal(s.stats.files, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(empty_chain_left_out),
		TEST(content_keeps_its_dirs),
		TEST(content_below_part_kept),
		TEST(empty_subdir_keeps_parent),
		TEST(unlisted_parent_is_kept),
		TEST(file_at_listed_path_kept),
		TEST(excluded_content_keeps_dir),
		TEST(left_out_keeps_stat_cache),
		TEST(list_only_matches_whole_names),
		TEST(invalid_paths_rejected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
