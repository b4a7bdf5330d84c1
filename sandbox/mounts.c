/*
 * mounts.c - assemble the sandbox's root on tmpfs and pivot into it.
 *
 * Runs in the sandbox's init, in its own mount namespace, before the
 * pivot. The new root is a tmpfs mounted over /tmp of this namespace
 * (the host's /tmp is untouched). Every host path is opened with O_PATH
 * before that tmpfs hides anything, and bound through /proc/self/fd/N,
 * so a bind takes exactly the file that was opened. Targets inside the
 * new root are resolved with openat2(RESOLVE_IN_ROOT) or
 * RESOLVE_BENEATH, so a symlink in the workspace cannot redirect a
 * mount to the host's tree.
 *
 * The order matters. The private /tmp and HOME come before the
 * workspace, because it may lie below either. The hidden paths and the
 * exec masks come last, so that they cover whatever became visible.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/error.h"
#include "sandbox/internal.h"

/* The mount point of the new root before the pivot. */
#define NEWROOT "/tmp"

#define ATTR_RO (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV)

/* The file of the new root that covers denied commands. It is made
 * before the private /tmp is mounted over its directory, which then
 * hides it. */
#define DENY_FILE "tmp/.runbundle-exec-mask"

static const char *const device_nodes[] = {
	"null", "zero", "full", "random", "urandom", "tty",
};

static const char *const device_links[][2] = {
	{ "fd", "/proc/self/fd" },     { "stdin", "/proc/self/fd/0" },
	{ "stdout", "/proc/self/fd/1" }, { "stderr", "/proc/self/fd/2" },
	{ "ptmx", "pts/ptmx" },       { "core", "/proc/kcore" },
};

/* Parts of /proc bound read-only over themselves, as bubblewrap does. */
static const char *const proc_read_only[] = {
	"sys", "sysrq-trigger", "irq", "bus",
};

struct build {
	const struct sandbox_plan *plan;
	cJSON *mounts;
	int root;	/* O_PATH fd of NEWROOT */
	dev_t root_dev;	/* its device, to tell its own directories */
	dev_t devnull_rdev;
	int devnull;	/* O_PATH fd of the host's /dev/null */
	int mask_file;	/* O_PATH fd of the first masked file, or -1 */
	int mask_dir;	/* O_PATH fd of the first masked directory, or -1 */
	dev_t mask_dir_dev;
	int deny_source; /* O_PATH fd of the file that covers denied
			  * commands (deny_source()), or -1 */
	int deny_file;	/* O_PATH fd of the first denied command
			 * masked, or -1 */
	int ws;		/* O_PATH fd of the workspace */
	int seed;	/* the HOME seed directory, or -1 */
	int *ro;	/* per read_only entry: O_PATH fd, or -1 */
	char **ro_link;	/* per read_only entry: symlink text, or NULL */
};

static void record(struct build *b, const char *path, const char *type,
		   const char *options, const char *host_source)
{
	cJSON *m = cJSON_CreateObject();

	if (!m)
		return;
	cJSON_AddStringToObject(m, "path", path);
	cJSON_AddStringToObject(m, "type", type);
	if (options)
		cJSON_AddStringToObject(m, "options", options);
	if (host_source)
		cJSON_AddStringToObject(m, "host_source", host_source);
	cJSON_AddItemToArray(b->mounts, m);
}

static int fail(const char *what, const char *path)
{
	int err = errno;

	sandbox_set_error("cannot %s: '%s': %s", what, path, strerror(err));
	/* Another user's run may have made the part for itself, with that
	 * user's umask (docs/policy.md). */
	if (strcmp(what, "open the workspace part") == 0 && err == EACCES)
		sandbox_set_hint("make the part and the directories above it "
				 "readable to you. If another user's run "
				 "created it, it goes when that run ends");
	if (strcmp(what, "open the HOME seed") == 0)
		sandbox_set_hint("create the directory that seeds HOME, or "
				 "take home.seed out of the policy");
	/* The copy runs in the sandbox's user namespace, where even root
	 * has no right to the files of an owner that it does not map. */
	if (strcmp(what, "copy the HOME seed") == 0 && err == EACCES)
		sandbox_set_hint("the copy runs in the sandbox, where even "
				 "root reads only its own files and what the "
				 "mode lets others read. Give the file to "
				 "yourself or make it readable to all "
				 "(chmod a+r), or move it out of the seed");
	return -1;
}

static int openat2_path(int dirfd, const char *path, uint64_t resolve)
{
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC,
		.resolve = resolve,
	};

	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

static void fd_path(char *buf, size_t len, int fd)
{
	snprintf(buf, len, "/proc/self/fd/%d", fd);
}

/*
 * Make a mount read-only, nosuid and nodev, with its submounts.
 * mount_setattr() (Linux 5.12) adds flags without clearing the ones the
 * kernel locked; the fallback remounts only the top mount and keeps
 * those locked flags itself.
 */
static int set_attr(const char *target, uint64_t set, bool recursive)
{
	struct mount_attr attr = { .attr_set = set };
	struct statvfs sv;
	unsigned long flags = MS_REMOUNT | MS_BIND;

	if (mount_setattr(AT_FDCWD, target, recursive ? AT_RECURSIVE : 0,
			  &attr, sizeof(attr)) == 0)
		return 0;
	if (errno != ENOSYS || statvfs(target, &sv) < 0)
		return -1;
	if (set & MOUNT_ATTR_RDONLY)
		flags |= MS_RDONLY;
	if ((set & MOUNT_ATTR_NOSUID) || (sv.f_flag & ST_NOSUID))
		flags |= MS_NOSUID;
	if ((set & MOUNT_ATTR_NODEV) || (sv.f_flag & ST_NODEV))
		flags |= MS_NODEV;
	if ((set & MOUNT_ATTR_NOEXEC) || (sv.f_flag & ST_NOEXEC))
		flags |= MS_NOEXEC;
	return mount(NULL, target, NULL, flags, NULL);
}

static const char *attr_text(uint64_t attr)
{
	if (attr & MOUNT_ATTR_NOEXEC)
		return "ro,nosuid,noexec";
	return (attr & MOUNT_ATTR_RDONLY) ? "ro,nosuid,nodev"
					  : "rw,nosuid,nodev";
}

/*
 * Create buf, a path that starts with NEWROOT, and the missing
 * directories above it. The deepest one is tried first, because most
 * parents exist already: each mkdir() that fails with EEXIST costs a
 * lookup as well.
 */
static int make_dirs_below_root(char *buf, mode_t mode)
{
	char *slash;
	int rc;

	if (mkdir(buf, mode) == 0 || errno == EEXIST)
		return 0;
	slash = strrchr(buf, '/');
	if (errno != ENOENT || !slash || slash < buf + strlen(NEWROOT))
		return -1;
	*slash = '\0';
	rc = make_dirs_below_root(buf, mode);
	*slash = '/';
	if (rc < 0)
		return -1;
	return mkdir(buf, mode) == 0 || errno == EEXIST ? 0 : -1;
}

/* mkdir -p below NEWROOT; path is absolute inside the sandbox. */
static int make_dirs(const char *path, mode_t mode)
{
	char buf[PATH_MAX + sizeof(NEWROOT)];

	snprintf(buf, sizeof(buf), NEWROOT "%s", path);
	if (make_dirs_below_root(buf, mode) < 0)
		return fail("create the mount point", path);
	return 0;
}

/* Create buf, an empty regular file, or keep the entry there. */
static int make_empty(const char *buf)
{
	/* mknod() needs no descriptor to close, unlike open(O_CREAT). */
	return mknod(buf, S_IFREG | 0644, 0) == 0 || errno == EEXIST ? 0 : -1;
}

/* An empty regular file as the mount point of a file bind. Its
 * directory is created only when it is missing, as make_dirs() does. */
static int make_file(const char *path)
{
	char buf[PATH_MAX + sizeof(NEWROOT)];
	char parent[PATH_MAX];
	char *slash;

	snprintf(buf, sizeof(buf), NEWROOT "%s", path);
	if (make_empty(buf) == 0)
		return 0;
	if (errno == ENOENT) {
		snprintf(parent, sizeof(parent), "%s", path);
		slash = strrchr(parent, '/');
		if (slash && slash != parent) {
			*slash = '\0';
			if (make_dirs(parent, 0755) < 0)
				return -1;
		}
		if (make_empty(buf) == 0)
			return 0;
	}
	return fail("create the mount point", path);
}

static int mount_tmpfs(struct build *b, const char *path, const char *opts,
		       unsigned long flags)
{
	char target[PATH_MAX + sizeof(NEWROOT)];

	if (make_dirs(path, 0755) < 0)
		return -1;
	snprintf(target, sizeof(target), NEWROOT "%s", path);
	if (mount("tmpfs", target, "tmpfs", flags, opts) < 0)
		return fail("mount a tmpfs", path);
	record(b, path, "tmpfs", opts, NULL);
	return 0;
}

/*
 * Mount a tmpfs that the agent writes to, at most the policy's memory
 * limit in size. Its pages are no address space, so RLIMIT_AS, the
 * memory limit without a cgroup, would let the agent fill the host's
 * memory through files. A cgroup counts them, and then the size only
 * makes a full file system fail first.
 */
static int mount_writable_tmpfs(struct build *b, const char *path,
				const char *mode, unsigned long flags)
{
	uint64_t size = b->plan->policy->limits.memory_bytes;
	char opts[64];

	if (size)
		snprintf(opts, sizeof(opts), "mode=%s,size=%llu", mode,
			 (unsigned long long)size);
	else
		snprintf(opts, sizeof(opts), "mode=%s", mode);
	return mount_tmpfs(b, path, opts, flags);
}

/* Bind the file or directory open as src at path, with attributes. */
static int bind_fd(struct build *b, int src, const char *path, uint64_t attr,
		   const char *host_source)
{
	char from[64], target[PATH_MAX + sizeof(NEWROOT)];
	struct stat st;

	if (fstat(src, &st) < 0)
		return fail("stat", host_source ? host_source : path);
	if (S_ISDIR(st.st_mode) ? make_dirs(path, 0755) : make_file(path))
		return -1;
	fd_path(from, sizeof(from), src);
	snprintf(target, sizeof(target), NEWROOT "%s", path);
	if (mount(from, target, NULL, MS_BIND | MS_REC, NULL) < 0)
		return fail("bind", path);
	if (attr && set_attr(target, attr, true) < 0)
		return fail("restrict the mount", path);
	record(b, path, "bind", attr_text(attr), host_source);
	return 0;
}

static int bind_read_only(struct build *b, size_t i)
{
	const char *path = b->plan->policy->read_only.items[i];
	char target[PATH_MAX + sizeof(NEWROOT)];

	if (b->ro_link[i]) {
		snprintf(target, sizeof(target), NEWROOT "%s", path);
		if (symlink(b->ro_link[i], target) < 0 && errno != EEXIST)
			return fail("create the symlink", path);
		record(b, path, "symlink", b->ro_link[i], NULL);
		return 0;
	}
	if (b->ro[i] < 0)
		return 0;
	return bind_fd(b, b->ro[i], path, ATTR_RO, path);
}

/* Open one read_only entry before the new root hides the host's /tmp;
 * a missing entry is skipped, a symlink is recreated as it is. */
static int open_read_only(struct build *b, size_t i)
{
	const char *path = b->plan->policy->read_only.items[i];
	char link[PATH_MAX];
	struct stat st;
	ssize_t n;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : fail("stat", path);
	if (S_ISLNK(st.st_mode)) {
		n = readlink(path, link, sizeof(link) - 1);
		if (n < 0)
			return fail("read the symlink", path);
		link[n] = '\0';
		b->ro_link[i] = strdup(link);
		return b->ro_link[i] ? 0 : fail("read the symlink", path);
	}
	b->ro[i] = open(path, O_PATH | O_CLOEXEC);
	return b->ro[i] < 0 ? fail("open", path) : 0;
}

static int open_sources(struct build *b)
{
	const struct sandbox_policy *p = b->plan->policy;
	size_t n = p->read_only.count;

	b->ro = malloc((n + 1) * sizeof(*b->ro));
	b->ro_link = calloc(n + 1, sizeof(*b->ro_link));
	if (!b->ro || !b->ro_link) {
		errno = ENOMEM;
		return fail("open", "the read-only paths");
	}
	for (size_t i = 0; i < n; i++)
		b->ro[i] = -1;
	for (size_t i = 0; i < n; i++) {
		if (open_read_only(b, i) < 0)
			return -1;
	}
	b->ws = open(b->plan->workspace, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (b->ws < 0)
		return fail("open the workspace", b->plan->workspace);
	if (!p->home_seed)
		return 0;
	b->seed = open(p->home_seed, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return b->seed < 0 ? fail("open the HOME seed", p->home_seed) : 0;
}

static void close_sources(struct build *b)
{
	size_t n = b->plan->policy->read_only.count;

	for (size_t i = 0; b->ro && i < n; i++) {
		if (b->ro[i] >= 0)
			close(b->ro[i]);
	}
	for (size_t i = 0; b->ro_link && i < n; i++)
		free(b->ro_link[i]);
	free(b->ro);
	free(b->ro_link);
	if (b->ws >= 0)
		close(b->ws);
	if (b->seed >= 0)
		close(b->seed);
}

/*
 * Bind the host's node /dev/name onto an empty file in the new /dev. A
 * node missing on the host is left out. The source is named by path,
 * as the host's /dev is still in place: an fd would cost an open, a
 * close and a lookup through /proc/self/fd for each node.
 */
static int bind_device(struct build *b, const char *name)
{
	char host[32], target[64];
	/* Read-only blocks chmod of the host's node. Writing to a device
	 * on a read-only mount still works. */
	uint64_t attr = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
			MOUNT_ATTR_NOEXEC;

	snprintf(host, sizeof(host), "/dev/%s", name);
	snprintf(target, sizeof(target), NEWROOT "/dev/%s", name);
	if (make_file(host) < 0)
		return -1;
	if (mount(host, target, NULL, MS_BIND, NULL) < 0) {
		if (errno != ENOENT)
			return fail("bind", host);
		unlink(target);
		return 0;
	}
	if (set_attr(target, attr, false) < 0)
		return fail("restrict the mount", host);
	record(b, host, "bind", attr_text(attr), host);
	return 0;
}

static int build_dev(struct build *b)
{
	char target[PATH_MAX];

	if (mount_tmpfs(b, "/dev", "mode=0755,size=64k",
			MS_NOSUID | MS_NOEXEC) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(device_nodes) / sizeof(*device_nodes);
	     i++) {
		if (bind_device(b, device_nodes[i]) < 0)
			return -1;
	}
	for (size_t i = 0; i < sizeof(device_links) / sizeof(*device_links);
	     i++) {
		snprintf(target, sizeof(target), NEWROOT "/dev/%s",
			 device_links[i][0]);
		if (symlink(device_links[i][1], target) < 0)
			return fail("create the symlink",
				    target + strlen(NEWROOT));
	}
	if (make_dirs("/dev/pts", 0755) < 0 ||
	    mount("devpts", NEWROOT "/dev/pts", "devpts",
		  MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620")
		    < 0)
		return fail("mount devpts", "/dev/pts");
	record(b, "/dev/pts", "devpts", "newinstance,ptmxmode=0666", NULL);
	return mount_writable_tmpfs(b, "/dev/shm", "1777",
				    MS_NOSUID | MS_NODEV | MS_NOEXEC);
}

/*
 * vm.memfd_noexec = 2 in the sandbox's PID namespace: no memfd can be
 * executed, which closes the one way around the exec allowlist that
 * Landlock cannot see. Only a caller that is root on the host may write
 * it, so elsewhere it stays as the host set it, and the description
 * records which.
 */
static void set_memfd_noexec(struct build *b)
{
	const char *path = NEWROOT "/proc/sys/vm/memfd_noexec";
	char value[16] = "";
	int fd;

	sandbox_write_file(path, "2");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, value, sizeof(value) - 1);

		value[n > 0 ? n : 0] = '\0';
		value[strcspn(value, "\n")] = '\0';
		close(fd);
	}
	record(b, "/proc/sys/vm/memfd_noexec", "sysctl",
	       value[0] ? value : "unsupported", NULL);
}

static int build_proc(struct build *b)
{
	char target[64];

	if (make_dirs("/proc", 0555) < 0)
		return -1;
	if (mount("proc", NEWROOT "/proc", "proc",
		  MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return fail("mount proc", "/proc");
	record(b, "/proc", "proc", "nosuid,nodev,noexec", NULL);
	set_memfd_noexec(b);
	for (size_t i = 0;
	     i < sizeof(proc_read_only) / sizeof(*proc_read_only); i++) {
		snprintf(target, sizeof(target), NEWROOT "/proc/%s",
			 proc_read_only[i]);
		if (access(target, F_OK) < 0)
			continue;
		if (mount(target, target, NULL, MS_BIND | MS_REC, NULL) < 0 ||
		    set_attr(target, ATTR_RO | MOUNT_ATTR_NOEXEC, true) < 0)
			return fail("make read-only", target);
	}
	return 0;
}

/* Copy state for the nftw() callback, which takes no argument. */
static struct {
	const char *from;
	size_t from_len;
	const char *to;
	char failed[PATH_MAX]; /* the entry that could not be copied,
				* relative to the seed, "" for its top */
} seed;

static int copy_file(const char *src, const char *dst, mode_t mode)
{
	char buf[65536];
	ssize_t n = 0;
	int in, out, rc = 0;

	in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (in < 0)
		return -1;
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (out < 0) {
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		if (write(out, buf, (size_t)n) != n) {
			rc = -1;
			break;
		}
	}
	if (n < 0)
		rc = -1;
	close(in);
	if (close(out) < 0)
		rc = -1;
	return rc;
}

static int copy_entry(const char *path, const struct stat *st, int type)
{
	char dst[PATH_MAX * 2], link[PATH_MAX];
	mode_t mode = st->st_mode & 0777;
	ssize_t n;

	snprintf(dst, sizeof(dst), "%s%s", seed.to, path + seed.from_len);
	switch (type) {
	case FTW_D:
		if (path[seed.from_len] == '\0')
			return 0;
		return mkdir(dst, mode | 0700) < 0 ? -1 : 0;
	case FTW_F:
		if (!S_ISREG(st->st_mode))
			return 0;
		return copy_file(path, dst, mode);
	case FTW_SL:
		n = readlink(path, link, sizeof(link) - 1);
		if (n < 0)
			return -1;
		link[n] = '\0';
		return symlink(link, dst);
	default:
		errno = EACCES;
		return -1;
	}
}

/* Copy one entry for nftw(), and keep its path when the copy fails. */
static int seed_visit(const char *path, const struct stat *st, int type,
		      struct FTW *ftw)
{
	int err;

	(void)ftw;
	if (copy_entry(path, st, type) == 0)
		return 0;
	err = errno;
	snprintf(seed.failed, sizeof(seed.failed), "%s",
		 path + seed.from_len);
	errno = err;
	return -1;
}

/* HOME is a private tmpfs, seeded with a copy of the policy's host
 * directory so that the agent's changes never reach the host. */
static int build_home(struct build *b)
{
	const char *home = b->plan->policy->home_path;
	const char *from = b->plan->policy->home_seed;
	char to[PATH_MAX + sizeof(NEWROOT)], walk[64];

	if (mount_writable_tmpfs(b, home, "0700", MS_NOSUID | MS_NODEV) < 0)
		return -1;
	if (b->seed < 0)
		return 0;
	snprintf(to, sizeof(to), NEWROOT "%s", home);
	/* The trailing "/." makes nftw() follow the magic link. */
	snprintf(walk, sizeof(walk), "/proc/self/fd/%d/.", b->seed);
	seed.from = walk;
	seed.from_len = strlen(walk);
	seed.to = to;
	seed.failed[0] = '\0';
	if (nftw(walk, seed_visit, 16, FTW_PHYS) != 0) {
		char path[PATH_MAX * 2];

		snprintf(path, sizeof(path), "%s%s", from, seed.failed);
		return fail("copy the HOME seed", path);
	}
	record(b, home, "seed", NULL, from);
	return 0;
}

/* Whether the mounts so far have one at path. */
static bool has_mount(const struct build *b, const char *path)
{
	const cJSON *m;

	cJSON_ArrayForEach(m, b->mounts) {
		const char *at = cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(m, "path"));

		if (at && strcmp(at, path) == 0)
			return true;
	}
	return false;
}

/* Open a workspace part relative to the workspace's host directory,
 * refusing to leave it or to follow a symlink. */
static int open_part(int ws, const char *rel)
{
	return openat2_path(ws, rel, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
					     RESOLVE_NO_MAGICLINKS |
					     RESOLVE_NO_XDEV);
}

/*
 * Bind every directory above rel in the workspace onto itself,
 * writable as before. A mount point cannot be renamed or removed
 * (EBUSY), so the agent cannot move a read-only part aside, with the
 * directory that contains it, and create an unprotected one in its
 * place. A directory bound already is left alone.
 */
static int pin_ancestors(struct build *b, int ws, const char *rel)
{
	char prefix[PATH_MAX], path[PATH_MAX * 2];
	struct stat st;

	for (const char *p = strchr(rel, '/'); p; p = strchr(p + 1, '/')) {
		int fd;

		snprintf(prefix, sizeof(prefix), "%.*s", (int)(p - rel), rel);
		snprintf(path, sizeof(path), "%s/%s", b->plan->inside, prefix);
		if (has_mount(b, path))
			continue;
		fd = open_part(ws, prefix);
		if (fd < 0 || fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
			if (fd >= 0)
				close(fd);
			return fail("open the workspace part", path);
		}
		if (bind_fd(b, fd, path, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
			    NULL) < 0) {
			close(fd);
			return -1;
		}
		close(fd);
		cJSON_AddStringToObject(cJSON_GetArrayItem(b->mounts,
				cJSON_GetArraySize(b->mounts) - 1), "pins",
				rel);
	}
	return 0;
}

/*
 * Create one directory of a part with the file modes applied as they
 * are to the agent. init is root in its user namespace, with
 * CAP_DAC_OVERRIDE over the caller's files, so it could write into a
 * workspace that the caller made read-only, where the caller, on the
 * host, could neither write nor remove the directory again.
 */
static int mkdir_as_agent(int ws, const char *rel)
{
	int rc, saved;

	if (sandbox_privs_file_override(false) < 0)
		return -1;
	rc = mkdirat(ws, rel, 0755);
	saved = errno;
	if (sandbox_privs_file_override(true) < 0)
		return -1;
	errno = saved;
	return rc;
}

/*
 * Keep the directories made for a part whose protection failed, from
 * created down to deepest, so that the caller removes them with the
 * rest: setup_mounts() sends the list even when the build fails.
 * Returns -1, the build's error.
 */
static int made_so_far(struct build *b, const char *rel, const char *deepest,
		       const char *created)
{
	cJSON *m;

	if (!created[0])
		return -1;
	record(b, rel, "none", NULL, NULL);
	m = cJSON_GetArrayItem(b->mounts, cJSON_GetArraySize(b->mounts) - 1);
	cJSON_AddStringToObject(m, "covers", deepest);
	cJSON_AddStringToObject(m, "created", created);
	return -1;
}

/*
 * Protect a read-only part whose first component is missing too, so
 * that the only directory above it is the workspace, which must stay
 * writable. The part is created in the host's workspace, as an empty
 * directory owned by the caller, and bound read-only. The mount's
 * "created" names the first directory made for it: after the run,
 * sandbox_wait() removes the chain again, deepest first, as far as the
 * directories are still empty. No agent process exists yet, and every
 * step refuses symlinks, so the part is the directory that was made.
 */
static int protect_created(struct build *b, int ws, const char *rel)
{
	char prefix[PATH_MAX], path[PATH_MAX * 2], created[PATH_MAX] = "";
	char deepest[PATH_MAX] = "";
	size_t len = strlen(rel);
	cJSON *m;
	int fd;

	for (size_t i = 0; i <= len; i++) {
		if (rel[i] != '/' && rel[i] != '\0')
			continue;
		snprintf(prefix, sizeof(prefix), "%.*s", (int)i, rel);
		fd = open_part(ws, prefix);
		if (fd >= 0) {
			close(fd);
			continue;
		}
		if (errno != ENOENT) {
			fail("open the workspace part", prefix);
			return made_so_far(b, rel, deepest, created);
		}
		if (mkdir_as_agent(ws, prefix) == 0) {
			if (!created[0])
				snprintf(created, sizeof(created), "%s",
					 prefix);
			snprintf(deepest, sizeof(deepest), "%s", prefix);
			continue;
		}
		/* The agent, with the same ids and no capability, could
		 * not create the part either. */
		if (!created[0] && (errno == EACCES || errno == EPERM ||
				    errno == EROFS)) {
			snprintf(path, sizeof(path), "%s/%s", b->plan->inside,
				 rel);
			record(b, path, "absent", NULL, NULL);
			return 0;
		}
		fail("create the read-only part", prefix);
		return made_so_far(b, rel, deepest, created);
	}
	snprintf(path, sizeof(path), "%s/%s", b->plan->inside, rel);
	if (pin_ancestors(b, ws, rel) < 0)
		return made_so_far(b, rel, deepest, created);
	fd = open_part(ws, rel);
	if (fd < 0) {
		fail("open the workspace part", path);
		return made_so_far(b, rel, deepest, created);
	}
	if (bind_fd(b, fd, path, ATTR_RO, NULL) < 0) {
		close(fd);
		return made_so_far(b, rel, deepest, created);
	}
	close(fd);
	m = cJSON_GetArrayItem(b->mounts, cJSON_GetArraySize(b->mounts) - 1);
	cJSON_AddStringToObject(m, "covers", rel);
	if (created[0])
		cJSON_AddStringToObject(m, "created", created);
	return 0;
}

/*
 * Whether a replay requests rel to be created below the existing
 * directory at fd, as its recording created it. There the part's first
 * component was missing, but the snapshot of a later step may contain
 * it (the agent wrote .git/config), and binding it read-only would then
 * deny writes that the recording allowed.
 */
static bool made_before(const struct sandbox_config *c, const char *rel,
			int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode))
		return false;
	for (size_t i = 0; i < c->n_make_parts; i++) {
		if (strcmp(c->make_parts[i], rel) == 0)
			return true;
	}
	return false;
}

/*
 * Protect a read-only part that does not exist: a mount needs an
 * existing mount point, and creating one would write to the host's
 * workspace. So the deepest existing entry above the part is bound
 * read-only instead, which keeps its content visible and makes the
 * whole of it read-only, the part included. That entry may be a file:
 * in a git worktree or submodule, .git is a file, so .git/hooks cannot
 * exist, and binding the file keeps the agent from replacing it with a
 * directory.
 */
static int protect_absent(struct build *b, int ws, const char *rel)
{
	char parent[PATH_MAX], path[PATH_MAX * 2];
	char *slash;
	int fd = -1;

	snprintf(parent, sizeof(parent), "%s", rel);
	while ((slash = strrchr(parent, '/'))) {
		*slash = '\0';
		fd = open_part(ws, parent);
		if (fd >= 0 || (errno != ENOENT && errno != ENOTDIR))
			break;
	}
	snprintf(path, sizeof(path), "%s/%s", b->plan->inside, rel);
	if (!slash && b->plan->config->create_missing_parts)
		return protect_created(b, ws, rel);
	if (slash && fd >= 0 && made_before(b->plan->config, rel, fd)) {
		close(fd);
		return protect_created(b, ws, rel);
	}
	/* NOTE: without create_missing_parts, a part whose first component
	 * is missing has only the workspace above it, which must stay
	 * writable, so the agent may create the part. */
	if (!slash) {
		record(b, path, "absent", NULL, NULL);
		return 0;
	}
	if (fd < 0)
		return fail("open the workspace part", path);
	snprintf(path, sizeof(path), "%s/%s", b->plan->inside, parent);
	if (pin_ancestors(b, ws, parent) < 0) {
		close(fd);
		return -1;
	}
	if (bind_fd(b, fd, path, ATTR_RO, NULL) < 0) {
		close(fd);
		return -1;
	}
	close(fd);
	/* The description names the absent part that this mount covers. */
	cJSON_AddStringToObject(cJSON_GetArrayItem(b->mounts,
			cJSON_GetArraySize(b->mounts) - 1), "covers", rel);
	return 0;
}

/*
 * Report a workspace part at path, of the policy's key, that cannot be
 * opened. Parts are opened without following symlinks (open_part()),
 * which fails with ELOOP or EXDEV on a symlink or a mount, and the hint
 * then names the key to change.
 */
static int fail_part(const char *path, const char *key)
{
	int err = errno;

	fail("open the workspace part", path);
	if (err == ELOOP || err == EXDEV)
		sandbox_set_hint("a workspace part and each directory above "
				 "it must be a real directory of the "
				 "workspace, not a symlink or a mount. "
				 "Replace it, or take the part out of the "
				 "policy's %s", key);
	return -1;
}

static const char *part_key(uint64_t attr)
{
	return attr == ATTR_RO ? "workspace.read_only" : "workspace.writable";
}

static int bind_parts(struct build *b, int ws,
		      const struct sandbox_strings *parts, uint64_t attr)
{
	const char *inside = b->plan->inside;

	for (size_t i = 0; i < parts->count; i++) {
		char path[PATH_MAX * 2];
		int fd;

		if (strcmp(parts->items[i], ".") == 0)
			continue;
		fd = open_part(ws, parts->items[i]);
		snprintf(path, sizeof(path), "%s/%s", inside, parts->items[i]);
		if (fd < 0 && (errno == ENOENT || errno == ENOTDIR) &&
		    attr == ATTR_RO) {
			if (protect_absent(b, ws, parts->items[i]) < 0)
				return -1;
			continue;
		}
		if (fd < 0 && errno == ENOENT) {
			record(b, path, "absent", NULL, NULL);
			continue;
		}
		if (fd < 0)
			return fail_part(path, part_key(attr));
		if (attr == ATTR_RO &&
		    pin_ancestors(b, ws, parts->items[i]) < 0) {
			close(fd);
			return -1;
		}
		if (bind_fd(b, fd, path, attr, NULL) < 0) {
			close(fd);
			return -1;
		}
		close(fd);
	}
	return 0;
}

static bool all_writable(const struct sandbox_policy *p)
{
	for (size_t i = 0; i < p->workspace_writable.count; i++) {
		if (strcmp(p->workspace_writable.items[i], ".") == 0)
			return true;
	}
	return false;
}

/* Open each directory of rel in turn, down to rel itself, and fail on
 * the first that is a symlink or a mount. */
static int check_part(int ws, const char *workspace, const char *rel,
		      const char *key)
{
	char prefix[PATH_MAX], path[PATH_MAX * 2];
	size_t len = strlen(rel);

	for (size_t i = 1; i <= len; i++) {
		int fd;

		if (rel[i] != '/' && rel[i] != '\0')
			continue;
		snprintf(prefix, sizeof(prefix), "%.*s", (int)i, rel);
		fd = open_part(ws, prefix);
		if (fd >= 0) {
			close(fd);
			continue;
		}
		if (errno != ELOOP && errno != EXDEV)
			return 0;
		snprintf(path, sizeof(path), "%s/%s", workspace, prefix);
		return fail_part(path, key);
	}
	return 0;
}

int sandbox_mounts_check_parts(const struct sandbox_plan *plan)
{
	const struct sandbox_policy *p = plan->policy;
	int ws, rc = 0;

	if (plan->config->mode != SANDBOX_MODE_NAMESPACES)
		return 0;
	ws = open(plan->workspace, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ws < 0)
		return 0;
	for (size_t i = 0; rc == 0 && i < p->workspace_read_only.count; i++)
		rc = check_part(ws, plan->workspace,
				p->workspace_read_only.items[i],
				part_key(ATTR_RO));
	for (size_t i = 0; rc == 0 && !all_writable(p) &&
			   i < p->workspace_writable.count; i++) {
		if (strcmp(p->workspace_writable.items[i], ".") != 0)
			rc = check_part(ws, plan->workspace,
					p->workspace_writable.items[i],
					part_key(0));
	}
	close(ws);
	return rc;
}

static int build_workspace(struct build *b)
{
	const struct sandbox_policy *p = b->plan->policy;
	bool writable = all_writable(p);
	int ws = b->ws, rc;

	rc = bind_fd(b, ws, b->plan->inside,
		     writable ? MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV : ATTR_RO,
		     b->plan->workspace);
	if (rc == 0 && !writable)
		rc = bind_parts(b, ws, &p->workspace_writable,
				MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	if (rc == 0)
		rc = bind_parts(b, ws, &p->workspace_read_only, ATTR_RO);
	return rc;
}

/* Make the mount now on top of path read-only and noexec. The path is
 * opened again, because an fd opened before the mount refers to what
 * lies beneath it. */
static int restrict_top(struct build *b, const char *path)
{
	char target[64];
	int fd, rc;

	fd = openat2_path(b->root, path, RESOLVE_IN_ROOT |
						 RESOLVE_NO_MAGICLINKS);
	if (fd < 0)
		return -1;
	fd_path(target, sizeof(target), fd);
	rc = set_attr(target, ATTR_RO | MOUNT_ATTR_NOEXEC, false);
	close(fd);
	return rc;
}

/* Keep the first masked directory open, for later masks to bind. When
 * it cannot be opened, each later one gets a tmpfs of its own. */
static void remember_mask_dir(struct build *b, const char *path)
{
	struct stat st;
	int fd = openat2_path(b->root, path, RESOLVE_IN_ROOT |
					     RESOLVE_NO_MAGICLINKS);

	if (fd < 0)
		return;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return;
	}
	b->mask_dir = fd;
	b->mask_dir_dev = st.st_dev;
}

/* Cover a denied command at path (open as target) with the empty file
 * of deny_source(), through the first such cover once there is one. */
static int mask_denied(struct build *b, const char *path, const char *target)
{
	char from[64];

	if (b->deny_file >= 0) {
		fd_path(from, sizeof(from), b->deny_file);
		return mount(from, target, NULL, MS_BIND, NULL) < 0 ?
			fail("hide", path) : 0;
	}
	fd_path(from, sizeof(from), b->deny_source);
	if (mount(from, target, NULL, MS_BIND, NULL) < 0 ||
	    restrict_top(b, path) < 0)
		return fail("hide", path);
	b->deny_file = openat2_path(b->root, path, RESOLVE_IN_ROOT |
					     RESOLVE_NO_MAGICLINKS);
	return 0;
}

/*
 * Cover one path inside the new root: a directory with an empty
 * read-only tmpfs, a denied command with the empty file of
 * deny_source(), anything else with the host's /dev/null.
 */
static int mask(struct build *b, const char *path, const char *type)
{
	char target[64], from[64];
	struct stat st;
	int fd, rc = 0;

	fd = openat2_path(b->root, path, RESOLVE_IN_ROOT |
						 RESOLVE_NO_MAGICLINKS);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 :
			fail("open the path to hide", path);
	fd_path(target, sizeof(target), fd);
	if (fstat(fd, &st) < 0) {
		rc = fail("stat", path);
	} else if (st.st_dev == b->root_dev ||
		   (S_ISCHR(st.st_mode) && st.st_rdev == b->devnull_rdev) ||
		   (b->mask_dir >= 0 && st.st_dev == b->mask_dir_dev) ||
		   (S_ISDIR(st.st_mode) && strcmp(type, "exec-deny") == 0)) {
		/* A directory of the new root itself, made to hold the
		 * workspace or HOME, or a path masked already. A denied
		 * name that is a directory, such as /usr/bin/X11, names no
		 * command, and covering it would hide a whole directory. */
		close(fd);
		return 0;
	} else if (S_ISDIR(st.st_mode) && b->mask_dir >= 0) {
		/* Every hidden directory shows the same empty read-only
		 * tmpfs: a bind of it costs less than a new one. */
		fd_path(from, sizeof(from), b->mask_dir);
		if (mount(from, target, NULL, MS_BIND, NULL) < 0)
			rc = fail("hide", path);
	} else if (S_ISDIR(st.st_mode)) {
		if (mount("tmpfs", target, "tmpfs", MS_RDONLY | MS_NOSUID |
			  MS_NODEV | MS_NOEXEC, "mode=0000,size=4k") < 0)
			rc = fail("hide", path);
		else
			remember_mask_dir(b, path);
	} else if (strcmp(type, "exec-deny") == 0) {
		rc = mask_denied(b, path, target);
	} else if (b->mask_file >= 0) {
		/* A bind copies the flags of its source mount, so a bind of
		 * the first mask is read-only, nosuid, nodev and noexec
		 * without restricting it again. */
		fd_path(from, sizeof(from), b->mask_file);
		if (mount(from, target, NULL, MS_BIND, NULL) < 0)
			rc = fail("hide", path);
	} else {
		fd_path(from, sizeof(from), b->devnull);
		if (mount(from, target, NULL, MS_BIND, NULL) < 0 ||
		    restrict_top(b, path) < 0)
			rc = fail("hide", path);
		else
			b->mask_file = openat2_path(b->root, path,
						    RESOLVE_IN_ROOT |
						    RESOLVE_NO_MAGICLINKS);
	}
	if (rc == 0)
		record(b, path, type, NULL, NULL);
	close(fd);
	return rc;
}

/*
 * Cover the link at path itself, not the file it leads to, with a clone
 * of source, recorded as type. mount(2) would follow the link;
 * move_mount() onto a descriptor of the link does not.
 */
static int mask_link(struct build *b, const char *path, int source,
		     const char *type)
{
	struct mount_attr attr = {
		.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
			    MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
	};
	struct open_how how = {
		.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int link, tree = -1, rc = -1;

	link = (int)syscall(SYS_openat2, b->root, path, &how, sizeof(how));
	if (link >= 0)
		tree = open_tree(source, "", OPEN_TREE_CLONE |
				 OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (tree >= 0 &&
	    mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) == 0 &&
	    move_mount(tree, "", link, "", MOVE_MOUNT_F_EMPTY_PATH |
		       MOVE_MOUNT_T_EMPTY_PATH) == 0)
		rc = 0;
	if (rc < 0)
		fail("hide", path);
	else
		record(b, path, type, NULL, NULL);
	if (tree >= 0)
		close(tree);
	if (link >= 0)
		close(link);
	return rc;
}

/*
 * Cover a hidden part of the workspace, and pin the directories above
 * it as for a read-only part, because renaming one would carry the
 * cover along. A part that is a symlink is covered itself: the
 * workspace decides where it leads, and its target may lie outside,
 * such as a library in /usr. A part below a symlink is left alone, and
 * mask() skips a missing part.
 */
static int hide_part(struct build *b, const char *rel)
{
	char parent[PATH_MAX], path[PATH_MAX * 2];
	const char *slash = strrchr(rel, '/');
	const char *name = slash ? slash + 1 : rel;
	struct stat st;
	int dir, fd;

	snprintf(path, sizeof(path), "%s/%s", b->plan->inside, rel);
	fd = open_part(b->ws, rel);
	if (fd >= 0) {
		close(fd);
		if (pin_ancestors(b, b->ws, rel) < 0)
			return -1;
		return mask(b, path, "hidden");
	}
	if (errno != ELOOP)
		return mask(b, path, "hidden");
	if (slash) {
		snprintf(parent, sizeof(parent), "%.*s", (int)(slash - rel),
			 rel);
		dir = open_part(b->ws, parent);
	} else {
		dir = dup(b->ws);
	}
	if (dir < 0)
		return 0;
	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISLNK(st.st_mode)) {
		close(dir);
		return 0;
	}
	close(dir);
	if (pin_ancestors(b, b->ws, rel) < 0)
		return -1;
	return mask_link(b, path, b->devnull, "hidden");
}

static int build_hidden(struct build *b)
{
	const struct sandbox_policy *p = b->plan->policy;

	for (size_t i = 0; i < p->hidden.count; i++) {
		/* A hidden path that contains the workspace, such as /home
		 * or a folder on the private /tmp, shows only the folders
		 * made to hold it, so covering it would hide the workspace. */
		if (sandbox_path_within(b->plan->inside, p->hidden.items[i]))
			continue;
		if (mask(b, p->hidden.items[i], "hidden") < 0)
			return -1;
	}
	for (size_t i = 0; i < p->workspace_hidden.count; i++) {
		if (hide_part(b, p->workspace_hidden.items[i]) < 0)
			return -1;
	}
	return 0;
}

/* One directory of the sandbox's PATH, opened in the new root, or only
 * named (fd -1) past SEARCH_OPEN_MAX. */
struct search_dir {
	const char *text;	/* in the PATH string, len bytes */
	int len;
	int fd;
	uint64_t mnt_id;	/* with ino, the directory's identity */
	uint64_t ino;
};

/* How many PATH directories stay open at once: a PATH longer than
 * that is searched the slow way for the rest, rather than taking a
 * descriptor each from the caller's limit. */
#define SEARCH_OPEN_MAX 64

static bool search_seen(const struct search_dir *dirs, size_t n,
			const struct statx *st)
{
	for (size_t i = 0; i < n; i++) {
		if (dirs[i].fd >= 0 && dirs[i].mnt_id == st->stx_mnt_id &&
		    dirs[i].ino == st->stx_ino)
			return true;
	}
	return false;
}

static void close_search_dirs(struct search_dir *dirs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (dirs[i].fd >= 0)
			close(dirs[i].fd);
	}
	free(dirs);
}

/*
 * Add dir, len bytes of PATH, to dirs, unless it is missing, not a
 * directory, or the same directory on the same mount as an earlier
 * entry (with a merged /usr, /bin is /usr/bin). A directory bound at
 * two places is two mounts, and each needs its own mask. An entry is
 * kept by name only, for mask() to walk, past SEARCH_OPEN_MAX, without
 * the mount id (before Linux 5.8), or when opening it fails otherwise.
 */
static void add_search_dir(struct build *b, struct search_dir *dirs,
			   size_t *n, const char *dir, size_t len)
{
	struct search_dir *d = &dirs[*n];
	char path[PATH_MAX];
	struct statx st;
	int fd;

	if (!len || dir[0] != '/' || len >= sizeof(path))
		return;
	*d = (struct search_dir){ dir, (int)len, -1, 0, 0 };
	if (*n >= SEARCH_OPEN_MAX) {
		(*n)++;
		return;
	}
	snprintf(path, sizeof(path), "%.*s", (int)len, dir);
	fd = openat2_path(b->root, path, RESOLVE_IN_ROOT |
					 RESOLVE_NO_MAGICLINKS);
	if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
		return;
	if (fd >= 0 && statx(fd, "", AT_EMPTY_PATH,
			     STATX_INO | STATX_MNT_ID, &st) == 0) {
		if (!S_ISDIR(st.stx_mode) ||
		    ((st.stx_mask & STATX_MNT_ID) &&
		     search_seen(dirs, *n, &st))) {
			close(fd);
			return;
		}
		if (st.stx_mask & STATX_MNT_ID) {
			d->fd = fd;
			d->mnt_id = st.stx_mnt_id;
			d->ino = st.stx_ino;
			fd = -1;
		}
	}
	if (fd >= 0)
		close(fd);
	(*n)++;
}

/*
 * Open each directory of the sandbox's PATH once, without the ones that
 * repeat an earlier one (add_search_dir()). A denied name then costs
 * one short lookup per directory rather than a walk from the root for
 * each entry of PATH. Returns the count, or -1 with the error; the
 * caller closes the fds and frees *out.
 */
static ssize_t open_search_dirs(struct build *b, struct search_dir **out)
{
	const char *dir = sandbox_plan_path(b->plan);
	size_t max = 1, n = 0;
	struct search_dir *dirs;

	for (const char *c = dir; *c; c++)
		max += *c == ':';
	dirs = calloc(max, sizeof(*dirs));
	if (!dirs)
		return fail("open the PATH directories", dir);
	while (*dir) {
		size_t len = strcspn(dir, ":");

		add_search_dir(b, dirs, &n, dir, len);
		dir += len;
		if (*dir == ':')
			dir++;
	}
	*out = dirs;
	return (ssize_t)n;
}

static bool is_denied_name(const struct sandbox_strings *deny,
			   const char *name)
{
	for (size_t i = 0; i < deny->count; i++) {
		if (strcmp(deny->items[i], name) == 0)
			return true;
	}
	return false;
}

/* Return whether dir has an entry, not a denied name, that leads to the
 * file of target. */
static bool dir_reaches(const struct sandbox_strings *deny, int dir,
			const struct stat *target)
{
	int fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	const struct dirent *e;
	struct stat st;
	bool found = false;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	while (!found && (e = readdir(d))) {
		if (e->d_name[0] == '.' || is_denied_name(deny, e->d_name))
			continue;
		found = fstatat(dir, e->d_name, &st, 0) == 0 &&
			st.st_dev == target->st_dev &&
			st.st_ino == target->st_ino;
	}
	closedir(d);
	return found;
}

/*
 * Return whether the link name in dir leads to a program that a name
 * not denied in the PATH directories leads to as well: a multi-call
 * program such as busybox, whose /usr/bin/su is a link to /bin/busybox.
 * Masking that program would take every command it serves.
 */
static bool link_target_shared(struct build *b,
			       const struct search_dir *dirs, size_t n,
			       int dir, const char *name)
{
	const struct sandbox_strings *deny = &b->plan->policy->exec_deny;
	struct stat target;

	if (fstatat(dir, name, &target, 0) < 0 || !S_ISREG(target.st_mode))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (dirs[i].fd >= 0 && dir_reaches(deny, dirs[i].fd, &target))
			return true;
	}
	return false;
}

/* Mask name in each directory of dirs that contains it. A directory
 * kept by name only is left to mask(), which walks from the root. */
static int deny_in_search(struct build *b, const struct search_dir *dirs,
			  size_t n, const char *name)
{
	char path[PATH_MAX * 2];
	struct stat st;
	int rc;

	for (size_t i = 0; i < n; i++) {
		/* Any other failure is mask()'s to report. */
		if (dirs[i].fd >= 0 &&
		    fstatat(dirs[i].fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 &&
		    (errno == ENOENT || errno == ENOTDIR))
			continue;
		snprintf(path, sizeof(path), "%.*s/%s", dirs[i].len,
			 dirs[i].text, name);
		if (dirs[i].fd >= 0 && S_ISLNK(st.st_mode) &&
		    link_target_shared(b, dirs, n, dirs[i].fd, name))
			rc = mask_link(b, path, b->deny_source,
				       "exec-deny");
		else
			rc = mask(b, path, "exec-deny");
		if (rc < 0)
			return -1;
	}
	return 0;
}

/*
 * Make the file that covers denied commands: empty and of mode 0755, in
 * the new root's tmpfs, under the mount point of the private /tmp. Its
 * first bind is made read-only, nosuid, nodev and noexec, and later
 * binds copy that bind. An exec of it then fails with EACCES. It is a
 * regular file because a shell that searches PATH, such as dash, skips
 * any other kind of file without an exec, which no trace would show.
 * For a regular file it runs the exec, and the kernel refuses it. It is
 * never removed, so the kernel names a cover by the path it covers,
 * without " (deleted)".
 */
static int deny_source(struct build *b)
{
	int fd;

	if (!b->plan->policy->exec_deny.count)
		return 0;
	if (make_dirs("/tmp", 0755) < 0)
		return -1;
	fd = openat(b->root, DENY_FILE,
		    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	if (fd < 0 || fchmod(fd, 0755) < 0) {
		if (fd >= 0)
			close(fd);
		return fail("create the exec mask", DENY_FILE);
	}
	close(fd);
	b->deny_source = openat2_path(b->root, DENY_FILE, RESOLVE_BENEATH);
	if (b->deny_source < 0)
		return fail("open the exec mask", DENY_FILE);
	return 0;
}

/*
 * Mask each denied command, so that exec by name, by path, through a
 * symlink or with execveat all meet the same empty noexec file and fail
 * with EACCES. A name is looked up in every directory of the sandbox's
 * PATH.
 */
static int build_exec_deny(struct build *b)
{
	const struct sandbox_strings *deny = &b->plan->policy->exec_deny;
	struct search_dir *dirs = NULL;
	ssize_t n = 0;
	int rc = 0;

	if (!deny->count)
		return 0;
	n = open_search_dirs(b, &dirs);
	if (n < 0)
		return -1;
	for (size_t i = 0; i < deny->count && rc == 0; i++) {
		const char *name = deny->items[i];

		if (name[0] == '/')
			rc = mask(b, name, "exec-deny");
		else
			rc = deny_in_search(b, dirs, (size_t)n, name);
	}
	close_search_dirs(dirs, (size_t)n);
	return rc;
}

static int pivot(void)
{
	if (chdir(NEWROOT) < 0)
		return fail("enter the new root", NEWROOT);
	/* pivot_root(".", ".") stacks the old root under the new one;
	 * detaching "." then removes it without a directory for it. */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return fail("pivot into the new root", NEWROOT);
	if (umount2(".", MNT_DETACH) < 0)
		return fail("detach the old root", "/");
	if (chdir("/") < 0)
		return fail("enter the new root", "/");
	return 0;
}

static int build_tree(struct build *b)
{
	const struct sandbox_policy *p = b->plan->policy;

	if (deny_source(b) < 0 || build_proc(b) < 0 || build_dev(b) < 0 ||
	    mount_writable_tmpfs(b, "/tmp", "1777", MS_NOSUID | MS_NODEV) < 0 ||
	    build_home(b) < 0)
		return -1;
	for (size_t i = 0; i < p->read_only.count; i++) {
		if (bind_read_only(b, i) < 0)
			return -1;
	}
	if (build_workspace(b) < 0 || build_hidden(b) < 0 ||
	    build_exec_deny(b) < 0)
		return -1;
	if (set_attr(NEWROOT, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
				      MOUNT_ATTR_NODEV, false) < 0)
		return fail("make the root read-only", "/");
	return 0;
}

int sandbox_mounts_build(const struct sandbox_plan *plan, cJSON *mounts)
{
	struct build b = { .plan = plan, .mounts = mounts, .root = -1,
			   .ws = -1, .seed = -1, .mask_file = -1,
			   .mask_dir = -1, .deny_source = -1,
			   .deny_file = -1 };
	struct stat st;
	int rc = -1;

	/* Nothing mounted from here on may propagate to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return fail("make the mounts private", "/");
	b.devnull = open("/dev/null", O_PATH | O_CLOEXEC);
	if (b.devnull < 0)
		return fail("open", "/dev/null");
	if (fstat(b.devnull, &st) < 0) {
		fail("stat", "/dev/null");
		goto out;
	}
	b.devnull_rdev = st.st_rdev;
	if (open_sources(&b) < 0)
		goto out;
	if (mount("tmpfs", NEWROOT, "tmpfs", MS_NOSUID | MS_NODEV,
		  "mode=0755,size=1m") < 0) {
		fail("mount the new root", NEWROOT);
		goto out;
	}
	record(&b, "/", "tmpfs", "ro,mode=0755", NULL);
	b.root = open(NEWROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (b.root < 0 || fstat(b.root, &st) < 0) {
		fail("open the new root", NEWROOT);
		goto out;
	}
	b.root_dev = st.st_dev;
	if (build_tree(&b) == 0 && pivot() == 0)
		rc = 0;
out:
	close_sources(&b);
	close(b.devnull);
	if (b.mask_file >= 0)
		close(b.mask_file);
	if (b.mask_dir >= 0)
		close(b.mask_dir);
	if (b.deny_source >= 0)
		close(b.deny_source);
	if (b.deny_file >= 0)
		close(b.deny_file);
	if (b.root >= 0)
		close(b.root);
	return rc;
}
