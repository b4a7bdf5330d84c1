/*
 * snapshot_stat.c - list and lstat directories ahead of the walk, on a
 * second thread.
 *
 * A re-snapshot with nothing changed spends most of its time in the
 * kernel: one getdents per directory and one lstat per entry, which the
 * stat cache cannot avoid. The walk therefore queues the subdirectories
 * of each directory it lists, and a helper thread opens and lists them
 * while the walk compares the entries it already has with the cache.
 * Whole directories are the unit of work, so the threads meet once per
 * directory and never share an entry.
 *
 * NOTE: each directory is listed by one thread, so a tree that is one
 * large directory gets nothing from the second thread.
 *
 * Invariants:
 *  1. The queue is in the order the walk will need the jobs: the
 *     subdirectories of a directory just listed go in front, so a
 *     depth-first walk always needs the job at the head next.
 *  2. A job is QUEUED, RUNNING (on either thread) or DONE. Only the
 *     thread that moved it to RUNNING touches its listing until it is
 *     DONE; the mutex orders those writes before the walk reads them.
 *  3. At most MAX_AHEAD jobs are RUNNING or DONE ahead of the walk, so the
 *     open descriptors and the listings held stay bounded.
 *  4. A job's parent descriptor and name belong to the directory that
 *     queued it, which is on the walk's stack until every one of its
 *     jobs is taken or cancelled.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/snapshot_internal.h"
#include "bundle/tree.h"

/* The maximum number of directories listed ahead of the walk. */
#define MAX_AHEAD 16

enum job_state { JOB_QUEUED, JOB_RUNNING, JOB_DONE };

struct snapshot_job {
	struct snapshot_job *prev, *next;
	enum job_state state;
	int parent_fd;
	const char *name; /* owned by the parent's items */
	struct snapshot_listing listing;
	size_t path_len;
	char path[]; /* from the snapshot root, for the excludes */
};

static int is_excluded(const struct bundle_snapshot_options *options,
		       const char *path, const char *name)
{
	for (size_t i = 0; i < options->n_hidden; i++) {
		const char *hidden = options->hidden[i];

		if (strcmp(hidden, path) == 0 || strcmp(hidden, ".") == 0)
			return 1;
	}
	for (size_t i = 0; i < options->n_excludes; i++) {
		const char *pattern = options->excludes[i];

		if (pattern[0] == '/') {
			if (fnmatch(pattern + 1, path, FNM_PATHNAME) == 0)
				return 1;
		} else if (strchr(pattern, '/')) {
			if (fnmatch(pattern, path, FNM_PATHNAME) == 0)
				return 1;
		} else if (fnmatch(pattern, name, 0) == 0) {
			return 1;
		}
	}
	return 0;
}

/*
 * The path of an entry from the snapshot root, for the excludes: the
 * directory's path with room for "/" and the longest name. It never
 * grows, so it needs no bundle_set_error(), which is not thread-safe.
 */
struct entry_path {
	char *data;
	size_t dir_len;
};

static int entry_path_init(struct entry_path *p, const char *dir,
			   size_t dir_len)
{
	p->data = malloc(dir_len + 1 + BUNDLE_TREE_NAME_MAX + 1);
	if (!p->data)
		return -1;
	memcpy(p->data, dir, dir_len);
	if (dir_len)
		p->data[dir_len++] = '/';
	p->dir_len = dir_len;
	return 0;
}

static const char *entry_path_of(struct entry_path *p, const char *name,
				 size_t len)
{
	memcpy(p->data + p->dir_len, name, len + 1);
	return p->data;
}

/*
 * The names of a directory as read: one buffer of NUL-terminated names
 * and a small reference to each. Sorting moves only the references.
 */
struct name_ref {
	uint32_t offset, len;
};

struct names {
	char *bytes;
	size_t used, size;
	struct name_ref *refs;
	size_t n, alloc;
	size_t excluded;
};

static int name_ref_cmp(const void *x, const void *y, void *arg)
{
	const struct name_ref *a = x, *b = y;
	const unsigned char *bytes = arg;

	return bundle_tree_name_cmp(bytes + a->offset, a->len,
				    bytes + b->offset, b->len);
}

static int grow(void **p, size_t *alloc, size_t need, size_t unit)
{
	size_t size = *alloc ? *alloc : 64;
	void *grown;

	if (need <= *alloc)
		return 0;
	while (size < need)
		size *= 2;
	grown = realloc(*p, size * unit);
	if (!grown)
		return -1;
	*p = grown;
	*alloc = size;
	return 0;
}

/* Append a copy of name, unless the excludes leave it out. */
static int add_name(const struct bundle_snapshot_options *options,
		    struct entry_path *path, struct names *names,
		    const char *name)
{
	size_t len = strlen(name);

	if ((options->n_excludes || options->n_hidden) &&
	    len <= BUNDLE_TREE_NAME_MAX &&
	    is_excluded(options, entry_path_of(path, name, len), name)) {
		names->excluded++;
		return 0;
	}
	if (names->used + len + 1 > UINT32_MAX ||
	    grow((void **)&names->bytes, &names->size, names->used + len + 1,
		 1) < 0 ||
	    grow((void **)&names->refs, &names->alloc, names->n + 1,
		 sizeof(*names->refs)) < 0)
		return -1;
	names->refs[names->n].offset = (uint32_t)names->used;
	names->refs[names->n].len = (uint32_t)len;
	names->n++;
	memcpy(names->bytes + names->used, name, len + 1);
	names->used += len + 1;
	return 0;
}

/* Bytes of directory entries read per getdents64 call. An entry takes
 * 24 bytes and its name, so a directory of 500 short names fits in one. */
#define DENTS_BUF 32768

/*
 * Read the names of the directory open at fd with getdents64 itself: the
 * descriptor is this walk's own and read once from the start, so a DIR
 * stream (a duplicate descriptor, an fstat and a close) buys nothing.
 */
static int read_names(const struct bundle_snapshot_options *options, int fd,
		      struct entry_path *path, struct names *names)
{
	char *buf = malloc(DENTS_BUF);
	ssize_t got;

	if (!buf)
		return -1;
	while ((got = getdents64(fd, buf, DENTS_BUF)) > 0) {
		for (ssize_t off = 0; off < got;) {
			const struct dirent64 *d =
				(const struct dirent64 *)(buf + off);
			const char *name = d->d_name;

			off += d->d_reclen;
			if (name[0] == '.' &&
			    (name[1] == '\0' ||
			     (name[1] == '.' && name[2] == '\0')))
				continue;
			if (add_name(options, path, names, name) < 0) {
				free(buf);
				errno = ENOMEM;
				return -1;
			}
		}
	}
	free(buf);
	return got < 0 ? -1 : 0;
}

/* Read the names of the directory open at fd, sort them, and lstat each
 * into listing. Fails with errno set. */
static int list_fd(const struct bundle_snapshot_options *options, int fd,
		   struct entry_path *path, struct snapshot_listing *listing)
{
	struct names names = {0};
	struct snapshot_item *items;

	if (read_names(options, fd, path, &names) < 0)
		goto fail;
	if (names.n > 1)
		qsort_r(names.refs, names.n, sizeof(*names.refs), name_ref_cmp,
			names.bytes);
	items = malloc((names.n ? names.n : 1) * sizeof(*items));
	if (!items) {
		errno = ENOMEM;
		goto fail;
	}

	for (size_t i = 0; i < names.n; i++) {
		struct snapshot_item *it = &items[i];

		it->name = names.bytes + names.refs[i].offset;
		it->name_len = names.refs[i].len;
		it->stat_errno = 0;
		it->job = NULL;
		it->left_out = 0;
		if (fstatat(fd, it->name, &it->st, AT_SYMLINK_NOFOLLOW) < 0)
			it->stat_errno = errno;
	}
	free(names.refs);
	listing->names = names.bytes;
	listing->items = items;
	listing->n = names.n;
	listing->excluded = names.excluded;
	return 0;

fail : {
	int saved = errno;

	free(names.bytes);
	free(names.refs);
	errno = saved;
	return -1;
}
}

int snapshot_list(const struct bundle_snapshot_options *options, int fd,
		  const char *path, size_t path_len,
		  struct snapshot_listing *listing)
{
	struct entry_path p;
	int rc;

	memset(listing, 0, sizeof(*listing));
	listing->fd = fd;
	if (entry_path_init(&p, path, path_len) < 0) {
		listing->list_errno = ENOMEM;
		return -1;
	}
	rc = list_fd(options, fd, &p, listing);
	if (rc < 0)
		listing->list_errno = errno;
	free(p.data);
	return rc;
}

void snapshot_list_at(const struct bundle_snapshot_options *options,
		      int parent_fd, const char *name, const char *path,
		      size_t path_len, struct snapshot_listing *listing)
{
	int fd = openat(parent_fd, name,
			O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0) {
		memset(listing, 0, sizeof(*listing));
		listing->fd = -1;
		listing->open_errno = errno;
		return;
	}
	snapshot_list(options, fd, path, path_len, listing);
}

static void run_job(const struct snapshot_lister *lister,
		    struct snapshot_job *job)
{
	snapshot_list_at(lister->options, job->parent_fd, job->name, job->path,
			 job->path_len, &job->listing);
}

static void unlink_job(struct snapshot_lister *lister, struct snapshot_job *job)
{
	if (job->prev)
		job->prev->next = job->next;
	else
		lister->head = job->next;
	if (job->next)
		job->next->prev = job->prev;
}

/* Return the first QUEUED job, or NULL when there is none or MAX_AHEAD
 * are listed already. Called with the lock held. */
static struct snapshot_job *next_queued(struct snapshot_lister *lister)
{
	if (lister->ahead >= MAX_AHEAD)
		return NULL;
	for (struct snapshot_job *job = lister->head; job; job = job->next)
		if (job->state == JOB_QUEUED)
			return job;
	return NULL;
}

/* Run job on this thread, with the lock held on entry and on return. */
static void run_ahead(struct snapshot_lister *lister, struct snapshot_job *job)
{
	job->state = JOB_RUNNING;
	lister->ahead++;
	pthread_mutex_unlock(&lister->lock);
	run_job(lister, job);
	pthread_mutex_lock(&lister->lock);
	job->state = JOB_DONE;
	pthread_cond_broadcast(&lister->cond);
}

static void *helper_run(void *arg)
{
	struct snapshot_lister *lister = arg;

	pthread_mutex_lock(&lister->lock);
	while (!lister->quit) {
		struct snapshot_job *job = next_queued(lister);

		if (job)
			run_ahead(lister, job);
		else
			pthread_cond_wait(&lister->cond, &lister->lock);
	}
	pthread_mutex_unlock(&lister->lock);
	return NULL;
}

void snapshot_lister_init(struct snapshot_lister *lister,
			  const struct bundle_snapshot_options *options)
{
	memset(lister, 0, sizeof(*lister));
	lister->options = options;
	pthread_mutex_init(&lister->lock, NULL);
	pthread_cond_init(&lister->cond, NULL);
}

/* Start the helper on first use; without one, the walk lists every
 * directory itself. */
static int start_helper(struct snapshot_lister *lister)
{
	if (lister->started)
		return lister->have_thread;
	lister->started = 1;
	lister->have_thread =
		pthread_create(&lister->thread, NULL, helper_run, lister) == 0;
	return lister->have_thread;
}

void snapshot_lister_queue(struct snapshot_lister *lister, int dirfd,
			   const struct snapshot_path *dir,
			   struct snapshot_item *items, size_t n)
{
	struct snapshot_job *first = NULL, *last = NULL;

	for (size_t i = 0; i < n; i++) {
		struct snapshot_item *it = &items[i];
		size_t len = dir->len + (dir->len ? 1 : 0) + it->name_len;
		struct snapshot_job *job;

		if (it->stat_errno || !S_ISDIR(it->st.st_mode))
			continue;
		if (!first && !start_helper(lister))
			return;
		job = calloc(1, sizeof(*job) + len + 1);
		if (!job)
			break; /* the walk lists the rest itself */
		job->parent_fd = dirfd;
		job->name = it->name;
		job->path_len = len;
		if (dir->len) {
			memcpy(job->path, dir->data, dir->len);
			job->path[dir->len] = '/';
		}
		memcpy(job->path + len - it->name_len, it->name, it->name_len);
		job->prev = last;
		if (last)
			last->next = job;
		else
			first = job;
		last = job;
		it->job = job;
	}
	if (!first)
		return;

	pthread_mutex_lock(&lister->lock);
	last->next = lister->head;
	if (lister->head)
		lister->head->prev = last;
	lister->head = first;
	pthread_cond_broadcast(&lister->cond);
	pthread_mutex_unlock(&lister->lock);
}

/* Remove the finished job from the queue and hand over its listing.
 * Called with the lock held. */
static void hand_over(struct snapshot_lister *lister, struct snapshot_job *job,
		      struct snapshot_listing *listing)
{
	unlink_job(lister, job);
	if (job->state == JOB_DONE) {
		lister->ahead--;
		pthread_cond_broadcast(&lister->cond);
	}
	*listing = job->listing;
}

void snapshot_lister_take(struct snapshot_lister *lister,
			  struct snapshot_item *it,
			  struct snapshot_listing *listing)
{
	struct snapshot_job *job = it->job;

	it->job = NULL;
	pthread_mutex_lock(&lister->lock);
	while (job->state == JOB_RUNNING) {
		/* Rather than wait, list a directory needed later. */
		struct snapshot_job *ahead = next_queued(lister);

		if (ahead)
			run_ahead(lister, ahead);
		else
			pthread_cond_wait(&lister->cond, &lister->lock);
	}
	if (job->state == JOB_QUEUED) {
		unlink_job(lister, job);
		pthread_mutex_unlock(&lister->lock);
		run_job(lister, job);
		*listing = job->listing;
		free(job);
		return;
	}
	hand_over(lister, job, listing);
	pthread_mutex_unlock(&lister->lock);
	free(job);
}

void snapshot_listing_release(struct snapshot_listing *listing)
{
	if (listing->fd >= 0)
		close(listing->fd);
	free(listing->items);
	free(listing->names);
	memset(listing, 0, sizeof(*listing));
	listing->fd = -1;
}

void snapshot_lister_cancel(struct snapshot_lister *lister,
			    struct snapshot_item *items, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct snapshot_job *job = items[i].job;
		int done;

		if (!job)
			continue;
		items[i].job = NULL;
		pthread_mutex_lock(&lister->lock);
		while (job->state == JOB_RUNNING)
			pthread_cond_wait(&lister->cond, &lister->lock);
		done = job->state == JOB_DONE;
		unlink_job(lister, job);
		if (done) {
			lister->ahead--;
			pthread_cond_broadcast(&lister->cond);
		}
		pthread_mutex_unlock(&lister->lock);
		if (done)
			snapshot_listing_release(&job->listing);
		free(job);
	}
}

void snapshot_lister_release(struct snapshot_lister *lister)
{
	if (lister->have_thread) {
		pthread_mutex_lock(&lister->lock);
		lister->quit = 1;
		pthread_cond_broadcast(&lister->cond);
		pthread_mutex_unlock(&lister->lock);
		pthread_join(lister->thread, NULL);
	}
	pthread_cond_destroy(&lister->cond);
	pthread_mutex_destroy(&lister->lock);
}
