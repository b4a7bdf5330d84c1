/*
 * sockets.c - the Unix sockets of a recorded workspace (sockets.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "bundle/snapshot.h"
#include "replay/sockets.h"

bool replay_entry_is_socket(const struct bundle_tree_entry *e)
{
	return e && e->kind == BUNDLE_ENTRY_SPECIAL && S_ISSOCK(e->mode);
}

struct listing {
	long n;
	char *names;
	size_t len;
};

static int add_name(const unsigned char *path, size_t len,
		    enum bundle_change change,
		    const struct bundle_tree_entry *old,
		    const struct bundle_tree_entry *new, void *arg)
{
	struct listing *l = arg;
	size_t used = strlen(l->names);

	(void)change;
	(void)old;
	if (!replay_entry_is_socket(new))
		return 0;
	if (l->n++ < 3 && used + len + 8 < l->len)
		snprintf(l->names + used, l->len - used, "%s%.*s",
			 used ? ", " : "", (int)len, (const char *)path);
	return 0;
}

long replay_run_sockets(const struct replay_run *run,
			const struct bundle_id *root, char *names, size_t len)
{
	struct listing l = {.names = names, .len = len};

	names[0] = '\0';
	if (bundle_snapshot_diff(run->bundle, NULL, root, add_name, &l) != 0) {
		replay_set_error("cannot read a snapshot: '%s': %s", run->path,
				 bundle_error());
		return -1;
	}
	return l.n;
}

int replay_open_parent(int dirfd, const char *path)
{
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
			   RESOLVE_NO_MAGICLINKS,
	};
	const char *slash = strrchr(path, '/');
	char parent[4096];

	if (!slash)
		return fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	if ((size_t)(slash - path) >= sizeof(parent))
		return -1;
	memcpy(parent, path, (size_t)(slash - path));
	parent[slash - path] = '\0';
	return (int)syscall(SYS_openat2, dirfd, parent, &how, sizeof(how));
}

/* Bind through /proc/self/fd, so that a deep path fits in sun_path. */
static void make_one(int dirfd, const char *path, mode_t mode)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	int parent = replay_open_parent(dirfd, path);
	int fd, n;

	if (parent < 0)
		return;
	n = snprintf(addr.sun_path, sizeof(addr.sun_path),
		     "/proc/self/fd/%d/%s", parent, name);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && n > 0 && (size_t)n < sizeof(addr.sun_path) &&
	    bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
		fchmodat(parent, name, mode & 07777, 0);
	if (fd >= 0)
		close(fd);
	close(parent);
}

struct maker {
	int dirfd;
};

static int make_entry(const unsigned char *path, size_t len,
		      enum bundle_change change,
		      const struct bundle_tree_entry *old,
		      const struct bundle_tree_entry *new, void *arg)
{
	const struct maker *m = arg;
	char buf[4096];

	(void)change;
	(void)old;
	if (!replay_entry_is_socket(new) || len >= sizeof(buf) ||
	    memchr(path, '\0', len))
		return 0;
	memcpy(buf, path, len);
	buf[len] = '\0';
	make_one(m->dirfd, buf, new->mode);
	return 0;
}

int replay_make_sockets(const struct replay_run *run,
			const struct bundle_id *root, const char *dir)
{
	struct maker m = {.dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)};
	int rc;

	if (m.dirfd < 0) {
		replay_set_error("cannot open the workspace: '%s': %s", dir,
				 strerror(errno));
		return -1;
	}
	rc = bundle_snapshot_diff(run->bundle, NULL, root, make_entry, &m);
	close(m.dirfd);
	if (rc != 0) {
		replay_set_error("cannot read a snapshot: '%s': %s", run->path,
				 bundle_error());
		return -1;
	}
	return 0;
}
