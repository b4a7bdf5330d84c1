/*
 * cmd_apply.c - "runbundle apply": write the run's final changes into a
 * checkout that is in the recorded initial state. This is the approval
 * step: the agent proposed, a person applies.
 *
 * Two passes over the changes from the initial to the final snapshot.
 * The first compares every changed path of the target with the initial
 * snapshot and rejects the target, naming each path that differs. Other
 * paths are not compared, as with "git apply". The second writes the
 * final state of each path: a file goes to a temporary name beside it,
 * is synced, and is renamed over the old one, so each file is either old
 * or new.
 *
 * A path whose type changed comes as two changes, the deletion of the old
 * entry (for a directory: of everything below it) before the addition of
 * the new one. The first pass compares the old entry, and refuses to
 * replace a target directory that has entries the initial snapshot
 * lacks. A path whose target has the final state already counts as
 * applied, not as a conflict, and the second pass leaves it as it is, so
 * that an apply that stopped on a failed write can be run again. When
 * every change is applied already, apply prints that and writes nothing.
 *
 * Modes are written as git checkout writes them: the owner's executable
 * bit comes from the snapshot, and the rest is 0777 or 0666 less the
 * caller's umask. So the reviewer's checkout gets no world-writable or
 * setuid file from the run. A mode change that keeps the executable bit
 * is no change, as in git.
 *
 * Invariants: paths come from trees that bundle_tree_parse() checked (no
 * "..", no '/' in a name), and every directory on the way is opened with
 * O_NOFOLLOW, so a symlink in the target never leads a write outside it.
 * Nothing inside a directory named .git is written: the repository's
 * config and hooks name programs that git runs outside any sandbox. Nor
 * is a FIFO, socket or device of the final snapshot made: git tracks
 * none, and a device would be a way into the reviewer's hardware.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "bundle/checkout.h"
#include "bundle/snapshot.h"
#include "bundle/verify.h"
#include "cli/cli.h"
#include "inspect/commands.h"
#include "inspect/content.h"
#include "inspect/error.h"
#include "inspect/signals.h"
#include "inspect/options.h"
#include "inspect/view.h"

#define APPLY_MAX_SHOWN 20

struct apply {
	const struct inspect_view *view;
	const struct bundle_id *initial;
	const struct bundle_id *final;
	int root_fd;
	mode_t umask;  /* the caller's, for the modes written */
	int writing;  /* second pass */
	int json;
	int failed;   /* the second pass stopped; the message is set */
	cJSON *changes;
	cJSON *conflicts;
	cJSON *skipped;   /* paths inside .git, found by the first pass */
	cJSON *special;   /* FIFOs, sockets and devices left out */
	cJSON *already_final; /* paths whose target has the final state */
	uint64_t counts[4]; /* A, M, D, T */
	uint64_t n_changes; /* every change of the diff */
	uint64_t n_final;   /* changes that the target has already */
	uint64_t n_seen;    /* changes that the second pass has reached */
	uint64_t n_written; /* changes that the second pass wrote */
	unsigned char *done; /* per change of the first pass: the target
			      * has its final state already */
	size_t done_cap;
	const char *path; /* the change that the second pass writes */
	char *reason; /* a conflict's formatted reason, malloc'd */
	char why[160]; /* a failed write's reason, where errno gives none */
};

static int change_index(enum bundle_change change)
{
	switch (change) {
	case BUNDLE_CHANGE_ADDED: return 0;
	case BUNDLE_CHANGE_MODIFIED: return 1;
	case BUNDLE_CHANGE_DELETED: return 2;
	case BUNDLE_CHANGE_MODE: return 3;
	}
	return 1;
}

/* Format a conflict's reason into a->reason and return it, or a fixed
 * text when memory runs out. */
static const char *set_reason(struct apply *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static const char *set_reason(struct apply *a, const char *fmt, ...)
{
	va_list ap;
	int n;

	free(a->reason);
	va_start(ap, fmt);
	n = vasprintf(&a->reason, fmt, ap);
	va_end(ap);
	if (n < 0) {
		a->reason = NULL;
		return "cannot be described: out of memory";
	}
	return a->reason;
}

/* Return a malloc'd copy of name (len bytes, as in a tree entry) escaped
 * for display by bundle_name_escape(), or NULL when memory runs out. */
static char *display_copy(const void *name, size_t len)
{
	size_t size = 4 * len + 1; /* "\xHH" is the longest form */
	char *shown = malloc(size);

	if (shown)
		bundle_name_escape(shown, size, name, len);
	return shown;
}

/*
 * Open the directory that contains path's last component, below root_fd,
 * never following a symlink. With create, missing directories are made.
 * Returns the fd (or -1 with errno) and points *name at the last
 * component inside path. Paths of any length work, because each step
 * opens one component; path is changed during the call and restored.
 */
static int open_parent(int root_fd, char *path, int create,
		       const char **name)
{
	int fd = dup(root_fd);
	char *p = path, *slash;
	int saved;

	while (fd >= 0 && (slash = strchr(p, '/'))) {
		int next;

		*slash = '\0';
		if (create && mkdirat(fd, p, 0777) < 0 && errno != EEXIST)
			next = -1;
		else
			/* O_PATH needs no read permission, only search, as
			 * git's own path lookups do. */
			next = openat(fd, p, O_PATH | O_DIRECTORY |
				      O_NOFOLLOW | O_CLOEXEC);
		*slash = '/';
		saved = errno;
		close(fd);
		errno = saved;
		fd = next;
		p = slash + 1;
	}
	*name = p;
	return fd;
}

static void conflict(struct apply *a, const char *display, const char *reason)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "path", display);
	cJSON_AddStringToObject(o, "reason", reason);
	cJSON_AddItemToArray(a->conflicts, o);
}

struct cmp {
	int fd;
	int differs;
};

static int compare_chunk(const void *data, size_t len, void *arg)
{
	struct cmp *c = arg;
	unsigned char buf[65536];

	while (len > 0 && !c->differs) {
		size_t want = len < sizeof(buf) ? len : sizeof(buf);
		ssize_t n = read(c->fd, buf, want);

		if (n <= 0 || memcmp(buf, data, (size_t)n) != 0) {
			c->differs = 1;
			break;
		}
		data = (const unsigned char *)data + n;
		len -= (size_t)n;
	}
	return 0;
}

/* Return 1 when the file at dirfd/name has other bytes than entry, 0
 * when it has the same, -1 when the bundle is damaged, and -2 with errno
 * set when the file cannot be opened. */
static int content_differs(struct apply *a, int dirfd, const char *name,
			   const struct bundle_tree_entry *entry)
{
	struct cmp c = {.fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW |
				     O_CLOEXEC)};
	char extra;

	if (c.fd < 0)
		return -2;
	if (inspect_content_stream(a->view->bundle, entry, compare_chunk,
				   &c) < 0)
		c.differs = -1;
	else if (!c.differs && read(c.fd, &extra, 1) != 0)
		c.differs = 1;
	close(c.fd);
	return c.differs;
}

static const char *symlink_differs(int dirfd, const char *name,
				   const struct bundle_tree_entry *entry)
{
	char target[BUNDLE_TREE_TEXT_MAX + 1];
	ssize_t n = readlinkat(dirfd, name, target, sizeof(target));

	if (n < 0 || (size_t)n != entry->text_len ||
	    memcmp(target, entry->text, (size_t)n) != 0)
		return "points elsewhere than in the initial snapshot";
	return NULL;
}

static const char *differs(struct apply *a, int dirfd, const char *name,
			   const struct bundle_tree_entry *old,
			   enum bundle_change change);

/* Return why the target's path is not in the initial state of the
 * hardlink old, or NULL. The content is stored with the first link, which
 * old names. */
static const char *linked_differs(struct apply *a, int dirfd,
				  const char *name,
				  const struct bundle_tree_entry *old,
				  enum bundle_change change)
{
	struct inspect_node node = {0};
	char *target = strndup((const char *)old->text, old->text_len);
	const char *reason = "cannot be compared: the bundle is damaged";

	if (!target)
		return "cannot be compared: out of memory";
	if (inspect_node_find(a->view->bundle, a->initial, target,
			      &node) == 0 && !node.is_root &&
	    node.entry.kind == BUNDLE_ENTRY_FILE)
		reason = differs(a, dirfd, name, &node.entry, change);
	inspect_node_release(&node);
	free(target);
	return reason;
}

/* Why the target's path is not in the initial state old, or NULL. */
static const char *differs(struct apply *a, int dirfd, const char *name,
			   const struct bundle_tree_entry *old,
			   enum bundle_change change)
{
	struct stat st;
	int rc;

	if (dirfd >= 0 && fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 &&
	    errno != ENOENT) {
		return set_reason(a, "cannot be read: %s", strerror(errno));
	}
	if (dirfd < 0 || fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return old ? "missing from the target" : NULL;
	if (!old)
		return "exists in the target, but not in the initial "
		       "snapshot";
	if ((old->mode & S_IFMT) != (st.st_mode & S_IFMT))
		return "is of another type than in the initial snapshot";
	/* Of the permission bits, apply writes only the executable bit. */
	if (change == BUNDLE_CHANGE_MODE &&
	    (old->mode & S_IXUSR) != (st.st_mode & S_IXUSR))
		return "has another executable bit than in the initial "
		       "snapshot";
	switch (old->kind) {
	case BUNDLE_ENTRY_FILE:
		if ((uint64_t)st.st_size != old->size)
			return "has other content than in the initial "
			       "snapshot";
		rc = content_differs(a, dirfd, name, old);
		if (rc == -2) {
			return set_reason(a, "cannot be read: %s",
					  strerror(errno));
		}
		if (rc < 0)
			return "cannot be compared: the bundle is damaged";
		return rc ? "has other content than in the initial snapshot" :
			    NULL;
	case BUNDLE_ENTRY_HARDLINK:
		return linked_differs(a, dirfd, name, old, change);
	case BUNDLE_ENTRY_SYMLINK:
		return symlink_differs(dirfd, name, old);
	case BUNDLE_ENTRY_DIR:
		return NULL;
	case BUNDLE_ENTRY_SPECIAL:
		/* A FIFO, socket or device that the run deleted or replaced
		 * has no content, so its type is all there is to compare. */
		return NULL;
	default:
		return "is not a file, a directory or a symlink";
	}
}

/* Return the kind of a special file, from its mode, as a word for
 * messages. */
static const char *special_type(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFIFO: return "FIFO";
	case S_IFSOCK: return "socket";
	case S_IFCHR: return "character device";
	case S_IFBLK: return "block device";
	}
	return "special file";
}

static const char *unwritable(const struct bundle_tree_entry *new)
{
	if (!new)
		return NULL;
	switch (new->kind) {
	case BUNDLE_ENTRY_FILE:
	case BUNDLE_ENTRY_DIR:
	case BUNDLE_ENTRY_SYMLINK:
	case BUNDLE_ENTRY_HARDLINK:
		return NULL;
	case BUNDLE_ENTRY_ERROR:
	case BUNDLE_ENTRY_CHANGED:
		return "the final snapshot could not read it";
	default:
		return "is a special file in the final snapshot";
	}
}

/* The permission bits that git checkout gives a file: 0777 with the
 * owner's executable bit in mode, else 0666, less the caller's umask. */
static mode_t checkout_mode(const struct apply *a, uint32_t mode)
{
	return (mode & S_IXUSR ? 0777 : 0666) & ~a->umask;
}

static int write_fd(const void *data, size_t len, void *arg)
{
	const unsigned char *p = data;
	int fd = *(int *)arg;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int all_zero(const unsigned char *p, size_t len)
{
	return len == 0 || (p[0] == 0 && memcmp(p, p + 1, len - 1) == 0);
}

/* Write data as write_fd does, but seek over zeros, so that the holes
 * of a sparse file stay holes and take no disk space. */
static int write_sparse(const void *data, size_t len, void *arg)
{
	int fd = *(int *)arg;

	if (!all_zero(data, len))
		return write_fd(data, len, arg);
	return lseek(fd, (off_t)len, SEEK_CUR) < 0 ? -1 : 0;
}

/* Seek over a whole hole at once: in steps of the zero bytes that
 * write_sparse gets, a hole of 2^62 bytes takes 2^46 of them. */
static int skip_hole(uint64_t len, void *arg)
{
	int fd = *(int *)arg;

	if (len > INT64_MAX) {
		errno = EFBIG;
		return -1;
	}
	return lseek(fd, (off_t)len, SEEK_CUR) < 0 ? -1 : 0;
}

/* Fail a file whose size the target's file system cannot hold, with
 * the size and the limit in a->why, before anything is written. */
static int check_size(struct apply *a, int fd, uint64_t size)
{
	uint64_t limit;

	if (!bundle_file_size_limit(fd, size, &limit))
		return 0;
	snprintf(a->why, sizeof(a->why), "%llu bytes: more than the %llu "
		 "bytes that the file system of the target can hold",
		 (unsigned long long)size, (unsigned long long)limit);
	errno = EFBIG;
	return -1;
}

/* The temporary file being written, for the signal handler. */
static char temp_path[300];
static int temp_dirfd = -1;
static volatile sig_atomic_t temp_live;

/* Remove the temporary file before the signal ends apply, so that an
 * interrupted apply leaves no stray file in the reviewer's checkout. */
static void on_signal(int sig)
{
	int saved = errno;

	if (temp_live)
		unlinkat(temp_dirfd, temp_path, 0);
	errno = saved;
	inspect_signal_resend(sig);
}

/* Return whether the snapshot at root has an entry at path. */
static bool snapshot_has(struct apply *a, const struct bundle_id *root,
			 const char *path)
{
	struct inspect_node node = {0};
	bool found = inspect_node_find(a->view->bundle, root, path,
				       &node) == 0;

	inspect_node_release(&node);
	return found;
}

/* Return whether the target has the entry temp_path beside the path that
 * apply writes, and either snapshot has it too. Then it is a file of the
 * checkout or of the run, not one that a killed apply left behind. */
static int temp_name_in_use(struct apply *a, int dirfd)
{
	const char *slash = strrchr(a->path, '/');
	int dir_len = slash ? (int)(slash - a->path) + 1 : 0;
	struct stat st;
	char *path;
	int in_use;

	if (fstatat(dirfd, temp_path, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	if (asprintf(&path, "%.*s%s", dir_len, a->path, temp_path) < 0)
		return -1;
	in_use = snapshot_has(a, a->initial, path) ||
		 snapshot_has(a, a->final, path);
	free(path);
	return in_use;
}

/* Return the temporary name beside name, which on_signal removes
 * until temp_end. Before the file exists, its unlinkat just fails. The
 * name is the same in every apply, so a rerun removes the file that an
 * apply killed with SIGKILL left under it. When a snapshot has an entry
 * of that name, ".N" is added, because removing it would delete a file
 * of the checkout or one that apply has just written. */
static const char *temp_begin(struct apply *a, int dirfd, const char *name)
{
	unsigned int n;
	int in_use = 1;

	temp_live = 0;
	for (n = 0; in_use && n < 1000; n++) {
		char suffix[16] = "";

		if (n)
			snprintf(suffix, sizeof(suffix), ".%u", n);
		if (snprintf(temp_path, sizeof(temp_path),
			     ".%.200s.runbundle-apply%s", name,
			     suffix) >= (int)sizeof(temp_path))
			return NULL;
		in_use = temp_name_in_use(a, dirfd);
		if (in_use < 0)
			return NULL;
	}
	if (in_use) {
		errno = EEXIST;
		return NULL;
	}
	temp_dirfd = dirfd;
	temp_live = 1;
	unlinkat(dirfd, temp_path, 0);
	return temp_path;
}

static void temp_end(void)
{
	temp_live = 0;
}

/* Link the O_TMPFILE file fd as tmp in dirfd. The path through /proc
 * comes first, because linkat(2) with AT_EMPTY_PATH needs
 * CAP_DAC_READ_SEARCH. AT_EMPTY_PATH serves where /proc is missing. */
static int link_unnamed(int fd, int dirfd, const char *tmp)
{
	char proc[64];

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (linkat(AT_FDCWD, proc, dirfd, tmp, AT_SYMLINK_FOLLOW) == 0)
		return 0;
	if (errno != ENOENT)
		return -1;
	return linkat(fd, "", dirfd, tmp, AT_EMPTY_PATH);
}

/* Write a file entry's content to a temporary file and rename it. */
static int put_file(struct apply *a, int dirfd, const char *name,
		    const struct bundle_tree_entry *entry)
{
	const struct bundle_tree_entry *src = entry;
	struct inspect_node node = {0};
	const char *tmp;
	int fd, unnamed, rc = -1;

	if (entry->kind == BUNDLE_ENTRY_HARDLINK) {
		/* NOTE: a hardlink is written as a copy of its target. */
		char *target = strndup((const char *)entry->text,
				       entry->text_len);
		int found = target &&
			    inspect_node_find(a->view->bundle, a->final,
					      target, &node) == 0 &&
			    !node.is_root &&
			    node.entry.kind == BUNDLE_ENTRY_FILE;

		free(target);
		if (!found) {
			inspect_node_release(&node);
			errno = target ? EINVAL : ENOMEM;
			return -1;
		}
		src = &node.entry;
	}
	tmp = temp_begin(a, dirfd, name);
	if (!tmp)
		goto out;
	/* No handler runs for SIGKILL, which would leave the named
	 * temporary file behind if it came during the write or the sync.
	 * An unnamed file vanishes with the process, and gets its name
	 * only just before the rename. A file system without O_TMPFILE
	 * gets the named file from the start. */
	fd = openat(dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	unnamed = fd >= 0;
	if (!unnamed)
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL |
			    O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		goto out;
	if (check_size(a, fd, src->size) < 0 ||
	    inspect_content_stream_holes(a->view->bundle, src,
					 src->sparse ? write_sparse : write_fd,
					 skip_hole, &fd) ||
	    (src->sparse && ftruncate(fd, (off_t)src->size) < 0) ||
	    fchmod(fd, checkout_mode(a, src->mode)) < 0 || fsync(fd) < 0 ||
	    (unnamed && link_unnamed(fd, dirfd, tmp) < 0)) {
		close(fd);
		if (!unnamed)
			unlinkat(dirfd, tmp, 0);
		goto out;
	}
	rc = renameat(dirfd, tmp, dirfd, name);
	if (rc < 0)
		unlinkat(dirfd, tmp, 0);
	close(fd);
out:
	temp_end();
	inspect_node_release(&node);
	return rc;
}

static int put_symlink(struct apply *a, int dirfd, const char *name,
		       const struct bundle_tree_entry *entry)
{
	char target[BUNDLE_TREE_TEXT_MAX + 1];
	const char *tmp;
	int rc = -1;

	memcpy(target, entry->text, entry->text_len);
	target[entry->text_len] = '\0';
	tmp = temp_begin(a, dirfd, name);
	if (tmp && symlinkat(target, dirfd, tmp) == 0) {
		rc = renameat(dirfd, tmp, dirfd, name);
		if (rc < 0)
			unlinkat(dirfd, tmp, 0);
	}
	temp_end();
	return rc;
}

static int put_entry(struct apply *a, int dirfd, const char *name,
		     enum bundle_change change,
		     const struct bundle_tree_entry *new)
{
	struct stat st;

	if (change == BUNDLE_CHANGE_DELETED) {
		if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISDIR(st.st_mode))
			return unlinkat(dirfd, name, AT_REMOVEDIR);
		return unlinkat(dirfd, name, 0);
	}
	if (change == BUNDLE_CHANGE_MODE)
		return fchmodat(dirfd, name, checkout_mode(a, new->mode), 0);
	/* A directory that the final state replaces by a file must go
	 * first. It is empty here, because the diff lists what was below
	 * it as deleted. */
	if (new->kind != BUNDLE_ENTRY_DIR &&
	    fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(st.st_mode) && unlinkat(dirfd, name, AT_REMOVEDIR) < 0)
		return -1;
	switch (new->kind) {
	case BUNDLE_ENTRY_DIR:
		if (mkdirat(dirfd, name, 0777) < 0 && errno != EEXIST)
			return -1;
		return 0;
	case BUNDLE_ENTRY_SYMLINK:
		return put_symlink(a, dirfd, name, new);
	default:
		return put_file(a, dirfd, name, new);
	}
}

static void record_change(struct apply *a, enum bundle_change change,
			  const char *display)
{
	char code[2] = {(char)change, '\0'};
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "change", code);
	cJSON_AddStringToObject(o, "path", display);
	cJSON_AddItemToArray(a->changes, o);
	a->counts[change_index(change)]++;
}

/* Remove the directories above a deleted path that the final state no
 * longer has, once they are empty. */
static void prune_parents(struct apply *a, char *raw)
{
	const char *name;
	char *slash;

	while ((slash = strrchr(raw, '/'))) {
		struct inspect_node node = {0};
		int dirfd, in_final, not_empty;

		*slash = '\0';
		in_final = inspect_node_find(a->view->bundle, a->final, raw,
					     &node) == 0;
		inspect_node_release(&node);
		if (in_final)
			return;
		dirfd = open_parent(a->root_fd, raw, 0, &name);
		if (dirfd < 0)
			return;
		not_empty = unlinkat(dirfd, name, AT_REMOVEDIR) < 0;
		close(dirfd);
		if (not_empty)
			return;
	}
}

/* Nonzero when the initial snapshot has path as an entry other than a
 * directory. */
static int initial_non_dir(struct apply *a, const char *path)
{
	struct inspect_node node = {0};
	int found = inspect_node_find(a->view->bundle, a->initial, path,
				      &node) == 0;
	int non_dir = found && !node.is_root &&
		      node.entry.kind != BUNDLE_ENTRY_DIR;

	inspect_node_release(&node);
	return non_dir;
}

/*
 * Nonzero when a component above path, in the target, is the file or
 * symlink that the initial snapshot has there and that the run turned
 * into a directory. The diff lists that entry as deleted before the
 * paths below it, so the first pass has compared it already.
 */
static int below_replaced(struct apply *a, const char *raw)
{
	const char *slash;

	for (slash = strchr(raw, '/'); slash; slash = strchr(slash + 1, '/')) {
		char *prefix = strndup(raw, (size_t)(slash - raw));
		int found = prefix && initial_non_dir(a, prefix);

		free(prefix);
		if (found)
			return 1;
	}
	return 0;
}

struct untracked {
	struct apply *a;
	char *path;  /* malloc'd, grown as the walk goes deeper */
	size_t cap;
	int found;   /* an entry that the initial snapshot lacks */
};

/* Append "/name" to u->path at mark. Returns -1 when memory runs out. */
static int untracked_push(struct untracked *u, size_t mark, const char *name)
{
	size_t need = mark + 1 + strlen(name) + 1;

	if (need > u->cap) {
		char *bigger = realloc(u->path, 2 * need);

		if (!bigger)
			return -1;
		u->path = bigger;
		u->cap = 2 * need;
	}
	u->path[mark] = '/';
	strcpy(u->path + mark + 1, name);
	return 0;
}

/* Look for an entry below the open directory fd (at u->path) that the
 * initial snapshot does not have. Closes fd. Running out of memory
 * counts as finding one, so that nothing is deleted unchecked. */
static void find_untracked(struct untracked *u, int fd, int depth)
{
	DIR *dir = fdopendir(fd);
	size_t mark = strlen(u->path);
	struct dirent *d;

	if (!dir) {
		close(fd);
		u->found = 1;
		return;
	}
	while (!u->found && (d = readdir(dir))) {
		struct inspect_node node = {0};
		int sub;

		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		if (untracked_push(u, mark, d->d_name) < 0 ||
		    inspect_node_find(u->a->view->bundle, u->a->initial,
				      u->path, &node) < 0) {
			u->found = 1;
			break;
		}
		inspect_node_release(&node);
		sub = openat(dirfd(dir), d->d_name, O_RDONLY | O_DIRECTORY |
			     O_NOFOLLOW | O_CLOEXEC);
		if (sub >= 0 && depth >= BUNDLE_SNAPSHOT_MAX_DEPTH) {
			close(sub);
			u->found = 1;
		} else if (sub >= 0) {
			find_untracked(u, sub, depth + 1);
		}
		if (!u->found)
			u->path[mark] = '\0';
	}
	closedir(dir);
}

/*
 * Why the run's file or symlink at raw cannot replace the directory that
 * the initial snapshot and the target have there, or NULL. The diff lists
 * the directory's entries as deleted, and the first pass compares those.
 * An entry that the initial snapshot lacks (a build output, an ignored
 * file) would have to be deleted too, but the run never deleted it.
 */
static const char *dir_replaced(struct apply *a, int dirfd, const char *name,
				const char *raw)
{
	struct untracked u = {.a = a, .path = strdup(raw)};
	const char *reason = NULL;
	char *shown;
	int fd;

	if (!u.path)
		return "cannot be compared: out of memory";
	u.cap = strlen(raw) + 1;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	if (fd < 0) {
		free(u.path);
		return "is of another type than in the initial snapshot";
	}
	find_untracked(&u, fd, 0);
	if (u.found) {
		shown = display_copy(u.path, strlen(u.path));
		reason = set_reason(a, "is a directory that the run replaced, "
				    "and '%s' in it is not in the initial "
				    "snapshot, so replacing it would delete "
				    "that", shown ? shown : "?");
		free(shown);
	}
	free(u.path);
	return reason;
}

/*
 * Why the target's path is not in the initial state, or NULL, when the
 * diff lists it as added. A path that the initial snapshot has as a
 * directory is a type change: the diff lists the directory's entries as
 * deleted and the run's file or symlink as added.
 */
static const char *added_differs(struct apply *a, int dirfd, const char *name,
				 const char *raw)
{
	struct inspect_node node = {0};
	const char *reason;
	int was_dir;

	if (inspect_node_find(a->view->bundle, a->initial, raw, &node) < 0)
		return differs(a, dirfd, name, NULL, BUNDLE_CHANGE_ADDED);
	was_dir = !node.is_root && node.entry.kind == BUNDLE_ENTRY_DIR;
	reason = differs(a, dirfd, name, &node.entry, BUNDLE_CHANGE_MODIFIED);
	inspect_node_release(&node);
	if (!reason && was_dir)
		reason = dir_replaced(a, dirfd, name, raw);
	return reason;
}

/* The first pass: why the change at raw cannot be applied, or NULL. */
static const char *check_change(struct apply *a, int dirfd, const char *name,
				const char *raw, enum bundle_change change,
				const struct bundle_tree_entry *old,
				const struct bundle_tree_entry *new)
{
	const char *reason = unwritable(new);

	if (reason)
		return reason;
	if (dirfd < 0 && errno != ENOENT && errno != ENOTDIR &&
	    errno != ELOOP) {
		return set_reason(a, "is below a directory that cannot be "
				  "opened: %s", strerror(errno));
	}
	if (dirfd < 0 && errno != ENOENT) {
		if (!below_replaced(a, raw))
			return "is below a symlink or a file in the target";
		return NULL;
	}
	if (change == BUNDLE_CHANGE_ADDED)
		return added_differs(a, dirfd, name, raw);
	return differs(a, dirfd, name, old, change);
}

/* Nonzero when the final snapshot has path, as anything. */
static int final_has(struct apply *a, const char *path)
{
	struct inspect_node node = {0};
	int found = inspect_node_find(a->view->bundle, a->final, path,
				      &node) == 0;

	inspect_node_release(&node);
	return found;
}

/* Return whether the target's file at dirfd/name has the content of the
 * final snapshot's hardlink new, which apply writes as a copy. */
static int has_linked(struct apply *a, int dirfd, const char *name,
		      const struct bundle_tree_entry *new)
{
	struct inspect_node node = {0};
	char *target = strndup((const char *)new->text, new->text_len);
	int same;

	same = target &&
	       inspect_node_find(a->view->bundle, a->final, target,
				 &node) == 0 && !node.is_root &&
	       node.entry.kind == BUNDLE_ENTRY_FILE &&
	       differs(a, dirfd, name, &node.entry,
		       BUNDLE_CHANGE_MODIFIED) == NULL;
	inspect_node_release(&node);
	free(target);
	return same;
}

/*
 * Nonzero when the target already has the final state new at raw. A
 * deleted path has it when the target has nothing there, or when the run
 * put an entry of another type there and the target has that type: the
 * changes that add that entry are compared on their own.
 */
static int has_final(struct apply *a, int dirfd, const char *name,
		     const char *raw, enum bundle_change change,
		     const struct bundle_tree_entry *old,
		     const struct bundle_tree_entry *new)
{
	struct stat st;

	if (dirfd >= 0 && fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		dirfd = -1;
	if (change == BUNDLE_CHANGE_DELETED)
		return dirfd < 0 ||
		       ((st.st_mode & S_IFMT) != (old->mode & S_IFMT) &&
			final_has(a, raw));
	if (dirfd < 0)
		return 0;
	if (change != BUNDLE_CHANGE_MODE && new->kind == BUNDLE_ENTRY_DIR)
		return S_ISDIR(st.st_mode);
	/* The final state has the final executable bit too, whatever
	 * else the change did. */
	if (S_ISREG(st.st_mode) &&
	    (st.st_mode & S_IXUSR) != (new->mode & S_IXUSR))
		return 0;
	if (new->kind == BUNDLE_ENTRY_HARDLINK)
		return S_ISREG(st.st_mode) && has_linked(a, dirfd, name, new);
	return differs(a, dirfd, name, new, change) == NULL;
}

/* Whether path is .git, or lies inside a directory named .git, at any
 * depth: a nested repository's metadata is as dangerous as the top's.
 * The name matches in any letter case, because a case-insensitive file
 * system (vfat, an ext4 casefold directory) takes .GIT for .git. */
static int in_git_dir(const char *path)
{
	for (const char *p = path; p; p = strchr(p, '/')) {
		if (*p == '/')
			p++;
		if (strncasecmp(p, ".git", 4) == 0 && (p[4] == '/' || !p[4]))
			return 1;
	}
	return 0;
}

/* Return whether apply leaves a change out, noting a special file
 * of the final snapshot. A change of the permission bits that keeps
 * the executable bit is left out as no change, and so is one of a
 * directory or a special file: git checkout writes none of them. */
static int left_out(struct apply *a, const char *display,
		    enum bundle_change change,
		    const struct bundle_tree_entry *old,
		    const struct bundle_tree_entry *new)
{
	cJSON *o;

	if (change == BUNDLE_CHANGE_MODE)
		return new->kind == BUNDLE_ENTRY_DIR ||
		       new->kind == BUNDLE_ENTRY_SPECIAL ||
		       (old->mode & S_IXUSR) == (new->mode & S_IXUSR);
	if (change == BUNDLE_CHANGE_DELETED ||
	    new->kind != BUNDLE_ENTRY_SPECIAL)
		return 0;
	if (!a->writing) {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "path", display);
		cJSON_AddStringToObject(o, "type", special_type(new->mode));
		cJSON_AddItemToArray(a->special, o);
	}
	return 1;
}

/* Keep, for the second pass, whether the target has the final state of
 * the change that the first pass compares now. */
static int keep_done(struct apply *a, int done)
{
	if (a->n_changes == a->done_cap) {
		size_t cap = a->done_cap ? 2 * a->done_cap : 256;
		unsigned char *grown = realloc(a->done, cap);

		if (!grown) {
			inspect_set_error("cannot apply: out of memory");
			return -1;
		}
		a->done = grown;
		a->done_cap = cap;
	}
	a->done[a->n_changes++] = (unsigned char)done;
	return 0;
}

/* The first pass: a change to write, a conflict, or a path whose
 * target has the final state already, which counts as applied. */
static int check_one(struct apply *a, int dirfd, const char *name,
		     const char *raw, const char *display,
		     enum bundle_change change,
		     const struct bundle_tree_entry *old,
		     const struct bundle_tree_entry *new)
{
	const char *reason = check_change(a, dirfd, name, raw, change, old,
					  new);
	/* A path in the initial state cannot also be in the final one, so
	 * only a path that differs from the initial state can have it. */
	int done = reason && has_final(a, dirfd, name, raw, change, old,
					new);

	if (keep_done(a, done) < 0) {
		a->failed = 1;
		return -1;
	}
	if (done) {
		a->n_final++;
		cJSON_AddItemToArray(a->already_final,
				     cJSON_CreateString(display));
	} else if (reason) {
		conflict(a, display, reason);
	} else {
		record_change(a, change, display);
	}
	return 0;
}

/* Print how much of the run a failed write left applied, counting the
 * paths that had the final state before. */
static void hint_applied(const struct apply *a)
{
	uint64_t applied = a->n_written + a->n_final;

	if (applied == 0)
		inspect_set_hint("nothing is applied: fix the cause, then run "
				 "'runbundle apply' again");
	else
		inspect_set_hint("%llu of the %llu changes %s applied: fix "
				 "the cause, then run 'runbundle apply' again "
				 "to apply the rest",
				 (unsigned long long)applied,
				 (unsigned long long)a->n_changes,
				 applied == 1 ? "is" : "are");
}

/* The second pass: write one change. raw is the change's path, which
 * pruning the emptied directories above a deletion cuts short. */
static int write_one(struct apply *a, int dirfd, const char *name, char *raw,
		     const char *display, enum bundle_change change,
		     const struct bundle_tree_entry *new)
{
	a->path = raw;
	if (dirfd >= 0 && put_entry(a, dirfd, name, change, new) == 0) {
		a->n_written++;
		if (change == BUNDLE_CHANGE_DELETED)
			prune_parents(a, raw);
		return 0;
	}
	inspect_set_error("cannot apply: '%s': %s", display,
			  a->why[0] ? a->why : strerror(errno));
	a->why[0] = '\0';
	hint_applied(a);
	a->failed = 1;
	return -1;
}

static int on_change(const unsigned char *path, size_t path_len,
		     enum bundle_change change,
		     const struct bundle_tree_entry *old,
		     const struct bundle_tree_entry *new, void *arg)
{
	struct apply *a = arg;
	char *raw = strndup((const char *)path, path_len);
	char *display = display_copy(path, path_len);
	const char *name;
	int dirfd, rc = 0;

	if (!raw || !display) {
		inspect_set_error("cannot apply: out of memory");
		a->failed = 1;
		rc = -1;
		goto out;
	}
	if (in_git_dir(raw)) {
		if (!a->writing)
			cJSON_AddItemToArray(a->skipped,
					     cJSON_CreateString(display));
		goto out;
	}
	if (left_out(a, display, change, old, new))
		goto out;
	/* The second pass gets the changes in the first one's order. */
	if (a->writing && a->done[a->n_seen++])
		goto out;
	dirfd = open_parent(a->root_fd, raw, a->writing &&
			    change != BUNDLE_CHANGE_DELETED, &name);
	if (!a->writing)
		rc = check_one(a, dirfd, name, raw, display, change, old, new);
	else
		rc = write_one(a, dirfd, name, raw, display, change, new);
	if (dirfd >= 0)
		close(dirfd);
out:
	free(raw);
	free(display);
	return rc;
}

static int diff(struct apply *a)
{
	const struct inspect_view *v = a->view;
	int rc = bundle_snapshot_diff(v->bundle, &v->steps[0].root, a->final,
				      on_change, a);

	if (rc < 0 && !a->failed)
		return inspect_take_error(bundle_error(), bundle_error_hint());
	return rc < 0 ? -1 : 0;
}

/* Return whether the target has the final state of every change already:
 * a second apply of the same run. */
static int already_applied(const struct apply *a)
{
	return a->n_changes > 0 && a->n_final == a->n_changes;
}

/* Name the changes inside .git that apply leaves out, on stderr, so
 * that the lines on stdout stay the changes made. */
static void print_skipped(const struct apply *a)
{
	int n = cJSON_GetArraySize(a->skipped);

	if (n == 0)
		return;
	cli_error("not applied: '%s': apply writes nothing inside a .git "
		  "directory, whose config and hooks git runs",
		  cJSON_GetStringValue(cJSON_GetArrayItem(a->skipped, 0)));
	cli_hint("%d change%s inside .git %s left out ('runbundle apply "
		 "--json' lists them); commit the applied changes in the "
		 "target yourself", n, n == 1 ? "" : "s",
		 n == 1 ? "is" : "are");
}

/* List the FIFOs, sockets and devices of the final snapshot that apply
 * does not make, on stderr as print_skipped() does. */
static void print_special(const struct apply *a)
{
	int n = cJSON_GetArraySize(a->special);
	const cJSON *first = cJSON_GetArrayItem(a->special, 0);
	const char *them = n == 1 ? "it" : "them";

	if (n == 0)
		return;
	cli_error("not applied: '%s': is a %s in the final snapshot, and apply "
		  "writes only files, directories and symlinks",
		  inspect_json_str(first, "path"),
		  inspect_json_str(first, "type"));
	cli_hint("%d special file%s left out ('runbundle apply --json' lists "
		 "%s), as git leaves them out; make %s in the target "
		 "yourself if the change needs %s", n, n == 1 ? "" : "s",
		 them, them, them);
}

static void print_human(const struct apply *a, int dry_run, int rejected)
{
	const cJSON *item;
	int display = 0, total = cJSON_GetArraySize(a->conflicts);

	print_skipped(a);
	print_special(a);

	if (already_applied(a)) {
		printf("already applied: the target has the final state of "
		       "all %llu changed paths\n",
		       (unsigned long long)a->n_changes);
		return;
	}
	if (rejected) {
		cJSON_ArrayForEach(item, a->conflicts) {
			if (display++ == APPLY_MAX_SHOWN)
				break;
			cli_error("target differs from the initial snapshot: "
				  "'%s': %s",
				  inspect_json_str(item, "path"),
				  inspect_json_str(item, "reason"));
		}
		if (total > APPLY_MAX_SHOWN)
			cli_error("%d more paths differ",
				  total - APPLY_MAX_SHOWN);
		cli_hint("apply to a checkout of the commit the run started "
			 "from, with no local changes");
		return;
	}
	/* The escaped paths keep valid UTF-8, so the C1 controls and the
	 * bidirectional overrides in it still need masking. */
	cJSON_ArrayForEach(item, a->changes) {
		const char *path = inspect_json_str(item, "path");
		size_t size = strlen(path) + 1;
		char *shown = malloc(size);

		if (shown)
			cli_sanitize(shown, size, path);
		printf("%s  %s\n", inspect_json_str(item, "change"),
		       shown ? shown : "?");
		free(shown);
	}
	printf("%s %llu added, %llu modified, %llu deleted, %llu mode "
	       "changed\n", dry_run ? "would apply:" : "applied:",
	       (unsigned long long)a->counts[0],
	       (unsigned long long)a->counts[1],
	       (unsigned long long)a->counts[2],
	       (unsigned long long)a->counts[3]);
	if (a->n_final)
		printf("left as they are: %llu changed path%s whose target "
		       "has the final state already\n",
		       (unsigned long long)a->n_final,
		       a->n_final == 1 ? "" : "s");
}

static int print_json(const struct apply *a, const char *bundle,
		      const char *dir, int dry_run, int rejected)
{
	cJSON *out = cJSON_CreateObject();
	char *text;

	cJSON_AddStringToObject(out, "bundle", bundle);
	cJSON_AddStringToObject(out, "target", dir);
	cJSON_AddBoolToObject(out, "dry_run", dry_run);
	cJSON_AddBoolToObject(out, "applied",
			      !dry_run && !rejected && !already_applied(a));
	cJSON_AddBoolToObject(out, "already_applied", already_applied(a));
	cJSON_AddItemToObject(out, "changes",
			      cJSON_Duplicate(a->changes, 1));
	cJSON_AddItemToObject(out, "conflicts",
			      cJSON_Duplicate(a->conflicts, 1));
	cJSON_AddItemToObject(out, "skipped", cJSON_Duplicate(a->skipped, 1));
	cJSON_AddItemToObject(out, "special", cJSON_Duplicate(a->special, 1));
	cJSON_AddItemToObject(out, "already_final",
			      cJSON_Duplicate(a->already_final, 1));
	text = cJSON_Print(out);
	cJSON_Delete(out);
	if (!text)
		return -1;
	printf("%s\n", text);
	free(text);
	return 0;
}

static int check_view(const struct inspect_view *v, const char *path)
{
	if (v->n_steps < 1) {
		inspect_set_error("cannot apply: '%s': the bundle has no "
				  "snapshot", path);
		return -1;
	}
	if (!v->finalized || strcmp(v->steps[v->n_steps - 1].at,
				   "request") == 0) {
		inspect_set_error("cannot apply: '%s': the run is "
				  "incomplete, so its final state is unknown",
				  path);
		inspect_set_hint("apply a run that ended; 'runbundle gate "
				 "%s' shows why this one is incomplete", path);
		return -1;
	}
	if (!v->steps[0].complete || !v->steps[v->n_steps - 1].complete) {
		inspect_set_error("cannot apply: '%s': the %s snapshot has "
				  "unreadable files", path,
				  v->steps[0].complete ? "final" : "initial");
		return -1;
	}
	return 0;
}

/* Nothing is applied from a bundle that fails verification, because its
 * snapshots may not be what was recorded. */
static int check_verified(const char *path)
{
	struct bundle_verify_report report;
	int rc = 0;

	if (bundle_verify(path, &report) < 0)
		return inspect_take_error(bundle_error(), bundle_error_hint());
	if (report.n_problems > 0) {
		inspect_set_error("cannot apply: '%s': the bundle is damaged: "
				  "%s", path, report.problems[0].message);
		inspect_set_hint("'runbundle verify %s' lists the damage",
				 path);
		rc = -1;
	}
	bundle_verify_release(&report);
	return rc;
}

static int run(const char *path, const char *dir, int dry_run, int json)
{
	struct inspect_view view;
	struct apply a = {.root_fd = -1};
	int rc = CLI_EXIT_ERROR, rejected, failed;

	if (check_verified(path) < 0 || inspect_view_open(&view, path) < 0)
		return cli_error_from(inspect_error(), inspect_error_hint());
	if (check_view(&view, path) < 0) {
		cli_error_from(inspect_error(), inspect_error_hint());
		goto out;
	}
	a.view = &view;
	a.initial = &view.steps[0].root;
	a.final = &view.steps[view.n_steps - 1].root;
	a.json = json;
	a.changes = cJSON_CreateArray();
	a.conflicts = cJSON_CreateArray();
	a.skipped = cJSON_CreateArray();
	a.special = cJSON_CreateArray();
	a.already_final = cJSON_CreateArray();
	a.umask = umask(0);
	umask(a.umask);
	a.root_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (a.root_fd < 0) {
		cli_error("cannot apply: '%s': %s", dir, strerror(errno));
		goto out;
	}
	if (diff(&a) < 0) {
		cli_error_from(inspect_error(), inspect_error_hint());
		goto out;
	}
	rejected = cJSON_GetArraySize(a.conflicts) > 0;
	if (!rejected && !dry_run && !already_applied(&a)) {
		a.writing = 1;
		inspect_signal_note("runbundle: apply stopped by a signal: "
				    "'%s': the changes written before it stay "
				    "applied\nhint: run 'runbundle apply' "
				    "again to apply the rest\n", dir);
		inspect_catch_signals(on_signal);
		failed = diff(&a) < 0 || fsync(a.root_fd) < 0;
		inspect_signal_note(NULL);
		if (failed) {
			cli_error_from(inspect_error(), inspect_error_hint());
			goto out;
		}
	}
	if (json ? print_json(&a, path, dir, dry_run, rejected) :
		   (print_human(&a, dry_run, rejected), 0)) {
		cli_error("cannot print the result: out of memory");
		goto out;
	}
	rc = rejected ? CLI_EXIT_FAIL : CLI_EXIT_OK;
out:
	if (a.root_fd >= 0)
		close(a.root_fd);
	cJSON_Delete(a.changes);
	cJSON_Delete(a.conflicts);
	cJSON_Delete(a.skipped);
	cJSON_Delete(a.special);
	cJSON_Delete(a.already_final);
	free(a.reason);
	free(a.done);
	inspect_view_close(&view);
	return rc;
}

int cmd_apply(int argc, char **argv, const struct cli_command *self)
{
	const char *dir = ".";
	int dry_run = 0, json = 0, first;
	const struct inspect_option options[] = {
		{ "to", 0, &dir, NULL },
		{ "dry-run", 0, NULL, &dry_run },
		{ "json", 0, NULL, &json },
		{ NULL, 0, NULL, NULL },
	};

	first = inspect_options_parse(argc, argv, self, options);
	if (first < 0)
		return CLI_EXIT_USAGE;
	return run(argv[first], dir, dry_run, json);
}
