/*
 * cmdline.c - hide the host's command line from the sandbox.
 *
 * The helper and init are forks of runbundle that never exec, so init's
 * /proc/1/cmdline would show the agent the host's runbundle command
 * line, with its paths and options. PR_SET_MM would move the argument
 * area, but it needs CAP_SYS_RESOURCE in the initial user namespace, so
 * the area is overwritten in place, as setproctitle() implementations
 * do. The helper, which init is forked from, does it for both.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "sandbox/error.h"
#include "sandbox/internal.h"

/* Fields 48 and 49 of /proc/PID/stat: the argument area (Linux 3.5). */
#define STAT_ARG_START 48

static int read_arg_area(unsigned long *start, unsigned long *end)
{
	char buf[2048], *p;
	size_t n;
	FILE *f = fopen("/proc/self/stat", "re");

	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name (field 2) may contain spaces and ')'. */
	p = strrchr(buf, ')');
	if (!p)
		return -1;
	p++;
	for (int field = 3; field < STAT_ARG_START; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return -1;
	}
	if (sscanf(p, " %lu %lu", start, end) != 2 || *end <= *start)
		return -1;
	return 0;
}

/* The argument area as it was, for the agent's execvp(), whose argv
 * points into it. */
static char *saved_area;
static size_t saved_len;

int sandbox_cmdline_hide(const char *name)
{
	unsigned long start, end;
	char *area;

	if (read_arg_area(&start, &end) < 0) {
		sandbox_set_error("cannot hide the command line: '%s': %s",
				  "/proc/self/stat", "no argument area");
		return -1;
	}
	area = (char *)start;
	saved_len = end - start;
	saved_area = malloc(saved_len);
	if (!saved_area) {
		sandbox_set_error("cannot hide the command line: '%s': %s",
				  "argv", strerror(ENOMEM));
		return -1;
	}
	memcpy(saved_area, area, saved_len);
	memset(area, 0, saved_len);
	memcpy(area, name, strnlen(name, saved_len - 1));
	if (prctl(PR_SET_NAME, name) < 0) {
		sandbox_set_error("cannot hide the command line: '%s': %s",
				  "PR_SET_NAME", strerror(errno));
		return -1;
	}
	return 0;
}

void sandbox_cmdline_restore(void)
{
	unsigned long start, end;

	if (!saved_area || read_arg_area(&start, &end) < 0 ||
	    end - start != saved_len)
		return;
	memcpy((char *)start, saved_area, saved_len);
}
