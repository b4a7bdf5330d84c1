/*
 * compress.c - compress objects in worker threads while the caller goes
 * on hashing, reading and inserting.
 *
 * Only objects put inside a transaction go through this pipeline,
 * because their rows need not exist before the commit. The main thread
 * hashes an object and queues a copy. The workers (default_workers sets
 * how many) take jobs in queue order and compress each with a zstd
 * context of their own. They never touch the SQLite connection.
 * The main thread inserts finished jobs only when the queue is full and
 * at the end, and then the one that best fills the last leaf page of the
 * objects table (pack.c), so rows leave little room unused. Every job
 * is inserted, or discarded, before the transaction ends, so a commit
 * covers exactly the objects put in it.
 *
 * Wake-ups cost more than compressing a small object, so an idle worker
 * is signalled only once a few jobs or one large job are queued, and the
 * main thread only when it waits for a finished job. The main thread
 * compresses queued jobs itself when it needs a finished one and none
 * is, so a job queued while the workers sleep is compressed at the
 * latest when the queue is full or the transaction commits.
 *
 * Invariants:
 * 1. At most PIPELINE_JOBS jobs and PIPELINE_BYTES bytes of content are
 *    queued, except for a single larger object.
 * 2. An id is never both queued and in the database, and never queued
 *    twice, because bundle_put looks in both before it queues. So an
 *    object is stored once however many workers there are.
 * 3. Only the main thread adds and removes jobs. The thread that sets
 *    a job JOB_WORKING, a worker or the main thread itself, owns it
 *    until it sets JOB_DONE.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle/store.h"

#define PIPELINE_JOBS  64
#define PIPELINE_BYTES (8 * 1024 * 1024)
/* More workers would only add memory, because the main thread, which
 * reads, hashes and inserts, is the bottleneck well before (an estimate). */
#define PIPELINE_MAX_WORKERS 8
/* Once this many jobs are finished, best_done starts a new page instead
 * of waiting for one that fits. */
#define PIPELINE_WAIT_BELOW 16
/* An idle worker is woken once this many jobs, or one job of at least
 * PIPELINE_WAKE_BYTES, are queued. */
#define PIPELINE_WAKE_JOBS  8
#define PIPELINE_WAKE_BYTES (64 * 1024)

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
	void *data;
	size_t len;
	void *out; /* compressed bytes, or NULL to store data raw */
	size_t out_len;
	const ZSTD_CDict *cdict; /* the dictionary to use, or NULL */
	struct bundle_id dict;	 /* its id */
};

struct worker {
	struct pipeline *p;
	pthread_t thread;
	ZSTD_CCtx *cctx;
};

struct pipeline {
	pthread_mutex_t lock;
	pthread_cond_t queued; /* a job was queued, or stop was set */
	pthread_cond_t done;   /* a job finished */
	struct job jobs[PIPELINE_JOBS];
	/* Slots of the queued jobs in queue order, a ring from head. */
	unsigned char fifo[PIPELINE_JOBS];
	size_t head, n_queued;
	size_t count; /* slots in use */
	size_t bytes;
	int level;
	int stop;
	int idle;	 /* workers waiting for a job */
	int waiting;	 /* the main thread waits for a finished job */
	int n_working; /* jobs being compressed */
	int n_workers;
	struct worker workers[PIPELINE_MAX_WORKERS];
};

/* Compress one job, outside the lock. Incompressible content is stored
 * raw, so out stays NULL. */
static void compress_job(struct pipeline *p, ZSTD_CCtx *cctx,
			 struct job *job)
{
	size_t bound = ZSTD_compressBound(job->len);
	void *out = malloc(bound);
	size_t n;

	job->out = NULL;
	if (!out)
		return;
	n = store_compress(cctx, job->cdict, p->level, out, bound, job->data,
			   job->len);
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
	struct job *job;

	if (p->n_queued == 0)
		return NULL;
	job = &p->jobs[p->fifo[p->head]];
	p->head = (p->head + 1) % PIPELINE_JOBS;
	p->n_queued--;
	return job;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct pipeline *p = w->p;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct job *job = next_queued(p);

		if (!job) {
			if (p->stop)
				break;
			p->idle++;
			pthread_cond_wait(&p->queued, &p->lock);
			p->idle--;
			continue;
		}
		job->state = JOB_WORKING;
		p->n_working++;
		pthread_mutex_unlock(&p->lock);
		compress_job(p, w->cctx, job);
		pthread_mutex_lock(&p->lock);
		job->state = JOB_DONE;
		p->n_working--;
		if (p->waiting)
			pthread_cond_signal(&p->done);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/*
 * Return the number of workers: one per online core besides the main
 * thread's, and at least one. The main thread is busy all the time. So
 * on 2 cores, a second worker only took turns with it on the same core.
 * On bench/snapshot.sh's tree that cost 3% more CPU time and 14% more
 * wall time (medians of ten interleaved runs on a loaded machine).
 */
static int default_workers(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN) - 1;

	if (n < 1)
		return 1;
	return n > PIPELINE_MAX_WORKERS ? PIPELINE_MAX_WORKERS : (int)n;
}

/* Start the workers with every signal blocked, so that signals meant for
 * the caller's threads are never delivered to them. At least one must
 * start; the pipeline works with fewer than asked for. */
static int start_workers(struct pipeline *p, int want)
{
	sigset_t all, old;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (want > PIPELINE_MAX_WORKERS)
		want = PIPELINE_MAX_WORKERS;
	for (int i = 0; i < want; i++) {
		struct worker *w = &p->workers[p->n_workers];

		w->p = p;
		w->cctx = ZSTD_createCCtx();
		if (!w->cctx)
			break;
		if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
			ZSTD_freeCCtx(w->cctx);
			break;
		}
		p->n_workers++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return p->n_workers > 0 ? 0 : -1;
}

/* Stop and join every worker. The queue must be empty. */
static void stop_workers(struct pipeline *p)
{
	pthread_mutex_lock(&p->lock);
	p->stop = 1;
	pthread_cond_broadcast(&p->queued);
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < p->n_workers; i++) {
		pthread_join(p->workers[i].thread, NULL);
		ZSTD_freeCCtx(p->workers[i].cctx);
	}
	p->n_workers = 0;
}

static void destroy(struct pipeline *p)
{
	pthread_cond_destroy(&p->queued);
	pthread_cond_destroy(&p->done);
	pthread_mutex_destroy(&p->lock);
	free(p);
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
	if (pthread_mutex_init(&p->lock, NULL) != 0) {
		free(p);
		return NULL;
	}
	pthread_cond_init(&p->queued, NULL);
	pthread_cond_init(&p->done, NULL);
	if (start_workers(p, bundle->workers > 0 ? bundle->workers
						 : default_workers()) != 0) {
		destroy(p);
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
 * left on the last leaf page, or else the largest, which starts a new
 * page. While few jobs are finished, NULL means wait for the workers:
 * one that is still compressing may fill the gap. With
 * PIPELINE_WAIT_BELOW or more finished, waiting only kept the main
 * thread from reading. Not waiting then cut the wall time on
 * bench/snapshot.sh's tree by 30% (on a loaded machine), and left 0.65%
 * of the leaf pages unused instead of 0.34%.
 */
static struct job *best_done(struct bundle *bundle, struct pipeline *p)
{
	struct job *fit = NULL, *largest = NULL;
	size_t fit_bytes = 0, largest_bytes = 0;
	int n_done = 0;
	int pending = p->n_queued > 0 || p->n_working > 0;

	for (size_t i = 0; i < PIPELINE_JOBS; i++) {
		struct job *job = &p->jobs[i];
		size_t bytes;

		if (job->state != JOB_DONE)
			continue;
		n_done++;
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
	if (pending && n_done < PIPELINE_WAIT_BELOW)
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

/* Wait for a worker to finish a job. The caller holds the lock. */
static void wait_done(struct pipeline *p)
{
	p->waiting = 1;
	pthread_cond_wait(&p->done, &p->lock);
	p->waiting = 0;
}

/*
 * Compress the job at the head of the queue in the main thread, with
 * the bundle's own context, instead of waiting for a worker. So the
 * main thread and the workers share the compression, however their
 * loads differ. The caller holds the lock, which is dropped around the
 * compression. Returns 0 when no job is queued.
 */
static int help_compress(struct bundle *bundle, struct pipeline *p)
{
	struct job *job = next_queued(p);

	if (!job)
		return 0;
	job->state = JOB_WORKING;
	p->n_working++;
	pthread_mutex_unlock(&p->lock);
	compress_job(p, bundle->cctx, job);
	pthread_mutex_lock(&p->lock);
	job->state = JOB_DONE;
	p->n_working--;
	return 1;
}

/*
 * Insert one finished job, compressing queued ones while none is, and
 * waiting only when every job is being compressed. The caller holds the
 * lock, which is dropped around the insert so that the workers keep
 * compressing. By invariant 3, a finished job taken off the queue is
 * the main thread's own.
 */
static int insert_one(struct bundle *bundle, struct pipeline *p)
{
	struct job *slot, job;
	int rc;

	while (!(slot = best_done(bundle, p))) {
		if (!help_compress(bundle, p))
			wait_done(p);
	}
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
		p->fifo[(p->head + p->n_queued) % PIPELINE_JOBS] =
			(unsigned char)(job - p->jobs);
		p->n_queued++;
		p->count++;
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
		if (p->idle > 0 && (p->n_queued >= PIPELINE_WAKE_JOBS ||
				    len >= PIPELINE_WAKE_BYTES))
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
	/* Drop the queued jobs before a worker takes them, and wait for
	 * the jobs being compressed. */
	p->n_queued = 0;
	while (p->count > 0) {
		for (size_t i = 0; i < PIPELINE_JOBS; i++) {
			struct job *job = &p->jobs[i];

			if (job->state != JOB_DONE &&
			    job->state != JOB_QUEUED)
				continue;
			p->bytes -= job->len;
			free_job(job);
			job->state = JOB_FREE;
			p->count--;
		}
		if (p->count > 0)
			wait_done(p);
	}
	pthread_mutex_unlock(&p->lock);
}

void store_pipeline_stop(struct bundle *bundle)
{
	struct pipeline *p = bundle->pipeline;

	if (!p)
		return;
	store_pipeline_discard(bundle);
	stop_workers(p);
	destroy(p);
	bundle->pipeline = NULL;
}
