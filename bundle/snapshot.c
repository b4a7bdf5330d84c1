/*
 * snapshot.c - walk a directory and store it as tree objects.
 *
 * The walk keeps an open descriptor per level and works with the *at()
 * calls, so a path is never resolved twice and a directory renamed during
 * the walk cannot redirect it. See snapshot.h for the invariants.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bundle/snapshot.h"
#include "bundle/snapshot_internal.h"
#include "bundle/store.h"

/* Sparse files with more data extents than this are stored whole, so a
 * badly fragmented file cannot make its tree object huge. */
#define MAX_EXTENTS 65536

struct walk {
	struct bundle *bundle;
	const struct bundle_snapshot_options *options;
	struct bundle_snapshot_stats *stats;
	int use_cache;
	struct timespec racy;  /* cached mtimes at or after this are racy */
	const char *root_path; /* absolute: the stat cache's key prefix */
	struct snapshot_path path;
	struct snapshot_links links;
	struct snapshot_lister lister;
	int depth;
	int near_absent; /* the directory being walked is, or lies above, a
			  * path of options->absent_if_empty */
	uint64_t reported; /* stats->bytes_read at the last on_progress */
};

/* Bytes read between two calls of on_progress inside one directory, so
 * that a directory of large files shows progress, and its caller can
 * stop, between files. */
#define PROGRESS_BYTES (8u << 20)

static void progress(struct walk *w)
{
	w->reported = w->stats->bytes_read;
	if (w->options->on_progress)
		w->options->on_progress(w->stats, w->options->arg);
}

static void report(struct walk *w, enum bundle_entry_kind kind, const char *why)
{
	char *escaped;

	if (kind == BUNDLE_ENTRY_ERROR)
		w->stats->errors++;
	else
		w->stats->changed++;
	if (!w->options->on_problem)
		return;
	/* The root itself is ".", which no entry's path can be. The path
	 * is whole, however deep: the caller tells problems apart by it. */
	if (w->path.len == 0)
		escaped = strdup(".");
	else
		escaped = bundle_name_escape_dup((const unsigned char *)
						 w->path.data, w->path.len);
	w->options->on_problem(escaped ? escaped : "(out of memory)", kind,
			       why, w->options->arg);
	free(escaped);
}

static void fill_stat(struct bundle_tree_entry *e, const struct stat *st)
{
	e->mode = st->st_mode;
	e->uid = st->st_uid;
	e->gid = st->st_gid;
	e->mtime_sec = st->st_mtim.tv_sec;
	e->mtime_nsec = (uint32_t)st->st_mtim.tv_nsec;
	e->size = (uint64_t)st->st_size;
}

/* The data extents of a sparse file, found with SEEK_DATA and SEEK_HOLE.
 * Returns the count, or -1 when the file should be read whole (not
 * sparse, too fragmented, or the filesystem cannot tell). Sets *moved
 * when it moved the file offset. */
static long find_extents(int fd, const struct stat *st,
			 struct bundle_extent **out, int *moved)
{
	struct bundle_extent *ext = NULL;
	size_t n = 0, alloc = 0;
	off_t off = 0;

	*out = NULL;
	if ((uint64_t)st->st_blocks * 512 >= (uint64_t)st->st_size)
		return -1;
	*moved = 1;
	while (off < st->st_size) {
		off_t data = lseek(fd, off, SEEK_DATA);
		off_t hole;

		if (data < 0 && errno == ENXIO)
			break;
		if (data < 0 || data >= st->st_size)
			goto whole;
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0 || hole > st->st_size)
			hole = st->st_size;
		if (n == alloc) {
			struct bundle_extent *grown;

			if (n == MAX_EXTENTS)
				goto whole;
			alloc = alloc ? alloc * 2 : 16;
			grown = realloc(ext, alloc * sizeof(*ext));
			if (!grown)
				goto whole;
			ext = grown;
		}
		ext[n].offset = (uint64_t)data;
		ext[n].length = (uint64_t)(hole - data);
		n++;
		off = hole;
	}
	if (n == 1 && ext[0].offset == 0 &&
	    ext[0].length == (uint64_t)st->st_size)
		goto whole;
	*out = ext;
	return (long)n;

whole:
	free(ext);
	return -1;
}

static int add_error(struct walk *w, struct bundle_tree *tree,
		     struct bundle_tree_entry *e, const char *why)
{
	e->kind = BUNDLE_ENTRY_ERROR;
	e->sparse = 0;
	e->text = (const unsigned char *)why;
	e->text_len = strlen(why);
	report(w, BUNDLE_ENTRY_ERROR, why);
	return bundle_tree_add(tree, e);
}

/*
 * Add an error entry for a failed call, as add_error() does, unless the
 * error is about the process, not the path. Out of file descriptors, the
 * walk would record readable files as unreadable, so the snapshot fails.
 */
static int add_errno(struct walk *w, struct bundle_tree *tree,
		     struct bundle_tree_entry *e, int err)
{
	char shown[PATH_MAX];

	if (err != EMFILE && err != ENFILE)
		return add_error(w, tree, e, strerror(err));
	bundle_name_escape(shown, sizeof(shown),
			   (const unsigned char *)w->path.data, w->path.len);
	bundle_set_error("cannot snapshot: '%s': %s", shown, strerror(err));
	bundle_set_hint(err == EMFILE ?
			"raise the limit of open files (ulimit -n) and "
			"run it again" :
			"the system is out of open files; run it again "
			"when fewer are open");
	return -1;
}

/* Leave out an entry that was listed but was gone when it was read: a
 * file deleted during the walk, as a build's temporary files are. It is
 * absent, as if it had been deleted before the walk, not unreadable.
 * Takes back the count that the entry added. Returns 1, as for an entry
 * left out under invariant 5. */
static int vanished(uint64_t *count)
{
	(*count)--;
	return 1;
}

/* Name the file in the message of a failed store. Returns -1. */
static int store_failed(struct walk *w)
{
	char shown[PATH_MAX];
	/* The message is set anew from itself, so it is copied first. */
	char *message = strdup(bundle_error());

	bundle_name_escape(shown, sizeof(shown),
			   (const unsigned char *)w->path.data, w->path.len);
	bundle_set_error("cannot snapshot file: '%s': %s", shown,
			 message ? message : "out of memory");
	free(message);
	return -1;
}

static int same_file_state(const struct stat *a, const struct stat *b)
{
	return a->st_size == b->st_size && a->st_ino == b->st_ino &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	       a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* The bytes that reading a file should store: its size, or the length
 * of its data extents when it is sparse. */
static uint64_t expected_bytes(const struct stat *st,
			       const struct bundle_extent *extents, long n)
{
	uint64_t sum = 0;

	if (n < 0)
		return (uint64_t)st->st_size;
	for (long i = 0; i < n; i++)
		sum += extents[i].length;
	return sum;
}

/*
 * Read the regular file open at fd once and store its content in e.
 * before is its fstat, taken when it was opened. *moved is 1 when the
 * file offset may have left 0, and is set when it does. Returns 1 when
 * the file stayed the same while it was read, 0 when it changed (the
 * caller reads again), -1 when storing failed, and -2 with *read_errno
 * set when reading the file failed.
 */
static int read_once(struct walk *w, int fd, const struct stat *before,
		     struct bundle_tree_entry *e,
		     struct bundle_extent **extents, int *moved,
		     int *read_errno)
{
	struct stat after;
	struct bundle_id content;
	uint64_t stored = 0;
	long n;

	free(*extents);
	n = find_extents(fd, before, extents, moved);
	if (n >= 0) {
		if (snapshot_put_extents(w->bundle, fd, *extents, (size_t)n,
					 &e->ref, &content, &stored,
					 read_errno) < 0)
			return *read_errno ? -2 : -1;
	} else {
		/* A file just opened is read from 0 without a seek. */
		if (*moved && lseek(fd, 0, SEEK_SET) < 0)
			return 0;
		*moved = 1;
		/* Reading stops at st_size, without the read(2) that returns
		 * EOF. A file that grew meanwhile has another size in the
		 * fstat below, and is read again. */
		if (store_put_fd_expected(w->bundle, fd,
					  (uint64_t)before->st_size, &e->ref,
					  &content, &stored, read_errno) < 0)
			return *read_errno ? -2 : -1;
	}

	/* A single blob's id is the hash of the content itself; a chunk
	 * list's id is the hash of the list. */
	e->ref_kind = memcmp(&e->ref, &content, sizeof(content)) == 0
			      ? BUNDLE_BLOB
			      : BUNDLE_CHUNKS;
	w->stats->bytes_read += stored;
	if (fstat(fd, &after) < 0 || !same_file_state(before, &after))
		return 0;

	fill_stat(e, before);
	e->sparse = n >= 0;
	e->extents = n > 0 ? *extents : NULL;
	e->n_extents = n > 0 ? (uint32_t)n : 0;
	return stored == expected_bytes(before, *extents, n);
}

/* O_NONBLOCK: a FIFO put in the file's place after its lstat would make
 * a blocking open wait for a writer for ever, beyond any timeout or
 * signal of the recorder. It changes nothing for a regular file. */
static int open_file(int dirfd, const char *name)
{
	int flags = O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC;
	int fd = openat(dirfd, name, flags | O_NOATIME);

	/* O_NOATIME needs ownership or CAP_FOWNER. */
	if (fd < 0 && errno == EPERM)
		fd = openat(dirfd, name, flags);
	return fd;
}

static int same_inode(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/*
 * Open the file of it and check that it is the regular file that was
 * lstat'ed, because the agent can put another file in its place in
 * between. Returns the descriptor, with its fstat in *opened, or -1
 * with errno set when the open failed and the file is still the same.
 * Returns -2 when another file is there now, and puts its lstat in
 * it->st for the next try.
 */
static int open_stated(int dirfd, struct snapshot_item *it,
		       struct stat *opened)
{
	struct stat st;
	int fd = open_file(dirfd, it->name), err = errno;

	if (fd >= 0 && fstat(fd, opened) == 0 && S_ISREG(opened->st_mode) &&
	    same_inode(opened, &it->st))
		return fd;
	if (fd >= 0)
		close(fd);
	if (fstatat(dirfd, it->name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		/* Gone: a change when it opened, else the open's error. */
		errno = err;
		return fd < 0 ? -1 : -2;
	}
	if (fd < 0 && same_inode(&st, &it->st) &&
	    (st.st_mode & S_IFMT) == (it->st.st_mode & S_IFMT)) {
		errno = err;
		return -1;
	}
	it->st = st;
	return -2;
}

/*
 * Read the file of it into e, opening it again for each try, so that a
 * file replaced by another is read as it is now. Returns like
 * read_once(): 0 when it kept changing for BUNDLE_SNAPSHOT_READ_TRIES
 * tries, or is no longer a regular file, which ends the tries at once.
 */
static int read_file(struct walk *w, int dirfd, struct snapshot_item *it,
		     struct bundle_tree_entry *e,
		     struct bundle_extent **extents, int *read_errno)
{
	int rc = 0;

	for (int i = 0; i < BUNDLE_SNAPSHOT_READ_TRIES && rc == 0; i++) {
		struct stat opened;
		int moved = 0, fd;

		if (!S_ISREG(it->st.st_mode))
			return 0;
		fd = open_stated(dirfd, it, &opened);
		if (fd == -1) {
			*read_errno = errno;
			return -2;
		}
		if (fd == -2)
			continue;
		rc = read_once(w, fd, &opened, e, extents, &moved, read_errno);
		close(fd);
	}
	return rc;
}

static int is_racy(const struct walk *w, int64_t sec, uint32_t nsec)
{
	return sec > w->racy.tv_sec ||
	       (sec == w->racy.tv_sec && nsec >= (uint32_t)w->racy.tv_nsec);
}

/* git's rule: every field of the stat data must match, ctime, inode and
 * device included, because cp -p, tar -x and touch -r can give new
 * content the old size, mode and mtime. */
static int cache_hit(struct walk *w, const struct stat *st,
		     const struct bundle_tree_entry *old,
		     const unsigned char *rec)
{
	if (!old || old->kind != BUNDLE_ENTRY_FILE || !rec ||
	    !snapshot_cache_matches(rec, st))
		return 0;
	if (old->mode != st->st_mode || old->uid != st->st_uid ||
	    old->gid != st->st_gid || old->size != (uint64_t)st->st_size ||
	    old->mtime_sec != st->st_mtim.tv_sec ||
	    old->mtime_nsec != (uint32_t)st->st_mtim.tv_nsec)
		return 0;
	return !is_racy(w, old->mtime_sec, old->mtime_nsec);
}

/* A regular file: from the cache, as a hardlink, or read. Returns -1
 * only when the store failed; unreadable files become entries. */
static int snap_file(struct walk *w, int dirfd, struct snapshot_item *it,
		     const struct bundle_tree_entry *old,
		     const unsigned char *rec, struct bundle_tree *tree,
		     struct bundle_tree_entry *e)
{
	struct bundle_extent *extents = NULL;
	uint64_t size = (uint64_t)it->st.st_size;
	const char *link;
	int read_errno = 0, rc;

	e->kind = BUNDLE_ENTRY_FILE;
	w->stats->files++;
	w->stats->bytes += size;
	if (it->st.st_nlink > 1) {
		link = snapshot_links_find(&w->links, &it->st);
		/* Checkout cannot link to a first link at PATH_MAX or
		 * deeper, and a hardlink entry stores at most 65535 bytes,
		 * so such a file is stored as a copy. */
		if (link && strlen(link) < PATH_MAX) {
			e->kind = BUNDLE_ENTRY_HARDLINK;
			e->text = (const unsigned char *)link;
			e->text_len = strlen(link);
			return bundle_tree_add(tree, e);
		}
	}
	if (w->use_cache && cache_hit(w, &it->st, old, rec)) {
		*e = *old;
		w->stats->cached++;
		goto stored;
	}

	rc = read_file(w, dirfd, it, e, &extents, &read_errno);
	if (rc == -2 && read_errno == ENOENT) {
		free(extents);
		w->stats->bytes -= size;
		return vanished(&w->stats->files);
	}
	if (rc == -2) {
		free(extents);
		return add_errno(w, tree, e, read_errno);
	}
	if (rc < 0) {
		free(extents);
		return store_failed(w);
	}
	if (rc == 0) {
		e->kind = BUNDLE_ENTRY_CHANGED;
		e->sparse = 0;
		report(w, BUNDLE_ENTRY_CHANGED, "changed while it was read");
		rc = bundle_tree_add(tree, e);
		free(extents);
		return rc;
	}

stored:
	rc = bundle_tree_add(tree, e);
	free(extents);
	/* A file put in this one's place may be known by another path. */
	if (rc == 0 && it->st.st_nlink > 1 &&
	    !snapshot_links_find(&w->links, &it->st))
		rc = snapshot_links_add(&w->links, &it->st, w->path.data);
	return rc;
}

static int snap_symlink(struct walk *w, int dirfd,
			const struct snapshot_item *it,
			struct bundle_tree *tree, struct bundle_tree_entry *e)
{
	size_t size = (size_t)it->st.st_size + 1;
	ssize_t got;
	char *target;
	int rc;

	w->stats->symlinks++;
	for (;;) {
		target = malloc(size);
		if (!target)
			return add_error(w, tree, e, "out of memory");
		got = readlinkat(dirfd, it->name, target, size);
		if (got < 0 && errno == ENOENT) {
			free(target);
			return vanished(&w->stats->symlinks);
		}
		if (got < 0) {
			free(target);
			return add_errno(w, tree, e, errno);
		}
		if ((size_t)got < size)
			break;
		free(target);
		if (size > BUNDLE_TREE_TEXT_MAX)
			return add_error(w, tree, e, "symlink target too long");
		size *= 2;
	}
	e->kind = BUNDLE_ENTRY_SYMLINK;
	e->size = (uint64_t)got;
	e->text = (const unsigned char *)target;
	e->text_len = (size_t)got;
	if (got == 0)
		rc = add_error(w, tree, e, "empty symlink target");
	else
		rc = bundle_tree_add(tree, e);
	free(target);
	return rc;
}

static int walk_dir(struct walk *w, struct snapshot_listing *listing,
		    const struct bundle_id *old_id, int absent_if_empty,
		    struct bundle_id *id);

/* Whether the directory at w->path is, or lies above, a path of
 * absent_if_empty, and in *listed whether it is one. */
static int is_near_absent(const struct walk *w, int *listed)
{
	const struct bundle_snapshot_options *o = w->options;
	int near = 0;

	*listed = 0;
	for (size_t i = 0; i < o->n_absent_if_empty; i++) {
		const char *p = o->absent_if_empty[i];

		if (strncmp(p, w->path.data, w->path.len) != 0)
			continue;
		if (p[w->path.len] == '\0')
			*listed = near = 1;
		else if (p[w->path.len] == '/')
			near = 1;
	}
	return near;
}

/* A directory: stored with its tree. Returns 1 when it is left out
 * under invariant 5, then with nothing added to tree. */
static int snap_dir(struct walk *w, int dirfd, struct snapshot_item *it,
		    const struct bundle_tree_entry *old,
		    struct bundle_tree *tree, struct bundle_tree_entry *e)
{
	const struct bundle_id *old_id = NULL;
	struct snapshot_listing listing;
	int near = w->near_absent, listed = 0, rc;

	w->stats->dirs++;
	if (w->depth >= BUNDLE_SNAPSHOT_MAX_DEPTH)
		return add_error(w, tree, e, "nested too deep to snapshot");
	if (it->job)
		snapshot_lister_take(&w->lister, it, &listing);
	else
		snapshot_list_at(w->options, dirfd, it->name, w->path.data,
				 w->path.len, &listing);
	if (listing.fd < 0 && listing.open_errno == ENOENT)
		return vanished(&w->stats->dirs);
	if (listing.fd < 0)
		return add_errno(w, tree, e, listing.open_errno);
	if (listing.list_errno) {
		int list_errno = listing.list_errno;

		snapshot_listing_release(&listing);
		if (list_errno == ENOMEM) {
			bundle_set_error("cannot snapshot: out of memory");
			return -1;
		}
		return add_errno(w, tree, e, list_errno);
	}
	if (old && old->kind == BUNDLE_ENTRY_DIR)
		old_id = &old->ref;

	/* The common case, with no listed path below, does not compare. */
	if (near)
		w->near_absent = is_near_absent(w, &listed);
	w->depth++;
	rc = walk_dir(w, &listing, old_id, listed, &e->ref);
	w->depth--;
	w->near_absent = near;
	snapshot_listing_release(&listing);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		w->stats->dirs--;
		return 1;
	}
	e->kind = BUNDLE_ENTRY_DIR;
	e->ref_kind = BUNDLE_TREE;
	e->size = 0; /* it depends on the directory's history, not content */
	return bundle_tree_add(tree, e);
}

/* The previous tree of the directory being walked, and the stat cache
 * records of its entries (NULL when it has none). */
struct old_dir {
	struct bundle_tree tree;
	void *data;
	size_t len; /* of data: the encoded tree */
	unsigned char *records;
	int have;
};

/* Find the previous entry of the same name. Both lists are in tree
 * order, so it is most often the one at the same index. */
static const struct bundle_tree_entry *
find_old(const struct bundle_tree *old, size_t index,
	 const struct bundle_tree_entry *e)
{
	if (index < old->n_entries) {
		const struct bundle_tree_entry *guess = &old->entries[index];

		if (guess->name_len == e->name_len &&
		    memcmp(guess->name, e->name, e->name_len) == 0)
			return guess;
	}
	return bundle_tree_find(old, e->name, e->name_len);
}

static int snap_item(struct walk *w, int dirfd, struct snapshot_item *it,
		     size_t index, const struct old_dir *old_dir,
		     struct bundle_tree *tree)
{
	const struct bundle_tree_entry *old = NULL;
	const unsigned char *rec = NULL;
	struct bundle_tree_entry e;
	mode_t type = it->st.st_mode & S_IFMT;

	memset(&e, 0, sizeof(e));
	e.name = (const unsigned char *)it->name;
	e.name_len = it->name_len;
	if (it->stat_errno == ENOENT)
		return 1;
	if (it->stat_errno)
		return add_errno(w, tree, &e, it->stat_errno);
	fill_stat(&e, &it->st);
	if (old_dir->have)
		old = find_old(&old_dir->tree, index, &e);
	if (old && old_dir->records)
		rec = old_dir->records + (size_t)(old - old_dir->tree.entries) *
						 SNAPSHOT_CACHE_RECORD;

	switch (type) {
	case S_IFREG:
		return snap_file(w, dirfd, it, old, rec, tree, &e);
	case S_IFDIR:
		return snap_dir(w, dirfd, it, old, tree, &e);
	case S_IFLNK:
		return snap_symlink(w, dirfd, it, tree, &e);
	default:
		w->stats->specials++;
		e.kind = BUNDLE_ENTRY_SPECIAL;
		e.size = 0;
		e.rdev = it->st.st_rdev;
		return bundle_tree_add(tree, &e);
	}
}

/* The stat cache key of the directory being walked: its absolute path,
 * raw bytes without a NUL. Returns NULL when out of memory. */
static char *dir_key(const struct walk *w, size_t *len)
{
	size_t root_len = strlen(w->root_path);
	char *key = malloc(root_len + 1 + w->path.len + 1);

	if (!key)
		return NULL;
	memcpy(key, w->root_path, root_len);
	*len = root_len;
	if (w->path.len) {
		key[(*len)++] = '/';
		memcpy(key + *len, w->path.data, w->path.len);
		*len += w->path.len;
	}
	return key;
}

/* The previous tree of this directory, or nothing when it cannot be
 * loaded: the cache only saves reading, so a damaged one is ignored. */
static int load_old_dir(struct walk *w, const struct bundle_id *old_id,
			struct old_dir *old)
{
	size_t key_len;
	enum bundle_kind kind;
	char *key;
	int rc;

	memset(old, 0, sizeof(*old));
	if (!old_id || !w->use_cache)
		return 0;
	if (bundle_get(w->bundle, old_id, &old->data, &old->len, &kind) < 0 ||
	    kind != BUNDLE_TREE ||
	    bundle_tree_parse(&old->tree, old->data, old->len) < 0) {
		free(old->data);
		old->data = NULL;
		return 0;
	}
	old->have = 1;
	key = dir_key(w, &key_len);
	if (!key)
		return 0; /* nothing cached: every file is read */
	rc = snapshot_cache_load(w->bundle, key, key_len, old_id,
				 old->tree.n_entries, &old->records);
	free(key);
	return rc;
}

static void release_old_dir(struct old_dir *old)
{
	if (old->have)
		bundle_tree_release(&old->tree);
	free(old->data);
	free(old->records);
}

/*
 * Store the stat cache records of the tree just stored, unless the
 * previous snapshot left the same ones. items and tree->entries are both
 * in tree order, one entry per item that is not left out.
 */
static int store_records(struct walk *w, const struct snapshot_item *items,
			 size_t n_items, const struct bundle_tree *tree,
			 const struct bundle_id *id,
			 const struct bundle_id *old_id,
			 const struct old_dir *old)
{
	size_t n = tree->n_entries, key_len;
	unsigned char *records;
	char *key;
	int rc = 0;

	if (n == 0)
		return 0;
	records = malloc(n * SNAPSHOT_CACHE_RECORD);
	if (!records) {
		bundle_set_error("cannot store stat cache: out of memory");
		return -1;
	}
	/* The items left out have no entry: skip them. */
	for (size_t i = 0, j = 0; i < n && j < n_items; i++, j++) {
		while (j < n_items && items[j].left_out)
			j++;
		snapshot_cache_record(records + i * SNAPSHOT_CACHE_RECORD,
				      tree->entries[i].kind == BUNDLE_ENTRY_FILE
					      ? &items[j].st
					      : NULL);
	}
	if (!old_id || memcmp(old_id, id, sizeof(*id)) || !old->records ||
	    memcmp(old->records, records, n * SNAPSHOT_CACHE_RECORD)) {
		key = dir_key(w, &key_len);
		rc = key ? snapshot_cache_store(w->bundle, key, key_len, id,
						records, n)
			 : -1;
		if (!key)
			bundle_set_error("cannot store stat cache: out of "
					 "memory");
		free(key);
	}
	free(records);
	return rc;
}

/*
 * Store the tree, or take the previous tree's id when the tree would
 * encode to the same bytes. bundle_get() checked that those bytes hash
 * to old_id, so encoding and hashing them again would only repeat that.
 */
static int put_tree(struct walk *w, struct bundle_tree *tree,
		    const struct bundle_id *old_id, const struct old_dir *old,
		    struct bundle_id *id)
{
	void *data;
	size_t len;
	int rc;

	if (old_id && old->have && bundle_tree_same(tree, &old->tree)) {
		*id = *old_id;
		return 0;
	}
	if (bundle_tree_encode(tree, &data, &len) < 0)
		return -1;
	rc = bundle_put(w->bundle, BUNDLE_TREE, data, len, id);
	free(data);
	return rc;
}

/*
 * Store the listed directory as a tree and return its id. Returns -1 when
 * the store failed, and 1 without storing anything when absent_if_empty
 * is set and the directory is empty under invariant 5. The listing keeps
 * its descriptor and items.
 */
static int walk_dir(struct walk *w, struct snapshot_listing *listing,
		    const struct bundle_id *old_id, int absent_if_empty,
		    struct bundle_id *id)
{
	struct snapshot_item *items = listing->items;
	size_t n_items = listing->n, mark = w->path.len, n_left_out = 0;
	struct bundle_tree tree;
	struct old_dir old;
	int rc;

	if (w->depth < BUNDLE_SNAPSHOT_MAX_DEPTH)
		snapshot_lister_queue(&w->lister, listing->fd, &w->path, items,
				      n_items);
	rc = load_old_dir(w, old_id, &old);
	bundle_tree_init(&tree);

	for (size_t i = 0; i < n_items && rc == 0; i++) {
		rc = snapshot_path_push(&w->path, items[i].name,
					items[i].name_len);
		if (rc == 0)
			rc = snap_item(w, listing->fd, &items[i], i, &old,
				       &tree);
		if (rc == 1) {
			items[i].left_out = 1;
			n_left_out++;
			rc = 0;
		}
		snapshot_path_pop(&w->path, mark);
		if (rc == 0 &&
		    w->stats->bytes_read - w->reported >= PROGRESS_BYTES)
			progress(w);
	}
	snapshot_lister_cancel(&w->lister, items, n_items);
	if (rc == 0 && absent_if_empty && tree.n_entries == 0 &&
	    listing->excluded == 0) {
		bundle_tree_release(&tree);
		release_old_dir(&old);
		return 1;
	}
	if (rc == 0)
		rc = put_tree(w, &tree, old_id, &old, id);
	if (rc == 0 && tree.n_entries + n_left_out == n_items)
		rc = store_records(w, items, n_items, &tree, id, old_id, &old);
	if (rc == 0)
		progress(w);

	bundle_tree_release(&tree);
	release_old_dir(&old);
	return rc < 0 ? -1 : 0;
}

static void fill_root_meta(struct bundle_root_meta *meta, int fd)
{
	struct stat st;

	memset(meta, 0, sizeof(*meta));
	if (fstat(fd, &st) < 0)
		return;
	meta->have = 1;
	meta->mode = st.st_mode;
	meta->uid = st.st_uid;
	meta->gid = st.st_gid;
	meta->mtime_sec = st.st_mtim.tv_sec;
	meta->mtime_nsec = (uint32_t)st.st_mtim.tv_nsec;
}

/*
 * Store a root that exists but cannot be read as an empty tree with the
 * root's own metadata. An agent may chmod its own workspace to 0. The
 * root counts as one error, as a subdirectory that cannot be read does.
 * Returns -1 with the error set when why is not a permission error.
 */
static int unreadable_root(struct walk *w, const char *dir, const char *shown,
			   int why, struct bundle_snapshot *snapshot)
{
	struct snapshot_listing empty;
	int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd < 0 || (why != EACCES && why != EPERM)) {
		bundle_set_error("cannot read directory: '%s': %s", shown,
				 strerror(why));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	fill_root_meta(&snapshot->root_meta, fd);
	close(fd);
	report(w, BUNDLE_ENTRY_ERROR, strerror(why));

	memset(&empty, 0, sizeof(empty));
	empty.fd = -1;
	rc = walk_dir(w, &empty, NULL, 0, &snapshot->root);
	snapshot_listing_release(&empty);
	return rc;
}

static int walk_root(struct walk *w, const char *dir, const char *shown,
		     const struct bundle_id *old_root,
		     struct bundle_snapshot *snapshot)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct snapshot_listing listing;
	int rc;

	if (fd < 0 && (errno == EACCES || errno == EPERM))
		return unreadable_root(w, dir, shown, errno, snapshot);
	if (fd < 0) {
		bundle_set_error("cannot open directory: '%s': %s", shown,
				 strerror(errno));
		return -1;
	}

	/* Before the walk: listing the directory changes only its atime. */
	fill_root_meta(&snapshot->root_meta, fd);
	if (snapshot_list(w->options, fd, "", 0, &listing) < 0) {
		int list_errno = listing.list_errno;

		snapshot_listing_release(&listing);
		if (list_errno == EACCES)
			return unreadable_root(w, dir, shown, list_errno,
					       snapshot);
		bundle_set_error("cannot read directory: '%s': %s", shown,
				 strerror(list_errno));
		return -1;
	}
	w->near_absent = w->options->n_absent_if_empty > 0;
	rc = walk_dir(w, &listing, old_root, 0, &snapshot->root);
	snapshot_listing_release(&listing);
	return rc;
}

/* Whether path names a directory below the root: not empty, relative,
 * and without an empty, "." or ".." component. */
static int is_below_root(const char *path)
{
	const char *p = path;

	for (;;) {
		size_t len = strcspn(p, "/");

		if (len == 0 || (len == 1 && p[0] == '.') ||
		    (len == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		if (p[len] == '\0')
			return 1;
		p += len + 1;
	}
}

/* Check the paths of one option; root_too lets "." name the root. */
static int check_paths(const char *what, const char *const *paths,
		       size_t n, int root_too)
{
	for (size_t i = 0; i < n; i++) {
		const char *path = paths[i];

		if (path && root_too && strcmp(path, ".") == 0)
			continue;
		if (!path || !is_below_root(path)) {
			bundle_set_error("invalid %s path: '%s': not relative "
					 "to the snapshot root, or has an "
					 "empty, '.' or '..' component",
					 what, path ? path : "(null)");
			return -1;
		}
	}
	return 0;
}

static int check_options(const struct bundle_snapshot_options *o)
{
	if (check_paths("absent_if_empty", o->absent_if_empty,
			o->n_absent_if_empty, 0) < 0)
		return -1;
	return check_paths("hidden", o->hidden, o->n_hidden, 1);
}

int bundle_snapshot_take(struct bundle *bundle, const char *dir,
			 const struct bundle_snapshot_options *options,
			 struct bundle_snapshot *snapshot)
{
	static const struct bundle_snapshot_options no_options;
	struct snapshot_source src;
	struct walk w;
	int rc;

	memset(snapshot, 0, sizeof(*snapshot));
	memset(&w, 0, sizeof(w));
	w.bundle = bundle;
	w.options = options ? options : &no_options;
	w.stats = &snapshot->stats;
	if (check_options(w.options) < 0)
		return -1;

	/* The first snapshot of a new bundle is written in the
	 * rollback-journal mode that bundle_create() leaves it in, which
	 * writes its content once (store.c). Any other switches to WAL
	 * first, as every write does (store_check_writable()). */
	if (!bundle->fresh && store_check_writable(bundle) < 0)
		return -1;

	/* A bundle from a writer before the snapshot index gets the index
	 * in a transaction of its own, which indexes its earlier events. */
	if (!bundle->rollback_journal && snapshot_index_open(bundle) < 0)
		return -1;
	bundle->keep_rollback = bundle->rollback_journal;
	if (bundle_begin(bundle) < 0) {
		bundle->keep_rollback = 0;
		return -1;
	}
	rc = snapshot_source_init(&src, bundle, dir);
	w.root_path = src.path;
	w.use_cache = src.have_previous && !w.options->no_cache;
	w.racy = src.previous_start;
	w.racy.tv_sec -= BUNDLE_SNAPSHOT_RACY_SEC;

	snapshot_lister_init(&w.lister, w.options);
	if (rc == 0)
		rc = walk_root(&w, src.path, src.shown,
			       src.have_previous ? &src.previous_root : NULL,
			       snapshot);
	if (rc == 0)
		rc = snapshot_append_event(bundle, &src, w.options, snapshot);
	if (rc == 0)
		rc = bundle_commit(bundle);
	if (rc < 0)
		bundle_rollback(bundle);

	/* The snapshot is committed or rolled back either way. The next
	 * write switches to WAL (store_check_writable()), and a bundle
	 * closed before then stays in rollback-journal mode, as a bundle
	 * at rest is. */
	bundle->keep_rollback = 0;

	snapshot_path_release(&w.path);
	snapshot_links_release(&w.links);
	snapshot_lister_release(&w.lister);
	snapshot_source_release(&src);
	return rc;
}
