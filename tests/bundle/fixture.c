/*
 * fixture.c - the temporary directory and new bundle of the cmocka tests
 * of bundle/ (see fixture.h).
 */
#include <errno.h>
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

#include <cmocka.h>

#include "fixture.h"

int fixture_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int n;

	assert_non_null(f);
	n = snprintf(f->dir, sizeof(f->dir), "/tmp/%s.XXXXXX",
		     program_invocation_short_name);
	assert_in_range(n, 1, sizeof(f->dir) - 1);
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->src, sizeof(f->src), "%s/src", f->dir);
	snprintf(f->path, sizeof(f->path), "%s/b.rb", f->dir);
	assert_int_equal(mkdir(f->src, 0755), 0);
	f->bundle = bundle_create(f->path, NULL);
	assert_non_null(f->bundle);
	*state = f;
	return 0;
}

int fixture_teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	bundle_close(f->bundle);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

void write_file(struct fixture *f, const char *name, const char *text)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", f->src, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

void make_dir(struct fixture *f, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", f->src, name);
	assert_int_equal(mkdir(path, 0755), 0);
}

void age(struct fixture *f, const char *name, time_t seconds)
{
	struct timespec times[2];
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", f->src, name);
	clock_gettime(CLOCK_REALTIME, &times[0]);
	times[0].tv_sec -= seconds;
	times[0].tv_nsec = 0;
	times[1] = times[0];
	assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
}

static int collect(const unsigned char *path, size_t path_len,
		   enum bundle_change change,
		   const struct bundle_tree_entry *old,
		   const struct bundle_tree_entry *new, void *arg)
{
	struct changes *c = arg;
	size_t used = strlen(c->text);

	if (change == BUNDLE_CHANGE_ADDED)
		assert_null(old);
	if (change == BUNDLE_CHANGE_DELETED)
		assert_null(new);
	snprintf(c->text + used, sizeof(c->text) - used, "%c %.*s\n",
		 (char)change, (int)path_len, (const char *)path);
	return 0;
}

void diff(struct fixture *f, const struct bundle_snapshot *a,
	  const struct bundle_snapshot *b, struct changes *c)
{
	memset(c, 0, sizeof(*c));
	assert_int_equal(bundle_snapshot_diff(f->bundle, a ? &a->root : NULL,
					      &b->root, collect, c),
			 0);
}
