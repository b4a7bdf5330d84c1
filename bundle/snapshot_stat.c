/*
 * snapshot_stat.c - lstat the entries of a directory on two threads.
 *
 * A re-snapshot with nothing changed spends most of its time in the
 * kernel's lstat, one call per entry, which the stat cache cannot avoid.
 * Large directories are therefore split: a helper thread stats the second
 * half while the caller stats the first, as git's preloaded index does.
 * The helper only ever touches the items it was handed, and the mutex
 * orders its writes before the caller reads them.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "bundle/snapshot_internal.h"

/* Below this many entries the handoff costs more than it saves. */
#ifndef SPLIT_MIN
#define SPLIT_MIN 64
#endif

struct snapshot_stat_worker {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int quit;
	int pending; /* a job is handed out and not finished */
	int dirfd;
	struct snapshot_item *items;
	size_t n;
};

static void stat_range(int dirfd, struct snapshot_item *items, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		items[i].stat_errno = 0;
		if (fstatat(dirfd, items[i].name, &items[i].st,
			    AT_SYMLINK_NOFOLLOW) < 0)
			items[i].stat_errno = errno;
	}
}

static void *worker_run(void *arg)
{
	struct snapshot_stat_worker *sw = arg;

	pthread_mutex_lock(&sw->lock);
	for (;;) {
		while (!sw->pending && !sw->quit)
			pthread_cond_wait(&sw->cond, &sw->lock);
		if (sw->quit)
			break;
		pthread_mutex_unlock(&sw->lock);
		stat_range(sw->dirfd, sw->items, sw->n);
		pthread_mutex_lock(&sw->lock);
		sw->pending = 0;
		pthread_cond_broadcast(&sw->cond);
	}
	pthread_mutex_unlock(&sw->lock);
	return NULL;
}

/* Start the helper; NULL (and every stat on the caller's thread) when
 * no thread can be had. */
static struct snapshot_stat_worker *worker_start(void)
{
	struct snapshot_stat_worker *sw = calloc(1, sizeof(*sw));

	if (!sw)
		return NULL;
	pthread_mutex_init(&sw->lock, NULL);
	pthread_cond_init(&sw->cond, NULL);
	if (pthread_create(&sw->thread, NULL, worker_run, sw) != 0) {
		pthread_cond_destroy(&sw->cond);
		pthread_mutex_destroy(&sw->lock);
		free(sw);
		return NULL;
	}
	return sw;
}

void snapshot_stat_items(struct snapshot_stat_worker **worker, int dirfd,
			 struct snapshot_item *items, size_t n)
{
	struct snapshot_stat_worker *sw = *worker;
	size_t half = n / 2;

	if (n < SPLIT_MIN) {
		stat_range(dirfd, items, n);
		return;
	}
	if (!sw)
		sw = *worker = worker_start();
	if (!sw) {
		stat_range(dirfd, items, n);
		return;
	}

	pthread_mutex_lock(&sw->lock);
	sw->dirfd = dirfd;
	sw->items = items + half;
	sw->n = n - half;
	sw->pending = 1;
	pthread_cond_broadcast(&sw->cond);
	pthread_mutex_unlock(&sw->lock);

	stat_range(dirfd, items, half);

	pthread_mutex_lock(&sw->lock);
	while (sw->pending)
		pthread_cond_wait(&sw->cond, &sw->lock);
	pthread_mutex_unlock(&sw->lock);
}

void snapshot_stat_stop(struct snapshot_stat_worker *sw)
{
	if (!sw)
		return;
	pthread_mutex_lock(&sw->lock);
	sw->quit = 1;
	pthread_cond_broadcast(&sw->cond);
	pthread_mutex_unlock(&sw->lock);
	pthread_join(sw->thread, NULL);
	pthread_cond_destroy(&sw->cond);
	pthread_mutex_destroy(&sw->lock);
	free(sw);
}
