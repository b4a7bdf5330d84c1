/*
 * tracer_walk.c - find the file that an exec names, as the tracee's own
 * path lookup finds it.
 *
 * The tracee's root need not be the tracer's: the sandbox and a chroot
 * give it another. An absolute path therefore resolves with openat2's
 * RESOLVE_IN_ROOT from a descriptor of that root. A relative path is
 * walked one component at a time from the tracee's directory, because
 * only a walk detects where ".." must stop at the tracee's root and
 * where an absolute symlink jumps to it. Each step opens from the
 * descriptor of the step before, so a rename elsewhere cannot redirect
 * the walk, and a directory reached by ".." keeps the mount it is on.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "harness/tracer_internal.h"

/* The symlinks a lookup follows at most: the kernel's MAXSYMLINKS. */
#define TRACER_MAX_LINKS 40

static bool same_root(const struct tracer_root *root,
		      const struct statx *stx)
{
	return root->known && (stx->stx_mask & STATX_MNT_ID) &&
	       root->dev_major == stx->stx_dev_major &&
	       root->dev_minor == stx->stx_dev_minor &&
	       root->ino == stx->stx_ino && root->mnt_id == stx->stx_mnt_id;
}

/*
 * Return a descriptor of tid's root directory, or -1. The tracer keeps
 * it open because nearly every process has the same root, and a statx
 * of /proc/TID/root costs less than an open and a close. The same inode
 * on the same mount is the same directory with the same mounts below
 * it. The open descriptor pins the mount, so its id is not reused.
 */
int tracer_root_fd(struct tracer_root *root, pid_t tid)
{
	char path[64];
	struct statx stx;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/root", (int)tid);
	if (root->fd >= 0 &&
	    statx(AT_FDCWD, path, 0, STATX_INO | STATX_MNT_ID, &stx) == 0 &&
	    same_root(root, &stx))
		return root->fd;

	fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (root->fd >= 0)
		close(root->fd);
	root->fd = fd;
	root->known = statx(fd, "", AT_EMPTY_PATH, STATX_INO | STATX_MNT_ID,
			    &stx) == 0 && (stx.stx_mask & STATX_MNT_ID);
	root->dev_major = stx.stx_dev_major;
	root->dev_minor = stx.stx_dev_minor;
	root->ino = stx.stx_ino;
	root->mnt_id = stx.stx_mnt_id;
	return fd;
}

void tracer_root_release(struct tracer_root *root)
{
	if (root->fd >= 0)
		close(root->fd);
	root->fd = -1;
}

/* Whether fd is tid's root directory, where ".." stays. */
static bool at_root(struct tracer_root *root, pid_t tid, int fd)
{
	struct statx stx;

	if (tracer_root_fd(root, tid) < 0)
		return false;
	return statx(fd, "", AT_EMPTY_PATH, STATX_INO | STATX_MNT_ID,
		     &stx) == 0 && same_root(root, &stx);
}

/* Replace *rest with head, a slash and *rest from after. */
static int join_rest(char **rest, const char *head, const char *after)
{
	char *s = malloc(strlen(head) + strlen(after) + 2);

	if (!s)
		return -1;
	sprintf(s, "%s/%s", head, after);
	free(*rest);
	*rest = s;
	return 0;
}

/* Open target, a symlink's absolute target, and after it the rest of
 * the path, from tid's root. */
static int from_root(struct tracer_root *root, pid_t tid,
		     const char *target, const char *after, int flags)
{
	struct open_how how = { .flags = (uint64_t)flags,
				.resolve = RESOLVE_IN_ROOT };
	char *path = NULL;
	int rootfd = tracer_root_fd(root, tid), fd = -1;

	if (rootfd >= 0 && join_rest(&path, target, after) == 0)
		fd = (int)syscall(SYS_openat2, rootfd, path, &how,
				  sizeof(how));
	free(path);
	return fd;
}

/* Read the symlink that fd was opened on, with O_PATH | O_NOFOLLOW.
 * NULL for a /proc link, whose text is not where it leads. */
static char *read_link(int fd)
{
	char buf[PATH_MAX];
	struct statfs fs;
	ssize_t n;

	if (fstatfs(fd, &fs) < 0 || fs.f_type == PROC_SUPER_MAGIC)
		return NULL;
	n = readlinkat(fd, "", buf, sizeof(buf) - 1);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	return strdup(buf);
}

/* Reopen the file that an O_PATH descriptor names, with flags. */
static int reopen(int fd, int flags)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return open(path, flags);
}

/* Open the component name at dir with O_PATH, not following a symlink:
 * "." is dir, and ".." stays at tid's root. */
static int open_component(struct tracer_root *root, pid_t tid, int dir,
			  const char *name)
{
	struct open_how how = { .flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
				.resolve = RESOLVE_NO_MAGICLINKS };

	if (strcmp(name, ".") == 0 ||
	    (strcmp(name, "..") == 0 && at_root(root, tid, dir)))
		return dup(dir);
	if (strcmp(name, "..") == 0)
		return openat(dir, "..", O_PATH | O_CLOEXEC);
	return (int)syscall(SYS_openat2, dir, name, &how, sizeof(how));
}

/*
 * Walk name one component at a time from *dir, which the walk owns,
 * and open its last one with flags. A symlink with an absolute target
 * ends the walk in tid's root, where openat2 takes the rest.
 */
static int walk(struct tracer_root *root, pid_t tid, int *dir,
		char **rest, int flags)
{
	int links = 0;

	for (;;) {
		char *name = *rest + strspn(*rest, "/");
		size_t len = strcspn(name, "/");
		char *after = name + len + strspn(name + len, "/");
		struct stat st;
		char *target;
		int fd, rc;

		if (len == 0)
			return reopen(*dir, flags);
		name[len] = '\0';
		fd = open_component(root, tid, *dir, name);
		if (fd < 0 || fstat(fd, &st) < 0) {
			if (fd >= 0)
				close(fd);
			return -1;
		}
		if (!S_ISLNK(st.st_mode)) {
			close(*dir);
			*dir = fd;
			if (*after == '\0')
				return reopen(*dir, flags);
			memmove(*rest, after, strlen(after) + 1);
			continue;
		}

		target = read_link(fd);
		close(fd);
		if (!target || ++links > TRACER_MAX_LINKS) {
			free(target);
			return -1;
		}
		if (target[0] == '/') {
			fd = from_root(root, tid, target, after, flags);
			free(target);
			return fd;
		}
		rc = join_rest(rest, target, after);
		free(target);
		if (rc < 0)
			return -1;
	}
}

int tracer_walk(struct harness_tracer *tracer, pid_t tid, int dirfd,
		const char *name, int flags)
{
	char *rest = strdup(name);
	int dir = dup(dirfd), fd = -1;

	if (rest && dir >= 0)
		fd = walk(&tracer->root, tid, &dir, &rest, flags);
	if (dir >= 0)
		close(dir);
	free(rest);
	return fd;
}
