/*
 * checkout.c - write a snapshot tree to disk with archive_write_disk.
 *
 * Entries are written depth first in tree order, the same order in which
 * the snapshot walker met them, so the first link of a hardlinked file
 * exists before any HARDLINK entry that names it.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/checkout.h"
#include "bundle/snapshot.h"
#include "bundle/snapshot_internal.h"
#include "bundle/tree_count.h"

struct checkout {
	struct bundle *bundle;
	const struct bundle_checkout_options *options;
	struct bundle_checkout_stats *stats;
	struct archive *disk;
	struct archive_entry *entry;
	char *base; /* absolute target directory, no trailing '/' */
	struct snapshot_path path;
	int depth;
	char *buf; /* COPY_BUF bytes for content on its way to disk */
	int disk_errno; /* errno of the last failed write to disk, or 0 */
	int stopped; /* copy_content() stopped reading before the end */
};

#define COPY_BUF (256 * 1024)

static void skip(struct checkout *c, enum bundle_entry_kind kind,
		 const char *why)
{
	char *escaped;

	c->stats->skipped++;
	if (!c->options->on_skip)
		return;
	/* Whole, however deep: two skipped files cut to the same length
	 * would both read as the directory above them. */
	escaped = bundle_name_escape_dup((const unsigned char *)c->path.data,
					 c->path.len);
	c->options->on_skip(escaped ? escaped : "(out of memory)", kind, why,
			    c->options->arg);
	free(escaped);
}

static char *join(const char *base, const char *rel, size_t rel_len)
{
	size_t base_len = strlen(base);
	char *full = malloc(base_len + 1 + rel_len + 1);

	if (!full)
		return NULL;
	memcpy(full, base, base_len);
	full[base_len] = '/';
	memcpy(full + base_len + 1, rel, rel_len);
	full[base_len + 1 + rel_len] = '\0';
	return full;
}

static int disk_error(struct checkout *c, const char *what)
{
	char shown[4096];

	bundle_name_escape(shown, sizeof(shown),
			   (const unsigned char *)c->path.data, c->path.len);
	bundle_set_error("cannot check out %s: '%s': %s", what, shown,
			 archive_error_string(c->disk)
				 ? archive_error_string(c->disk)
				 : "unknown libarchive error");
	return -1;
}

/* The content thread: bundle_write_content into one end of a socket
 * pair while the main thread hands the other end to libarchive. */
struct content_feed {
	struct bundle *bundle;
	const struct bundle_id *ref;
	int out;
	int failed;
	char message[16384];	/* as much as error.c keeps */
	char hint[4096];
};

static void *feed_run(void *arg)
{
	struct content_feed *f = arg;
	sigset_t pipe_signal;

	/* A reader that gave up must not kill the process with SIGPIPE:
	 * blocked here, the signal stays pending on this thread, which
	 * discards it when it exits, and the write fails with EPIPE. */
	sigemptyset(&pipe_signal);
	sigaddset(&pipe_signal, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_signal, NULL);

	/* bundle_error() is per thread, so a failure is copied out. */
	if (bundle_write_content(f->bundle, f->ref, f->out) < 0) {
		f->failed = 1;
		snprintf(f->message, sizeof(f->message), "%s", bundle_error());
		snprintf(f->hint, sizeof(f->hint), "%s",
			 bundle_error_hint() ? bundle_error_hint() : "");
	}
	close(f->out);
	return NULL;
}

/* Where byte pos of the stored content goes in the file, and how many
 * bytes from there belong to the same extent. */
static uint64_t place(const struct bundle_tree_entry *e, uint64_t pos,
		      uint64_t *room)
{
	if (!e->sparse) {
		*room = e->size - pos;
		return pos;
	}
	for (uint32_t i = 0; i < e->n_extents; i++) {
		if (pos < e->extents[i].length) {
			*room = e->extents[i].length - pos;
			return e->extents[i].offset + pos;
		}
		pos -= e->extents[i].length;
	}
	*room = 0;
	return 0;
}

/* Write n bytes of the stored content, which start at byte *pos of it,
 * into the current archive entry at their places in the file. Returns 0,
 * or -1 with *why set. */
static int put_block(struct checkout *c, const struct bundle_tree_entry *e,
		     const char *buf, size_t n, uint64_t *pos,
		     const char **why)
{
	size_t used = 0;

	while (used < n) {
		uint64_t room, at = place(e, *pos, &room);
		size_t len = n - used;

		if (room == 0) {
			c->stopped = 1;
			*why = "content longer than its entry";
			return -1;
		}
		if (len > room)
			len = (size_t)room;
		if (archive_write_data_block(c->disk, buf + used, len,
					     (int64_t)at) < 0) {
			c->stopped = 1;
			c->disk_errno = archive_errno(c->disk);
			*why = c->disk_errno ? strerror(c->disk_errno)
					     : archive_error_string(c->disk);
			return -1;
		}
		used += len;
		*pos += len;
	}
	return 0;
}

/* Check that the content came whole, and count it. */
static int content_done(struct checkout *c, const struct bundle_tree_entry *e,
			uint64_t pos, const char **why)
{
	if (pos != bundle_entry_content_size(e)) {
		*why = "content shorter than its entry";
		return -1;
	}
	c->stats->bytes += pos;
	return 0;
}

/* Copy the content from sock into the current archive entry. Returns 0,
 * or -1 with *why set. */
static int copy_content(struct checkout *c, int sock,
			const struct bundle_tree_entry *e, const char **why)
{
	uint64_t pos = 0;
	char *buf = c->buf;

	for (;;) {
		ssize_t got = read(sock, buf, COPY_BUF);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			*why = strerror(errno);
			return -1;
		}
		if (got == 0)
			break;
		if (put_block(c, e, buf, (size_t)got, &pos, why) < 0)
			return -1;
	}
	return content_done(c, e, pos, why);
}

static int content_error(struct checkout *c, const struct content_feed *f,
			 const char *why);

/* Content stored as one blob of at most this many bytes is loaded
 * whole, without the thread that streams larger content. */
#define WHOLE_MAX (4u << 20)

/*
 * Write content stored as one small blob, loaded whole. Starting a thread
 * and a socket pair for each file made a checkout of 20,000 small files
 * into tmpfs about four times as slow: 3.2 to 3.6 s against 0.76 to
 * 0.83 s, by hand on the machine of docs/benchmarks.md.
 */
static int write_blob(struct checkout *c, const struct bundle_tree_entry *e)
{
	struct content_feed f = {.bundle = c->bundle, .ref = &e->ref};
	const char *why = NULL;
	uint64_t pos = 0;
	void *data;
	size_t len;
	int rc;

	c->disk_errno = 0;
	c->stopped = 0;
	rc = bundle_get_max(c->bundle, &e->ref, bundle_entry_content_size(e),
			    &data, &len);
	if (rc == -2)
		return content_error(c, &f, "content longer than its entry");
	if (rc < 0) {
		f.failed = 1;
		snprintf(f.message, sizeof(f.message), "%s", bundle_error());
		snprintf(f.hint, sizeof(f.hint), "%s",
			 bundle_error_hint() ? bundle_error_hint() : "");
		return content_error(c, &f, NULL);
	}
	rc = put_block(c, e, data, len, &pos, &why);
	free(data);
	if (rc == 0)
		rc = content_done(c, e, pos, &why);
	return rc < 0 ? content_error(c, &f, why) : 0;
}

static int write_content(struct checkout *c, const struct bundle_tree_entry *e)
{
	struct content_feed f = {.bundle = c->bundle, .ref = &e->ref};
	const char *why = NULL;
	pthread_t thread;
	int sv[2], err, rc;

	if (e->ref_kind == BUNDLE_BLOB &&
	    bundle_entry_content_size(e) <= WHOLE_MAX)
		return write_blob(c, e);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return disk_error(c, "file");
	f.out = sv[1];
	err = pthread_create(&thread, NULL, feed_run, &f);
	if (err) {
		close(sv[0]);
		close(sv[1]);
		bundle_set_error("cannot check out file: %s", strerror(err));
		return -1;
	}
	c->disk_errno = 0;
	c->stopped = 0;
	rc = copy_content(c, sv[0], e, &why);

	/* Closing our end makes a blocked writer fail instead of hang. */
	close(sv[0]);
	pthread_join(thread, NULL);
	if (rc < 0 || f.failed)
		return content_error(c, &f, why);
	return 0;
}

/*
 * Set the error for content of the current file that did not arrive
 * whole. A reader that failed (a damaged object) makes the copy come up
 * short, so its reason wins. A copy that stopped early (too much content,
 * a failed disk) closes the reader's socket and makes the reader fail
 * too, so then the copy's reason wins.
 */
static int content_error(struct checkout *c, const struct content_feed *f,
			 const char *why)
{
	char shown[4096];

	bundle_name_escape(shown, sizeof(shown),
			   (const unsigned char *)c->path.data, c->path.len);
	if (f->failed && !c->stopped) {
		bundle_set_error("cannot check out file: '%s': %s", shown,
				 f->message);
		if (f->hint[0])
			bundle_set_hint("%s", f->hint);
		return -1;
	}
	bundle_set_error("cannot check out file: '%s': %s", shown,
			 why ? why : "write failed");
	if (c->disk_errno == ENOSPC || c->disk_errno == EDQUOT)
		bundle_set_hint("free space on the file system of '%s', or "
				"check out somewhere else", c->base);
	else if (c->disk_errno == EFBIG)
		bundle_set_hint("raise the file size limit ('ulimit -f')");
	return -1;
}

/* A hardlink target: a relative path of plain names. */
static int link_path_is_safe(const unsigned char *p, size_t len)
{
	size_t start = 0;

	if (len == 0 || p[0] == '/')
		return 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && p[i] != '/')
			continue;
		if (i == start || (i - start == 1 && p[start] == '.') ||
		    (i - start == 2 && p[start] == '.' && p[start + 1] == '.'))
			return 0;
		start = i + 1;
	}
	return 1;
}

static void set_metadata(struct checkout *c, const struct bundle_tree_entry *e)
{
	struct archive_entry *a = c->entry;
	uint32_t mode = e->mode;

	if (!c->options->keep_setid && e->kind == BUNDLE_ENTRY_FILE &&
	    (mode & (S_ISUID | S_ISGID))) {
		mode &= ~(uint32_t)(S_ISUID | S_ISGID);
		c->stats->setid_cleared++;
	}
	archive_entry_set_mode(a, mode);
	/* libarchive drops a setuid or setgid bit when the entry's owner
	 * is not the caller. Without restoring owners, the caller owns the
	 * files, so the entry names the caller, and keep_setid works. */
	if (c->options->owner) {
		archive_entry_set_uid(a, e->uid);
		archive_entry_set_gid(a, e->gid);
	} else {
		archive_entry_set_uid(a, geteuid());
		archive_entry_set_gid(a, getegid());
	}
	archive_entry_set_mtime(a, (time_t)e->mtime_sec, e->mtime_nsec);
	archive_entry_set_atime(a, (time_t)e->mtime_sec, e->mtime_nsec);
}

/* Set the kind-specific fields; returns 1 when the entry is skipped. */
static int set_kind(struct checkout *c, const struct bundle_tree_entry *e,
		    char **text)
{
	struct archive_entry *a = c->entry;

	switch (e->kind) {
	case BUNDLE_ENTRY_FILE:
		archive_entry_set_size(a, (int64_t)e->size);
		return 0;
	case BUNDLE_ENTRY_DIR:
		return 0;
	case BUNDLE_ENTRY_SYMLINK:
		*text = strndup((const char *)e->text, e->text_len);
		archive_entry_set_symlink(a, *text);
		return *text == NULL;
	case BUNDLE_ENTRY_HARDLINK:
		if (!link_path_is_safe(e->text, e->text_len)) {
			skip(c, e->kind, "unsafe hardlink target");
			return 1;
		}
		*text = join(c->base, (const char *)e->text, e->text_len);
		archive_entry_set_hardlink(a, *text);
		archive_entry_set_size(a, 0);
		return *text == NULL;
	case BUNDLE_ENTRY_SPECIAL:
		if (S_ISSOCK(e->mode)) {
			skip(c, e->kind, "sockets cannot be recreated");
			return 1;
		}
		archive_entry_set_rdev(a, (dev_t)e->rdev);
		return 0;
	case BUNDLE_ENTRY_ERROR:
		skip(c, e->kind, "could not be read when snapshotted");
		return 1;
	case BUNDLE_ENTRY_CHANGED:
		skip(c, e->kind, "kept changing when snapshotted");
		return 1;
	}
	return 1;
}

static void count(struct checkout *c, const struct bundle_tree_entry *e)
{
	switch (e->kind) {
	case BUNDLE_ENTRY_FILE:
	case BUNDLE_ENTRY_HARDLINK:
		c->stats->files++;
		break;
	case BUNDLE_ENTRY_DIR:
		c->stats->dirs++;
		break;
	case BUNDLE_ENTRY_SYMLINK:
		c->stats->symlinks++;
		break;
	default:
		c->stats->specials++;
	}
}

static int checkout_tree(struct checkout *c, const struct bundle_id *id);

int bundle_file_size_limit(int fd, uint64_t size, uint64_t *limit)
{
	off_t pos = lseek(fd, 0, SEEK_CUR);
	uint64_t fits, past;

	if (pos < 0)
		return 0;
	/* lseek(2) fails with EINVAL for an offset past the largest file
	 * size that the file system allows, and accepts that size. */
	if (size <= INT64_MAX && lseek(fd, (off_t)size, SEEK_SET) >= 0) {
		lseek(fd, pos, SEEK_SET);
		return 0;
	}
	fits = (uint64_t)pos;
	past = size <= INT64_MAX ? size : (uint64_t)INT64_MAX + 1;
	while (past - fits > 1) {
		uint64_t mid = fits + (past - fits) / 2;

		if (lseek(fd, (off_t)mid, SEEK_SET) >= 0)
			fits = mid;
		else
			past = mid;
	}
	lseek(fd, pos, SEEK_SET);
	*limit = fits;
	return 1;
}

/* Files up to this size are not checked against the file system's
 * limit, which spares an open(2) for each of them. */
#define SIZE_CHECK_MIN (1ull << 30)

/*
 * Fail a file whose size the file system of the checkout cannot hold.
 * Without the check, the write at a sparse file's last extent fails
 * with EINVAL from lseek(2), which names no size and no limit.
 */
static int check_size(struct checkout *c, const struct bundle_tree_entry *e,
		      const char *full)
{
	char shown[4096];
	uint64_t limit;
	int fd, over;

	if (e->size <= SIZE_CHECK_MIN)
		return 0;
	fd = open(full, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return 0;
	over = bundle_file_size_limit(fd, e->size, &limit);
	close(fd);
	if (!over)
		return 0;
	bundle_name_escape(shown, sizeof(shown),
			   (const unsigned char *)c->path.data, c->path.len);
	bundle_set_error("cannot check out file: '%s': %llu bytes: more "
			 "than the %llu bytes that the file system of '%s' "
			 "can hold",
			 shown, (unsigned long long)e->size,
			 (unsigned long long)limit, c->base);
	bundle_set_hint("check out to a file system that holds larger "
			"files");
	return -1;
}

/*
 * Remove a file whose content did not arrive whole: it has its recorded
 * size (the gaps read as NUL bytes) and would get its recorded mtime, so
 * it would look intact. libarchive finishes the entry first, so that it
 * touches no path of ours later.
 */
static void discard_file(struct checkout *c, const char *full)
{
	archive_write_finish_entry(c->disk);
	if (unlink(full) == 0 || errno == ENOENT)
		return;
	/* One that cannot be removed at least loses its size. */
	(void)!truncate(full, 0);
}

static int checkout_entry(struct checkout *c, const struct bundle_tree_entry *e)
{
	char *full = join(c->base, c->path.data, c->path.len);
	char *text = NULL;
	int rc = 0, status;

	if (!full) {
		bundle_set_error("cannot check out: out of memory");
		return -1;
	}
	archive_entry_clear(c->entry);
	archive_entry_copy_pathname(c->entry, full);
	set_metadata(c, e);
	if (set_kind(c, e, &text))
		goto out;

	status = archive_write_header(c->disk, c->entry);
	if (status == ARCHIVE_FAILED) {
		/* Only this entry failed, such as a device node without the
		 * privilege or a path through a symlink: skip it, and what
		 * is below it. */
		const char *why = archive_error_string(c->disk);

		skip(c, e->kind, why ? why : "libarchive cannot create it");
		goto out;
	}
	if (status < ARCHIVE_WARN) {
		rc = disk_error(c, "entry");
		goto out;
	}
	count(c, e);
	/* Content is read for an empty entry too: an entry of size 0
	 * that names longer content is as damaged as one of size 5. */
	if (e->kind == BUNDLE_ENTRY_FILE &&
	    (check_size(c, e, full) < 0 || write_content(c, e) < 0)) {
		discard_file(c, full);
		rc = -1;
		goto out;
	}
	if (rc == 0 && archive_write_finish_entry(c->disk) < ARCHIVE_WARN)
		rc = disk_error(c, "entry");
	if (rc == 0 && e->kind == BUNDLE_ENTRY_DIR)
		rc = checkout_tree(c, &e->ref);
out:
	free(text);
	free(full);
	return rc;
}

static int checkout_tree(struct checkout *c, const struct bundle_id *id)
{
	struct bundle_tree tree;
	enum bundle_kind kind;
	size_t len, mark = c->path.len;
	void *data;
	int rc = 0;

	/* A snapshot stores trees up to BUNDLE_SNAPSHOT_MAX_DEPTH levels
	 * below the root tree, so checkout accepts as many. */
	if (c->depth > BUNDLE_SNAPSHOT_MAX_DEPTH) {
		bundle_set_error("cannot check out: '%s': trees nested deeper "
				 "than %d levels",
				 c->path.data, BUNDLE_SNAPSHOT_MAX_DEPTH);
		return -1;
	}
	if (bundle_get(c->bundle, id, &data, &len, &kind) < 0)
		return -1;
	if (kind != BUNDLE_TREE || bundle_tree_parse(&tree, data, len) < 0) {
		char hex[BUNDLE_ID_HEX_LEN + 1];

		bundle_id_to_hex(id, hex);
		bundle_set_error("cannot check out tree: '%s': not a valid "
				 "tree object",
				 hex);
		free(data);
		return -1;
	}

	c->depth++;
	for (size_t i = 0; i < tree.n_entries && rc == 0; i++) {
		const struct bundle_tree_entry *e = &tree.entries[i];

		rc = snapshot_path_push(&c->path, (const char *)e->name,
					e->name_len);
		if (rc == 0)
			rc = checkout_entry(c, e);
		snapshot_path_pop(&c->path, mark);
	}
	c->depth--;
	bundle_tree_release(&tree);
	free(data);
	return rc;
}

int bundle_dir_is_empty(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int empty = 1;

	if (!d)
		return -1;
	while (empty && (de = readdir(d)))
		empty = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
	closedir(d);
	return empty;
}

/* Create dir when missing, and reject a non-empty one unless forced.
 * Return 1 when dir was created or found empty, so that after a failure
 * it contains only what the checkout wrote, 0 for a directory with
 * entries that force allows, -1 with a message otherwise. */
static int prepare_dir(const char *dir, int force, const char *hint)
{
	struct stat st;
	int empty, saved_errno;

	if (mkdir(dir, 0755) == 0)
		return 1;
	/* access() below would report EACCES for a file without x bits,
	 * and --force would write entries below a file. */
	saved_errno = errno;
	if (saved_errno == EEXIST && stat(dir, &st) == 0 &&
	    !S_ISDIR(st.st_mode)) {
		bundle_set_error("cannot check out into directory: '%s': it "
				 "exists and is not a directory", dir);
		bundle_set_hint("name a directory, or a new one, which "
				"checkout creates");
		return -1;
	}
	errno = saved_errno;
	/* An empty directory of another user, such as one made with sudo,
	 * would otherwise fail at each entry with libarchive's "Can't
	 * create", which gives no reason. */
	if (errno == EEXIST && access(dir, W_OK | X_OK) < 0) {
		if (errno == EACCES || errno == EROFS) {
			bundle_set_error("cannot check out into directory: "
					 "'%s': %s", dir, strerror(errno));
			bundle_set_hint("name a directory that you can write, "
					"or a new one, which checkout creates");
			return -1;
		}
		errno = EEXIST;
	}
	if (force)
		return bundle_dir_is_empty(dir) == 1;
	if (errno != EEXIST)
		goto fail;
	empty = bundle_dir_is_empty(dir);
	if (empty < 0 && errno == ENOENT) {
		/* mkdir found the name, so it is a symlink to nothing,
		 * which the checkout would otherwise call missing. */
		bundle_set_error("cannot check out into directory: '%s': it "
				 "exists, as a dangling symlink", dir);
		bundle_set_hint("remove it or name another directory");
		return -1;
	}
	if (empty < 0)
		goto fail;
	if (empty)
		return 1;
	bundle_set_error("cannot check out into directory: '%s': not empty",
			 dir);
	if (hint)
		bundle_set_hint("%s", hint);
	else
		bundle_set_hint("name a new directory, or pass --force to "
				"write over what is there");
	return -1;

fail:
	bundle_set_error("cannot check out into directory: '%s': %s", dir,
			 strerror(errno));
	return -1;
}

static int open_disk(struct checkout *c)
{
	int flags = ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
		    ARCHIVE_EXTRACT_SECURE_SYMLINKS |
		    ARCHIVE_EXTRACT_SECURE_NODOTDOT;

	if (c->options->owner)
		flags |= ARCHIVE_EXTRACT_OWNER;
	c->disk = archive_write_disk_new();
	c->entry = archive_entry_new();
	c->buf = malloc(COPY_BUF);
	if (!c->disk || !c->entry || !c->buf ||
	    archive_write_disk_set_options(c->disk, flags) != ARCHIVE_OK) {
		bundle_set_error("cannot check out: libarchive setup failed");
		return -1;
	}
	return 0;
}

/* Give the target directory the snapshot root's metadata. */
static int apply_root_meta(struct checkout *c)
{
	const struct bundle_root_meta *m = c->options->root;
	struct timespec times[2];

	if (!m || !m->have)
		return 0;
	if (c->options->owner && chown(c->base, m->uid, m->gid) < 0)
		goto fail;
	if (chmod(c->base, m->mode & 07777) < 0)
		goto fail;
	times[0].tv_sec = times[1].tv_sec = (time_t)m->mtime_sec;
	times[0].tv_nsec = times[1].tv_nsec = (long)m->mtime_nsec;
	if (utimensat(AT_FDCWD, c->base, times, 0) < 0)
		goto fail;
	return 0;

fail:
	bundle_set_error("cannot restore directory metadata: '%s': %s",
			 c->base, strerror(errno));
	return -1;
}

int bundle_checkout(struct bundle *bundle, const struct bundle_id *root,
		    const char *dir,
		    const struct bundle_checkout_options *options,
		    struct bundle_checkout_stats *stats)
{
	static const struct bundle_checkout_options no_options;
	struct bundle_checkout_stats own_stats;
	struct checkout c = {.bundle = bundle};
	int rc = -1, fresh;

	c.options = options ? options : &no_options;
	c.stats = stats ? stats : &own_stats;
	memset(c.stats, 0, sizeof(*c.stats));
	/* Before the target is made, so that a snapshot too large to
	 * write leaves nothing behind. */
	if (bundle_tree_check_size(bundle, root) < 0)
		return -1;
	fresh = prepare_dir(dir, c.options->force, c.options->not_empty_hint);
	if (fresh < 0)
		return -1;
	c.stats->started = fresh;
	c.base = realpath(dir, NULL);
	if (!c.base) {
		bundle_set_error("cannot check out into directory: '%s': %s",
				 dir, strerror(errno));
		return -1;
	}
	if (open_disk(&c) == 0)
		rc = checkout_tree(&c, root);

	/* Closing applies the deferred modes and mtimes of directories. */
	if (c.disk && archive_write_close(c.disk) != ARCHIVE_OK && rc == 0)
		rc = disk_error(&c, "directory metadata");
	if (rc == 0)
		rc = apply_root_meta(&c);
	archive_write_free(c.disk);
	archive_entry_free(c.entry);
	free(c.buf);
	snapshot_path_release(&c.path);
	free(c.base);
	return rc;
}
