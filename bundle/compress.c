/*
 * compress.c - compress objects in a second thread while the caller goes
 * on hashing, reading and inserting.
 *
 * Only objects put inside a transaction go through this pipeline,
 * because their rows need not exist before the commit. The main thread
 * hashes an object and queues a copy; the worker thread compresses jobs
 * in queue order and never touches the SQLite connection. The main
 * thread inserts finished jobs only when the queue is full and at the
 * end, and then the one that best fills the last leaf page of the
 * objects table (pack.c), so rows leave little room unused. Every job
 * is inserted, or discarded, before the transaction ends, so a commit
 * covers exactly the objects put in it.
 *
 * Invariants: at most PIPELINE_JOBS jobs and PIPELINE_BYTES bytes of
 * content are queued, except for a single larger object. An id is never
 * both queued and in the database, because bundle_put looks in both
 * before it queues.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "bundle/store.h"

#define PIPELINE_JOBS  64
#define PIPELINE_BYTES (8 * 1024 * 1024)

enum job_state {
	JOB_FREE, /* an empty slot */
	JOB_QUEUED,
	JOB_WORKING,
	JOB_DONE,
};

struct job {
	struct bundle_id id;
	enum bundle_kind kind;
	enum job_state state;
	uint64_t seq; /* queue order */
	void *data;
	size_t len;
	void *out; /* compressed bytes, or NULL to store data raw */
	size_t out_len;
	const ZSTD_CDict *cdict; /* the dictionary to use, or NULL */
	struct bundle_id dict;	 /* its id */
};

struct pipeline {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t queued; /* a job was queued, or stop was set */
	pthread_cond_t done;   /* a job finished */
	struct job jobs[PIPELINE_JOBS];
	size_t count; /* slots in use */
	uint64_t next_seq;
	size_t bytes;
	int level;
	int stop;
	ZSTD_CCtx *cctx;
};

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
	n = store_compress(p->cctx, job->cdict, p->level, out, bound,
			   job->data, job->len);
	if (ZSTD_isError(n) || n >= job->len) {
		free(out);
		return;
	}
	/* A finished job may wait in the queue for its turn, so give back
	 * the rest of the compressBound-sized buffer. */
	job->out = realloc(out, n);
	if (!job->out)
		job->out = out;
	job->out_len = n;
}

static struct job *next_queued(struct pipeline *p)
{
	struct job *first = NULL;

	for (size_t i = 0; i < PIPELINE_JOBS; i++) {
		struct job *job = &p->jobs[i];

		if (job->state == JOB_QUEUED &&
		    (!first || job->seq < first->seq))
			first = job;
	}
	return first;
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

static struct store_cell job_cell(struct bundle *bundle,
				   const struct job *job)
{
	if (job->out)
		return store_pack_cell(bundle, job->kind, job->len, "zstd",
				       job->out_len, job->cdict != NULL);
	return store_pack_cell(bundle, job->kind, job->len, "raw", job->len,
			       0);
}

/*
 * The finished job to insert next: the largest that fits in the room
 * left on the last leaf page, or else, once every job is finished, the
 * largest, which starts a new page. NULL means wait for the worker:
 * when it is behind, only a few jobs are finished, and one that is
 * still compressing may fill the gap.
 */
static struct job *best_done(struct bundle *bundle, struct pipeline *p)
{
	struct job *fit = NULL, *largest = NULL;
	size_t fit_bytes = 0, largest_bytes = 0;
	int pending = 0;

	for (size_t i = 0; i < PIPELINE_JOBS; i++) {
		struct job *job = &p->jobs[i];
		size_t bytes;

		if (job->state == JOB_QUEUED || job->state == JOB_WORKING)
			pending = 1;
		if (job->state != JOB_DONE)
			continue;
		bytes = job_cell(bundle, job).bytes;
		if (!largest || bytes > largest_bytes) {
			largest = job;
			largest_bytes = bytes;
		}
		if ((int64_t)bytes <= bundle->pack_free &&
		    (!fit || bytes > fit_bytes)) {
			fit = job;
			fit_bytes = bytes;
		}
	}
	if (fit)
		return fit;
	if (pending)
		return NULL;
	return largest;
}

static int insert_job(struct bundle *bundle, struct job *job)
{
	if (job->out)
		return store_insert(bundle, &job->id, job->kind, job->len,
				    "zstd", job->out, job->out_len,
				    job->cdict ? &job->dict : NULL);
	return store_insert(bundle, &job->id, job->kind, job->len, "raw",
			    job->data, job->len, NULL);
}

/*
 * Insert one finished job, waiting for one when none is. The caller
 * holds the lock, which is dropped around the insert so that the worker
 * keeps compressing. Only the main thread adds and removes jobs, and
 * the worker writes a job only until it is done, so a finished job taken
 * off the queue is the main thread's own.
 */
static int insert_one(struct bundle *bundle, struct pipeline *p)
{
	struct job *slot, job;
	int rc;

	while (!(slot = best_done(bundle, p)))
		pthread_cond_wait(&p->done, &p->lock);
	job = *slot;
	slot->state = JOB_FREE;
	slot->data = slot->out = NULL;
	p->count--;
	p->bytes -= job.len;

	pthread_mutex_unlock(&p->lock);
	rc = insert_job(bundle, &job);
	free_job(&job);
	pthread_mutex_lock(&p->lock);
	return rc;
}

/* Insert every job. After a failure the rest are dropped, and the
 * caller rolls the transaction back. */
static int drain(struct bundle *bundle, struct pipeline *p)
{
	int rc = 0;

	while (p->count > 0 && rc == 0)
		rc = insert_one(bundle, p);
	return rc;
}

static struct job *free_slot(struct pipeline *p)
{
	for (size_t i = 0; i < PIPELINE_JOBS; i++) {
		if (p->jobs[i].state == JOB_FREE)
			return &p->jobs[i];
	}
	return NULL;
}

int store_pipeline_put(struct bundle *bundle, const struct bundle_id *id,
		       enum bundle_kind kind, const void *data, size_t len,
		       const ZSTD_CDict *cdict, const struct bundle_id *dict)
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
	rc = 0;
	while (rc == 0 && p->count > 0 &&
	       (p->count == PIPELINE_JOBS || p->bytes + len > PIPELINE_BYTES))
		rc = insert_one(bundle, p);
	if (rc == 0) {
		job = free_slot(p);
		p->count++;
		job->seq = p->next_seq++;
		job->id = *id;
		job->kind = kind;
		job->data = copy;
		job->len = len;
		job->out = NULL;
		job->cdict = cdict;
		if (cdict)
			job->dict = *dict;
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
	for (size_t i = 0; i < PIPELINE_JOBS && !found; i++) {
		struct job *job = &p->jobs[i];

		if (job->state == JOB_FREE ||
		    memcmp(job->id.bytes, id->bytes, BUNDLE_ID_LEN) != 0)
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
	rc = drain(bundle, p);
	pthread_mutex_unlock(&p->lock);
	if (rc)
		store_pipeline_discard(bundle);
	return rc;
}

void store_pipeline_discard(struct bundle *bundle)
{
	struct pipeline *p = bundle->pipeline;

	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	while (p->count > 0) {
		int waiting = 0;

		for (size_t i = 0; i < PIPELINE_JOBS; i++) {
			struct job *job = &p->jobs[i];

			if (job->state == JOB_QUEUED ||
			    job->state == JOB_WORKING) {
				waiting = 1;
				continue;
			}
			if (job->state != JOB_DONE)
				continue;
			p->bytes -= job->len;
			free_job(job);
			job->state = JOB_FREE;
			p->count--;
		}
		if (waiting)
			pthread_cond_wait(&p->done, &p->lock);
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
