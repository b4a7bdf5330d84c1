/*
 * tracer_refusal.c - tell an exec that the file's own mode rejected from
 * one that a policy denied.
 *
 * Both fail with EACCES. The kernel checks the file's type and mode
 * before any security module, so a directory, or a regular file without
 * the execute bit for the caller, fails the same way with or without a
 * sandbox. The exec denylist masks a program with an empty file of mode
 * 0755 on a noexec mount, and Landlock refuses a file whose mode would
 * let it run: those are the policy's.
 */
#include <stdio.h>
#include <stdlib.h>
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

/* Read the file-system id, the fourth of a Uid: or Gid: line. */
static int fs_id(const char *field, unsigned long *id)
{
	unsigned long real, effective, saved;

	return field && sscanf(field, "%lu %lu %lu %lu", &real, &effective,
			       &saved, id) == 4 ? 0 : -1;
}

static int read_creds(pid_t tid, gid_t file_gid, struct creds *c)
{
	char text[TRACER_STATUS_BYTES];
	const char *groups, *caps_field;
	unsigned long uid, gid;
	unsigned long long caps;

	if (tracer_status_text(tid, text, sizeof(text)) < 0 ||
	    fs_id(tracer_status_field(text, "Uid:"), &uid) < 0 ||
	    fs_id(tracer_status_field(text, "Gid:"), &gid) < 0)
		return -1;
	caps_field = tracer_status_field(text, "CapEff:");
	if (!caps_field || sscanf(caps_field, "%llx", &caps) != 1)
		return -1;

	groups = tracer_status_field(text, "Groups:");
	c->fsuid = (uid_t)uid;
	c->fsgid = (gid_t)gid;
	c->in_group = groups && has_group(groups, file_gid);
	c->dac_override = caps & (1ull << DAC_OVERRIDE_BIT);
	return 0;
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
