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
 * Invariants:
 *  1. The queue is in the order the walk will need the jobs: the
 *     subdirectories of a directory just listed go in front, so a
 *     depth-first walk always needs the job at the head next.
 *  2. A job is QUEUED, RUNNING (on either thread) or DONE. Only the
 *     thread that moved it to RUNNING touches its listing until it is
 *     DONE; the mutex orders those writes before the walk reads them.
 *  3. At most WINDOW jobs are RUNNING or DONE ahead of the walk, so the
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
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/snapshot_internal.h"
#include "bundle/tree.h"

/* Directories listed ahead of the walk, at most. */
#define WINDOW 16

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

static int item_cmp(const void *x, const void *y)
{
	const struct snapshot_item *a = x, *b = y;

	return bundle_tree_name_cmp((const unsigned char *)a->name, a->name_len,
				    (const unsigned char *)b->name,
				    b->name_len);
}

void snapshot_items_free(struct snapshot_item *items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(items[i].name);
	free(items);
}

/*
 * The path of an entry from the snapshot root, for the excludes: the
 * directory's path and room for "/" and the longest name, so it is built
 * without bundle_set_error(), which is not for the helper thread.
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

/* Append a copy of name to items, unless the excludes leave it out. */
static int add_name(const struct bundle_snapshot_options *options,
		    struct entry_path *path, const char *name,
		    struct snapshot_item **items, size_t *n, size_t *alloc)
{
	size_t len = strlen(name);
	struct snapshot_item *it;

	if (options->n_excludes && len <= BUNDLE_TREE_NAME_MAX &&
	    is_excluded(options, entry_path_of(path, name, len), name))
		return 0;
	if (*n == *alloc) {
		size_t grow = *alloc ? *alloc * 2 : 32;
		struct snapshot_item *grown =
			realloc(*items, grow * sizeof(**items));

		if (!grown)
			return -1;
		*items = grown;
		*alloc = grow;
	}
	it = &(*items)[*n];
	memset(it, 0, sizeof(*it));
	it->name = strdup(name);
	if (!it->name)
		return -1;
	it->name_len = len;
	(*n)++;
	return 0;
}

static void stat_items(int dirfd, struct snapshot_item *items, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (fstatat(dirfd, items[i].name, &items[i].st,
			    AT_SYMLINK_NOFOLLOW) < 0)
			items[i].stat_errno = errno;
	}
}

/* Read the names of the directory open at fd, lstat each and sort them.
 * Fails with errno set. */
static int list_fd(const struct bundle_snapshot_options *options, int fd,
		   struct entry_path *path, struct snapshot_item **out,
		   size_t *n_out)
{
	struct snapshot_item *items = NULL;
	size_t n = 0, alloc = 0;
	struct dirent *d;
	int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	DIR *dir = dup_fd < 0 ? NULL : fdopendir(dup_fd);
	int saved;

	if (!dir) {
		saved = errno;
		if (dup_fd >= 0)
			close(dup_fd);
		errno = saved;
		return -1;
	}
	errno = 0;
	while ((d = readdir(dir))) {
		const char *name = d->d_name;

		if (name[0] == '.' &&
		    (name[1] == '\0' || (name[1] == '.' && name[2] == '\0')))
			continue;
		if (add_name(options, path, name, &items, &n, &alloc) < 0) {
			errno = ENOMEM;
			break;
		}
		errno = 0;
	}
	saved = errno;
	closedir(dir);
	if (saved) {
		snapshot_items_free(items, n);
		errno = saved;
		return -1;
	}

	stat_items(fd, items, n);
	if (n > 1)
		qsort(items, n, sizeof(*items), item_cmp);
	*out = items;
	*n_out = n;
	return 0;
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
	rc = list_fd(options, fd, &p, &listing->items, &listing->n);
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

/* The first QUEUED job, when the window has room for it; NULL if none.
 * Called with the lock held. */
static struct snapshot_job *next_queued(struct snapshot_lister *lister)
{
	if (lister->ahead >= WINDOW)
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
			break; /* the rest are listed when they are walked */
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
	snapshot_items_free(listing->items, listing->n);
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
