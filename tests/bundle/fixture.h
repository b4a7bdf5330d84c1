/*
 * fixture.h - the temporary directory, source tree and new bundle that
 * the cmocka tests of bundle/ start each case from.
 *
 * fixture_setup() makes a directory /tmp/PROGRAM.XXXXXX, where PROGRAM is
 * the test's executable, an empty directory src in it for snapshots to
 * read, and a new bundle b.rb in it. fixture_teardown() closes the bundle
 * and removes the whole directory, so a case may leave any files there.
 * A case that closes f->bundle must open it again or set it to NULL.
 *
 * The helpers report failure through cmocka's assertions, which end the
 * current case, so none of them returns an error: fixture_setup() and
 * fixture_teardown() return 0, as cmocka expects.
 */
#ifndef RUNBUNDLE_TESTS_BUNDLE_FIXTURE_H
#define RUNBUNDLE_TESTS_BUNDLE_FIXTURE_H

#include <time.h>

#include "bundle/snapshot.h"

struct fixture {
	char dir[64];	       /* the temporary directory */
	char src[96];	       /* dir/src, the tree that snapshots read */
	char path[96];	       /* dir/b.rb, the bundle's file */
	struct bundle *bundle; /* open on path, owned by the fixture */
};

/* Make the directories and the bundle, and store the fixture, which
 * fixture_teardown() frees, in *state. A cmocka setup function. */
int fixture_setup(void **state);

/* Close the bundle, remove the directory and free the fixture in
 * *state. A cmocka teardown function. */
int fixture_teardown(void **state);

/* Write text to the file src/name, replacing what it contained. */
void write_file(struct fixture *f, const char *name, const char *text);

/* Make the directory src/name, with mode 0755. */
void make_dir(struct fixture *f, const char *name);

/* Set the mtime and atime of src/name to a whole number of seconds
 * before now. */
void age(struct fixture *f, const char *name, time_t seconds);

/* The changes that diff() lists, one "X path\n" line each, where X is
 * the letter of the enum bundle_change (A, D, M or T). */
struct changes {
	char text[2048];
};

/* List in c the changes from snapshot a, or from nothing when a is NULL,
 * to snapshot b. */
void diff(struct fixture *f, const struct bundle_snapshot *a,
	  const struct bundle_snapshot *b, struct changes *c);

#endif
