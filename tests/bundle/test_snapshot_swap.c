/*
 * test_snapshot_swap.c - unit tests of a file that the agent replaces
 * between the snapshot's lstat and its open (bundle/snapshot.h,
 * invariants 1 and 2), on real directories and a real bundle.
 *
 * The snapshot lstats every entry of a directory when it lists it, and
 * calls on_progress after each subdirectory. The tree below has the
 * directory "a" before the file "b", so the hook replaces "b" after its
 * lstat and before its open, every time, without a race.
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
#include <unistd.h>

#include <cmocka.h>

#include "bundle/snapshot.h"
#include "fixture.h"

/* An open of a FIFO that blocks waits for a writer for ever: the alarm
 * turns that hang into a failure of the case. */
#define HANG_SECONDS 20

/* What the hook puts in the place of "b", made beside src first. */
enum swap { SWAP_FIFO, SWAP_FILE, SWAP_SYMLINK };

struct hook {
	struct fixture *f;
	enum swap swap;
	int done;
};

static int setup(void **state)
{
	fixture_setup(state);
	make_dir(*state, "a");
	write_file(*state, "a/x", "x\n");
	write_file(*state, "b", "old\n");
	return 0;
}

#define TEST(name) \
	cmocka_unit_test_setup_teardown(name, setup, fixture_teardown)

/* Make the replacement at path. */
static void make_new(enum swap swap, const char *path)
{
	int fd;

	switch (swap) {
	case SWAP_FIFO:
		assert_int_equal(mkfifo(path, 0644), 0);
		break;
	case SWAP_FILE:
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, "new\n", 4), 4);
		close(fd);
		break;
	case SWAP_SYMLINK:
		assert_int_equal(symlink("a/x", path), 0);
		break;
	}
}

/* Replace "b" at the first progress call, which comes after "a" is
 * stored. */
static void replace_b(const struct bundle_snapshot_stats *stats, void *arg)
{
	struct hook *h = arg;
	char from[160], to[160];

	(void)stats;
	if (h->done++)
		return;
	snprintf(from, sizeof(from), "%s/new", h->f->dir);
	snprintf(to, sizeof(to), "%s/b", h->f->src);
	make_new(h->swap, from);
	assert_int_equal(rename(from, to), 0);
}

/* Snapshot src with the hook. Return the entry of "b" in *e and the
 * data of its tree, which the caller frees, in *data. */
static void take_swapped(struct fixture *f, enum swap swap,
			 struct bundle_snapshot *s, struct bundle_tree_entry *e,
			 void **data)
{
	struct hook h = { .f = f, .swap = swap };
	struct bundle_snapshot_options o = {
		.on_progress = replace_b,
		.arg = &h,
	};
	const struct bundle_tree_entry *found;
	struct bundle_tree tree;
	size_t len;

	alarm(HANG_SECONDS);
	assert_int_equal(bundle_snapshot_take(f->bundle, f->src, &o, s), 0);
	alarm(0);
	assert_true(h.done > 0);
	assert_int_equal(bundle_get(f->bundle, &s->root, data, &len, NULL), 0);
	assert_int_equal(bundle_tree_parse(&tree, *data, len), 0);
	found = bundle_tree_find(&tree, (const unsigned char *)"b", 1);
	assert_non_null(found);
	*e = *found;
	bundle_tree_release(&tree);
}

/* A FIFO in the place of the file is never opened for a writer to
 * come: the file counts as changed while it was read. */
static void fifo_is_changed(void **state)
{
	struct fixture *f = *state;
	struct bundle_snapshot s;
	struct bundle_tree_entry e;
	void *data;

	take_swapped(f, SWAP_FIFO, &s, &e, &data);
	assert_int_equal(e.kind, BUNDLE_ENTRY_CHANGED);
	assert_false(s.complete);
	assert_int_equal(s.stats.changed, 1);
	assert_int_equal(s.stats.errors, 0);
	free(data);
}

/* A symlink in its place is not followed, and is a change too, not an
 * error of the file. */
static void symlink_is_changed(void **state)
{
	struct fixture *f = *state;
	struct bundle_snapshot s;
	struct bundle_tree_entry e;
	void *data;

	take_swapped(f, SWAP_SYMLINK, &s, &e, &data);
	assert_int_equal(e.kind, BUNDLE_ENTRY_CHANGED);
	assert_int_equal(s.stats.changed, 1);
	assert_int_equal(s.stats.errors, 0);
	free(data);
}

/* A regular file renamed over it, as editors save, is read as it is
 * now, with its own size. */
static void new_file_is_read(void **state)
{
	struct fixture *f = *state;
	struct bundle_snapshot s;
	struct bundle_tree_entry e;
	void *data, *content;
	size_t len;

	take_swapped(f, SWAP_FILE, &s, &e, &data);
	assert_int_equal(e.kind, BUNDLE_ENTRY_FILE);
	assert_true(s.complete);
	assert_int_equal(e.size, 4);
	assert_int_equal(bundle_get(f->bundle, &e.ref, &content, &len, NULL),
			 0);
	assert_int_equal(len, 4);
	assert_memory_equal(content, "new\n", 4);
	free(content);
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(fifo_is_changed),
		TEST(symlink_is_changed),
		TEST(new_file_is_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
