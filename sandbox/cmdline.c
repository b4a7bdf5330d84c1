/*
 * cmdline.c - hide the host's command line from the sandbox.
 *
 * The helper and init are forks of runbundle that never exec, so init's
 * /proc/1/cmdline would show the agent the host's runbundle command
 * line, with its paths and options. PR_SET_MM would move the argument
 * area, but it needs CAP_SYS_RESOURCE in the initial user namespace, so
 * the area is overwritten in place, as setproctitle() implementations
 * do. The helper, which init is forked from, does it for both.
 *
 * The caller finds the area and copies it before it forks, so that the
 * sandbox's processes neither parse /proc nor allocate: each page they
 * write is a copy-on-write fault, and malloc() in a fresh fork touches
 * many of them. The command's argv strings often lie in the area too,
 * so an argv of their copies is kept beside it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "sandbox/error.h"
#include "sandbox/internal.h"

/* Fields 48 and 49 of /proc/PID/stat: the argument area (Linux 3.5). */
#define STAT_ARG_START 48

/* Return the start of field number `field` (3 or more) in the text of
 * /proc/PID/stat, or NULL. */
const char *sandbox_stat_field(const char *stat, int field)
{
	/* The command name (field 2) may contain spaces and ')'. */
	const char *p = strrchr(stat, ')');

	if (!p || field < 3)
		return NULL;
	p++;
	for (int i = 3; i < field; i++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return NULL;
	}
	return p + 1;
}

static int parse_arg_area(const char *stat, unsigned long *start,
			  unsigned long *end)
{
	const char *p = sandbox_stat_field(stat, STAT_ARG_START);
	char *rest;

	if (!p)
		return -1;
	*start = strtoul(p, &rest, 10);
	if (*rest != ' ')
		return -1;
	*end = strtoul(rest + 1, NULL, 10);
	return *end > *start ? 0 : -1;
}

/* Point each string of argv that lies in the area at its copy. */
static int copy_argv(struct sandbox_cmdline *cmdline, char *const *argv)
{
	size_t n = 0;

	while (argv[n])
		n++;
	cmdline->argv = calloc(n + 1, sizeof(*cmdline->argv));
	if (!cmdline->argv) {
		sandbox_set_error("cannot hide the command line: '%s': %s",
				  "argv", strerror(ENOMEM));
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		char *s = argv[i];

		if (s >= cmdline->area && s < cmdline->area + cmdline->len)
			s = cmdline->saved + (s - cmdline->area);
		cmdline->argv[i] = s;
	}
	return 0;
}

int sandbox_cmdline_save(struct sandbox_cmdline *cmdline, const char *stat,
			 char *const *argv)
{
	unsigned long start, end;

	memset(cmdline, 0, sizeof(*cmdline));
	if (parse_arg_area(stat, &start, &end) < 0) {
		sandbox_set_error("cannot hide the command line: '%s': %s",
				  "/proc/self/stat", "no argument area");
		return -1;
	}
	cmdline->area = (char *)start;
	cmdline->len = end - start;
	cmdline->saved = malloc(cmdline->len);
	if (!cmdline->saved) {
		sandbox_set_error("cannot hide the command line: '%s': %s",
				  "argv", strerror(ENOMEM));
		return -1;
	}
	memcpy(cmdline->saved, cmdline->area, cmdline->len);
	if (copy_argv(cmdline, argv) < 0) {
		sandbox_cmdline_free(cmdline);
		return -1;
	}
	return 0;
}

int sandbox_cmdline_hide(const struct sandbox_cmdline *cmdline,
			 const char *name)
{
	memset(cmdline->area, 0, cmdline->len);
	memcpy(cmdline->area, name, strnlen(name, cmdline->len - 1));
	if (prctl(PR_SET_NAME, name) < 0) {
		sandbox_set_error("cannot hide the command line: '%s': %s",
				  "PR_SET_NAME", strerror(errno));
		return -1;
	}
	return 0;
}

void sandbox_cmdline_free(struct sandbox_cmdline *cmdline)
{
	free(cmdline->argv);
	free(cmdline->saved);
	memset(cmdline, 0, sizeof(*cmdline));
}
