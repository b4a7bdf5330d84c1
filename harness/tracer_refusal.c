/*
 * tracer_refusal.c - tell an exec that the file's own mode rejected from
 * one that a policy denied.
 *
 * Both fail with EACCES. The kernel checks the file's type and mode
 * before any security module, so a directory, or a regular file without
 * the execute bit for the caller, fails the same way with or without a
 * sandbox. The exec denylist masks a program with /dev/null, a character
 * device, and Landlock refuses a file whose mode would let it run: those
 * are the policy's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "harness/tracer_internal.h"

/* CAP_DAC_OVERRIDE, from linux/capability.h. */
#define DAC_OVERRIDE_BIT 1

/* The credentials that the kernel checks a file's mode against. They
 * are host ids, because /proc shows them in the reader's user namespace,
 * as fstat shows the file's owner. */
struct creds {
	uid_t fsuid;
	gid_t fsgid;
	bool in_group;		/* the file's group is a supplementary one */
	bool dac_override;
	int found;		/* lines read, of the three needed */
};

static bool has_group(const char *list, gid_t gid)
{
	char *end;

	for (;;) {
		unsigned long g = strtoul(list, &end, 10);

		if (end == list)
			return false;
		if ((gid_t)g == gid)
			return true;
		list = end;
	}
}

static void parse_line(const char *line, gid_t file_gid, struct creds *c)
{
	unsigned long a, b, d, fs;
	unsigned long long caps;

	if (sscanf(line, "Uid: %lu %lu %lu %lu", &a, &b, &d, &fs) == 4) {
		c->fsuid = (uid_t)fs;
		c->found++;
	} else if (sscanf(line, "Gid: %lu %lu %lu %lu", &a, &b, &d,
			  &fs) == 4) {
		c->fsgid = (gid_t)fs;
		c->found++;
	} else if (strncmp(line, "Groups:", 7) == 0) {
		c->in_group = has_group(line + 7, file_gid);
	} else if (sscanf(line, "CapEff: %llx", &caps) == 1) {
		c->dac_override = caps & (1ull << DAC_OVERRIDE_BIT);
		c->found++;
	}
}

static int read_creds(pid_t tid, gid_t file_gid, struct creds *c)
{
	char path[64], *line = NULL;
	size_t cap = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	memset(c, 0, sizeof(*c));
	while (getline(&line, &cap, f) > 0)
		parse_line(line, file_gid, c);
	free(line);
	fclose(f);
	return c->found == 3 ? 0 : -1;
}

/* Check the execute bit that applies to the process, picked as the
 * kernel's generic_permission() picks it. An ACL can grant more than the
 * group bits, so a file with one is not judged (false) when the process
 * is not its owner. */
static bool lacks_exec_bit(const struct stat *st, const struct creds *c,
			   int fd)
{
	if (c->fsuid == st->st_uid)
		return !(st->st_mode & S_IXUSR);
	if (fgetxattr(fd, "system.posix_acl_access", NULL, 0) >= 0)
		return false;
	if (c->fsgid == st->st_gid || c->in_group)
		return !(st->st_mode & S_IXGRP);
	return !(st->st_mode & S_IXOTH);
}

enum harness_refusal tracer_refusal(pid_t tid, int fd)
{
	struct creds c;
	struct stat st;

	if (fstat(fd, &st) < 0)
		return HARNESS_REFUSAL_NONE;
	if (S_ISDIR(st.st_mode))
		return HARNESS_REFUSAL_DIRECTORY;
	if (!S_ISREG(st.st_mode))
		return HARNESS_REFUSAL_NONE;
	/* Not even CAP_DAC_OVERRIDE executes a file without any x bit. */
	if (!(st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)))
		return HARNESS_REFUSAL_MODE;
	if (read_creds(tid, st.st_gid, &c) < 0 || c.dac_override)
		return HARNESS_REFUSAL_NONE;
	return lacks_exec_bit(&st, &c, fd) ? HARNESS_REFUSAL_MODE
					   : HARNESS_REFUSAL_NONE;
}
