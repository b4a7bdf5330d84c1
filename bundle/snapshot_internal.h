/*
 * snapshot_internal.h - what the files of the snapshot walker share and
 * nothing else includes.
 */
#ifndef BUNDLE_SNAPSHOT_INTERNAL_H
#define BUNDLE_SNAPSHOT_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <sys/stat.h>
#include <time.h>

#include "bundle/snapshot.h"

/* A path from the snapshot root, raw bytes and NUL-terminated. */
struct snapshot_path {
	char *data;
	size_t len, alloc;
};

/* Append "/name" (or "name" at the root). */
int snapshot_path_push(struct snapshot_path *path, const char *name,
		       size_t len);

/* Cut the path back to len bytes, as it was before a push. */
void snapshot_path_pop(struct snapshot_path *path, size_t len);
void snapshot_path_release(struct snapshot_path *path);

struct snapshot_job;

/* One directory entry as listed, before it is stored. */
struct snapshot_item {
	char *name;
	size_t name_len;
	struct stat st;
	int stat_errno;		  /* errno of a failed lstat, or 0 */
	struct snapshot_job *job; /* the queued listing of a directory */
	int left_out;		  /* a directory of absent_if_empty that
				   * has no entry in the tree */
};

/* A directory, open and listed: the items without the excluded ones,
 * lstat'd and in tree order. */
struct snapshot_listing {
	int fd;		/* the directory, or -1 when it cannot be opened */
	int open_errno; /* why not */
	int list_errno; /* errno of a failed listing (then no items), or 0 */
	struct snapshot_item *items;
	size_t n;
	size_t excluded; /* names that the excludes left out */
	char *names; /* the items' names, one after the other */
};

/*
 * List the directory open at fd, whose path from the snapshot root is
 * path (path_len raw bytes, 0 at the root), into listing, which takes
 * over fd. Returns -1 with listing->list_errno set when it fails.
 * snapshot_list_at() opens the directory name in parent_fd first, never
 * following a symlink, and sets listing->open_errno when that fails.
 * Neither sets bundle_error(), so they may run on any thread.
 */
int snapshot_list(const struct bundle_snapshot_options *options, int fd,
		  const char *path, size_t path_len,
		  struct snapshot_listing *listing);
void snapshot_list_at(const struct bundle_snapshot_options *options,
		      int parent_fd, const char *name, const char *path,
		      size_t path_len, struct snapshot_listing *listing);

/* Close the directory and free the items. */
void snapshot_listing_release(struct snapshot_listing *listing);

/*
 * Directories listed ahead of the walk by a helper thread
 * (snapshot_stat.c has the invariants). The walk queues the
 * subdirectories of each directory it lists and takes the listing of
 * each when it gets there. When the helper has not begun that one, the
 * walk lists it itself. Before it closes a directory, the walk cancels
 * the jobs of it that it did not take. Without a thread, nothing is
 * queued.
 */
struct snapshot_lister {
	const struct bundle_snapshot_options *options;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct snapshot_job *head; /* the queue, in the walk's order */
	size_t ahead;		   /* jobs running or done */
	int quit, started, have_thread;
	pthread_t thread;
};

void snapshot_lister_init(struct snapshot_lister *lister,
			  const struct bundle_snapshot_options *options);
void snapshot_lister_release(struct snapshot_lister *lister);

/* Queue the subdirectories among items[0..n), which are in dirfd, whose
 * path from the snapshot root is dir. Sets each one's job. */
void snapshot_lister_queue(struct snapshot_lister *lister, int dirfd,
			   const struct snapshot_path *dir,
			   struct snapshot_item *items, size_t n);

/* Return the listing of it, whose job is set, and clear the job. */
void snapshot_lister_take(struct snapshot_lister *lister,
			  struct snapshot_item *it,
			  struct snapshot_listing *listing);

/* Cancel the jobs still set among items[0..n). */
void snapshot_lister_cancel(struct snapshot_lister *lister,
			    struct snapshot_item *items, size_t n);


/* The first path seen of each file with more than one link, by device
 * and inode: an open-addressing hash table. */
struct snapshot_links {
	struct snapshot_link *slots;
	size_t n, alloc;
};

/* The path recorded for the file of st, or NULL. The table owns it. */
const char *snapshot_links_find(const struct snapshot_links *links,
				const struct stat *st);
int snapshot_links_add(struct snapshot_links *links, const struct stat *st,
		       const char *path);
void snapshot_links_release(struct snapshot_links *links);

/*
 * Store the data extents of the file open at fd, one after the other,
 * with bundle_put_fd (fed through a socket pair by a thread, so memory
 * stays bounded). *content is the SHA-256 of those bytes and *stored
 * their count. Fails like bundle_put_fd_errno.
 */
int snapshot_put_extents(struct bundle *bundle, int fd,
			 const struct bundle_extent *extents, size_t n,
			 struct bundle_id *ref, struct bundle_id *content,
			 uint64_t *stored, int *read_errno);

/*
 * The stat cache beside each directory's tree (snapshot_cache.c): one
 * record per entry, in tree order, of the device, inode and ctime of a
 * regular file (zeros for other entries), each a big-endian 64-bit
 * number.
 */
#define SNAPSHOT_CACHE_RECORD 32

/* Fill record from st, or with zeros when st is NULL. */
void snapshot_cache_record(unsigned char *record, const struct stat *st);

/* Nonzero when record contains the device, inode and ctime of st. */
int snapshot_cache_matches(const unsigned char *record, const struct stat *st);

/* Load the records that the directory dir (an absolute path of dir_len
 * raw bytes) had when it was stored as tree, which has n_entries
 * entries, into *records (malloc'd, owned by the caller). *records is
 * NULL when the row is missing, names another tree or has another
 * length: then nothing is cached. */
int snapshot_cache_load(struct bundle *bundle, const char *dir,
			size_t dir_len, const struct bundle_id *tree,
			size_t n_entries, unsigned char **records);

/* Store the records of dir as tree, replacing those of an earlier
 * snapshot. */
int snapshot_cache_store(struct bundle *bundle, const char *dir,
			 size_t dir_len, const struct bundle_id *tree,
			 const unsigned char *records, size_t n_entries);

/* The directory being snapshotted, and the previous snapshot of it. */
struct snapshot_source {
	char *path;	       /* absolute, from realpath(3) */
	char shown[4096];      /* path escaped for display */
	struct timespec start; /* when this snapshot started */
	int indexed; /* the bundle has the snapshot_index table */
	int have_previous;
	struct bundle_id previous_root;
	struct timespec previous_start;
};

int snapshot_source_init(struct snapshot_source *src, struct bundle *bundle,
			 const char *dir);
void snapshot_source_release(struct snapshot_source *src);

/* Parse a "snapshot" event into snapshot; *path (the "path" field,
 * owned by event) and *start may be NULL. Returns -1 for any other
 * event. */
int snapshot_parse_event(const cJSON *event, struct bundle_snapshot *snapshot,
			 const char **path, struct timespec *start);

/*
 * The snapshot index (snapshot_index.c). snapshot_index_open returns 1
 * when the bundle has the table, creating it (and indexing the snapshot
 * events already stored) in a bundle open for appending, 0 when it has
 * none (then scan the events), and -1 on failure. Inside an open
 * transaction it creates the table, in that transaction, only in a
 * bundle without events. The look-ups return 1
 * and *seq when a snapshot matches, 0 when none does, -1 on failure.
 */
int snapshot_index_open(struct bundle *bundle);
int snapshot_index_add(struct bundle *bundle, uint64_t seq, const char *path,
		       const struct bundle_id *root);
int snapshot_index_previous(struct bundle *bundle, const char *path,
			    uint64_t *seq);
int snapshot_index_latest(struct bundle *bundle, uint64_t *seq);

/* The last snapshot of the only root tree id that starts with the hex
 * prefix; *ambiguous is set when more than one root does. */
int snapshot_index_prefix(struct bundle *bundle, const char *prefix,
			  uint64_t *seq, int *ambiguous);

/* Append the "snapshot" event of a finished walk and set snapshot->seq
 * and snapshot->complete. */
int snapshot_append_event(struct bundle *bundle,
			  const struct snapshot_source *src,
			  const struct bundle_snapshot_options *options,
			  struct bundle_snapshot *snapshot);

#endif
