/*
 * record_loaders.c - the dynamic loaders that an exec allowlist forbids
 * as programs.
 *
 * The sandbox enforces the allowlist with Landlock's execute right,
 * which the kernel also checks when it opens a program's interpreter,
 * so every dynamic loader gets that right. Run as a program, a loader
 * maps any readable ELF file named as its argument, and Landlock cannot
 * deny that mapping. The recorder's tracer closes the hole: it kills an
 * exec whose program is a loader at the exec event, before the loader
 * runs any code, and the exec is stored as a violation. A loader that
 * the allowlist names by its path stays allowed.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "record/record.h"
#include "record/record_run.h"
#include "sandbox/policy.h"
#include "sandbox/sandbox.h"

struct loaders {
	const struct sandbox_strings *allow;
	struct harness_file_id *ids;
	size_t n;
	bool failed;
};

/* Whether the allowlist names path itself, by an absolute path. */
static bool listed(const struct sandbox_strings *allow, const char *path)
{
	char real[PATH_MAX];

	for (size_t i = 0; i < allow->count; i++) {
		if (allow->items[i][0] == '/' &&
		    realpath(allow->items[i], real) && strcmp(real, path) == 0)
			return true;
	}
	return false;
}

static int add_loader(const char *path, void *arg)
{
	struct loaders *l = arg;
	struct harness_file_id *bigger;
	struct stat st;

	if (listed(l->allow, path) || stat(path, &st) < 0)
		return 0;
	bigger = realloc(l->ids, (l->n + 1) * sizeof(*l->ids));
	if (!bigger) {
		l->failed = true;
		return -1;
	}
	l->ids = bigger;
	l->ids[l->n++] = (struct harness_file_id){ st.st_dev, st.st_ino };
	return 0;
}

int record_forbid_loaders(struct record_session *s)
{
	const struct record_config *c = s->config;
	struct loaders l = { &c->policy->exec_allow, NULL, 0, false };

	if (c->no_sandbox || l.allow->count == 0)
		return 0;
	sandbox_each_loader(add_loader, &l);
	if (l.failed) {
		free(l.ids);
		record_fail(s, "cannot list the dynamic loaders: out of "
			    "memory", NULL);
		return -1;
	}
	s->forbidden = l.ids;
	s->n_forbidden = l.n;
	return 0;
}
