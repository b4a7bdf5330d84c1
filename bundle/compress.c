/*
 * compress.c - compress objects in a second thread while the caller goes
 * on hashing, reading and inserting.
 *
 * Only objects put inside a transaction go through this pipeline,
 * because their rows need not exist before the commit. The main thread
 * hashes an object, queues a copy, and inserts finished jobs in queue
 * order. The worker thread only compresses: it never touches the SQLite
 * connection. Every job is inserted, or discarded, before the
 * transaction ends, so a commit covers exactly the objects put in it.
 *
 * Invariants: at most PIPELINE_JOBS jobs and PIPELINE_BYTES bytes of
 * content are queued, except for a single larger object. An id is never both queued and in the database,
 * because bundle_put looks in both before it queues.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "bundle/store.h"

#define PIPELINE_JOBS  64
#define PIPELINE_BYTES (16 * 1024 * 1024)

enum job_state {
	JOB_QUEUED,
	JOB_WORKING,
	JOB_DONE,
};

struct job {
	struct bundle_id id;
	enum bundle_kind kind;
	enum job_state state;
	void *data;
	size_t len;
	void *out; /* compressed bytes, or NULL to store data raw */
	size_t out_len;
};

struct pipeline {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t queued; /* a job was queued, or stop was set */
	pthread_cond_t done;   /* a job finished */
	struct job jobs[PIPELINE_JOBS];
	size_t head, count; /* the oldest job, and how many there are */
	size_t bytes;
	int level;
	int stop;
	ZSTD_CCtx *cctx;
};

static struct job *job_at(struct pipeline *p, size_t i)
{
	return &p->jobs[(p->head + i) % PIPELINE_JOBS];
}

/* Compress one job, outside the lock. Incompressible content is stored
 * raw, so out stays NULL. */
static void compress_job(struct pipeline *p, struct job *job)
{
	size_t bound = ZSTD_compressBound(job->len);
	void *out = malloc(bound);
	size_t n;

	job->out = NULL;
	if (!out)
		return;
	n = ZSTD_compressCCtx(p->cctx, out, bound, job->data, job->len,
			      p->level);
	if (ZSTD_isError(n) || n >= job->len) {
		free(out);
		return;
	}
	job->out = out;
	job->out_len = n;
}

static struct job *next_queued(struct pipeline *p)
{
	for (size_t i = 0; i < p->count; i++) {
		struct job *job = job_at(p, i);

		if (job->state == JOB_QUEUED)
			return job;
	}
	return NULL;
}

static void *worker(void *arg)
{
	struct pipeline *p = arg;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct job *job = next_queued(p);

		if (!job) {
			if (p->stop)
				break;
			pthread_cond_wait(&p->queued, &p->lock);
			continue;
		}
		job->state = JOB_WORKING;
		pthread_mutex_unlock(&p->lock);
		compress_job(p, job);
		pthread_mutex_lock(&p->lock);
		job->state = JOB_DONE;
		pthread_cond_broadcast(&p->done);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* Start the worker with every signal blocked, so that signals meant for
 * the caller's threads are never delivered to it. */
static int start_thread(struct pipeline *p)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&p->thread, NULL, worker, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

static struct pipeline *start(struct bundle *bundle)
{
	struct pipeline *p;

	if (bundle->pipeline)
		return bundle->pipeline;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->level = bundle->level;
	p->cctx = ZSTD_createCCtx();
	if (!p->cctx || pthread_mutex_init(&p->lock, NULL) != 0) {
		ZSTD_freeCCtx(p->cctx);
		free(p);
		return NULL;
	}
	pthread_cond_init(&p->queued, NULL);
	pthread_cond_init(&p->done, NULL);
	if (start_thread(p) != 0) {
		pthread_cond_destroy(&p->queued);
		pthread_cond_destroy(&p->done);
		pthread_mutex_destroy(&p->lock);
		ZSTD_freeCCtx(p->cctx);
		free(p);
		return NULL;
	}
	bundle->pipeline = p;
	return p;
}

static void free_job(struct job *job)
{
	free(job->data);
	free(job->out);
	job->data = NULL;
	job->out = NULL;
}

static int insert_job(struct bundle *bundle, struct job *job)
{
	if (job->out)
		return store_insert(bundle, &job->id, job->kind, job->len,
				    "zstd", job->out, job->out_len);
	return store_insert(bundle, &job->id, job->kind, job->len, "raw",
			    job->data, job->len);
}

/*
 * Insert the finished jobs at the head of the queue, in order. With
 * wait, wait for every job. The caller holds the lock, which is dropped
 * around each insert so that the worker keeps compressing. Only the main
 * thread adds and removes jobs, so a job taken off the queue is its own.
 */
static int drain(struct bundle *bundle, struct pipeline *p, int wait)
{
	int rc = 0;

	while (p->count > 0) {
		struct job job;

		/* The worker writes a job's output until it is done, so copy
		 * only a finished one. */
		if (job_at(p, 0)->state != JOB_DONE) {
			if (!wait)
				break;
			pthread_cond_wait(&p->done, &p->lock);
			continue;
		}
		job = *job_at(p, 0);
		p->head = (p->head + 1) % PIPELINE_JOBS;
		p->count--;
		p->bytes -= job.len;

		pthread_mutex_unlock(&p->lock);
		if (rc == 0)
			rc = insert_job(bundle, &job);
		free_job(&job);
		pthread_mutex_lock(&p->lock);
	}
	return rc;
}

int store_pipeline_put(struct bundle *bundle, const struct bundle_id *id,
		       enum bundle_kind kind, const void *data, size_t len)
{
	struct pipeline *p = start(bundle);
	struct job *job;
	void *copy;
	int rc;

	if (!p)
		return 1;
	copy = malloc(len ? len : 1);
	if (!copy)
		return 1;
	memcpy(copy, data, len);

	pthread_mutex_lock(&p->lock);
	rc = drain(bundle, p, 0);
	while (rc == 0 && p->count > 0 &&
	       (p->count == PIPELINE_JOBS || p->bytes + len > PIPELINE_BYTES)) {
		pthread_cond_wait(&p->done, &p->lock);
		rc = drain(bundle, p, 0);
	}
	if (rc == 0) {
		job = job_at(p, p->count++);
		job->id = *id;
		job->kind = kind;
		job->data = copy;
		job->len = len;
		job->out = NULL;
		job->state = JOB_QUEUED;
		p->bytes += len;
		pthread_cond_signal(&p->queued);
	}
	pthread_mutex_unlock(&p->lock);
	if (rc)
		free(copy);
	return rc ? -1 : 0;
}

int store_pipeline_find(struct bundle *bundle, const struct bundle_id *id,
			enum bundle_kind kind)
{
	struct pipeline *p = bundle->pipeline;
	int found = 0;

	if (!p)
		return 0;
	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < p->count && !found; i++) {
		struct job *job = job_at(p, i);

		if (memcmp(job->id.bytes, id->bytes, BUNDLE_ID_LEN) != 0)
			continue;
		found = 1;
		/* The structural kind wins, as in bundle_put. */
		if (kind == BUNDLE_TREE || kind == BUNDLE_CHUNKS)
			job->kind = kind;
	}
	pthread_mutex_unlock(&p->lock);
	return found;
}

int store_pipeline_flush(struct bundle *bundle)
{
	struct pipeline *p = bundle->pipeline;
	int rc;

	if (!p)
		return 0;
	pthread_mutex_lock(&p->lock);
	rc = drain(bundle, p, 1);
	pthread_mutex_unlock(&p->lock);
	return rc;
}

void store_pipeline_discard(struct bundle *bundle)
{
	struct pipeline *p = bundle->pipeline;

	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	while (p->count > 0) {
		struct job *job = job_at(p, 0);

		if (job->state != JOB_DONE) {
			pthread_cond_wait(&p->done, &p->lock);
			continue;
		}
		p->bytes -= job->len;
		free_job(job);
		p->head = (p->head + 1) % PIPELINE_JOBS;
		p->count--;
	}
	pthread_mutex_unlock(&p->lock);
}

void store_pipeline_stop(struct bundle *bundle)
{
	struct pipeline *p = bundle->pipeline;

	if (!p)
		return;
	store_pipeline_discard(bundle);
	pthread_mutex_lock(&p->lock);
	p->stop = 1;
	pthread_cond_signal(&p->queued);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	pthread_cond_destroy(&p->queued);
	pthread_cond_destroy(&p->done);
	pthread_mutex_destroy(&p->lock);
	ZSTD_freeCCtx(p->cctx);
	free(p);
	bundle->pipeline = NULL;
}
