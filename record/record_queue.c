/*
 * record_queue.c - events that must not wait for the disk.
 *
 * The bundle commits with a full fsync, a few milliseconds each, and a
 * traced process stays stopped until its exec event is handled. So the
 * tracer, the output pump and the gateway queue their events, and one
 * writer thread commits whatever has gathered in one transaction: group
 * commit. Each event still commits together with its objects
 * (bundle.h, invariant 2). A failed batch rolls back as a whole, so the
 * bundle stays consistent up to the last batch committed.
 *
 * Order: events are written in the order they were queued, and every
 * synchronous write (record_event(), the snapshots) writes the queue
 * first, so the event log keeps the order in which things happened.
 * Lock order: session->lock before session->qlock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "record/record.h"

/*
 * How long the writer lets events gather before it commits them: each
 * commit writes whole 16 KiB pages and waits for fsync, so one commit
 * per exec would cost more than the exec. A writer killed with SIGKILL
 * loses at most this much of the queue; a snapshot and the end of the
 * run write it at once.
 */
#define BATCH_MS 50

/*
 * The queued bytes at which record_submit_wait() waits. An agent can
 * print far faster than the writer compresses, hashes and commits, and
 * each byte waits in memory until then.
 */
#define QUEUE_MAX_BYTES (16 * 1024 * 1024)

struct record_pending {
	struct record_pending *next;
	char kind[32];
	cJSON *data;
	cJSON *object;
	enum bundle_kind bytes_kind;
	void *bytes;
	size_t len;
};

static void pending_free(struct record_pending *p)
{
	while (p) {
		struct record_pending *next = p->next;

		cJSON_Delete(p->data);
		cJSON_Delete(p->object);
		free(p->bytes);
		free(p);
		p = next;
	}
}

static struct record_pending *take_all(struct record_session *s)
{
	struct record_pending *list;

	pthread_mutex_lock(&s->qlock);
	list = s->queue_head;
	s->queue_head = s->queue_tail = NULL;
	/* The pump may fill the queue again while this list is written. */
	s->queued_bytes = 0;
	pthread_cond_broadcast(&s->qroom);
	pthread_mutex_unlock(&s->qlock);
	return list;
}

static void write_list_locked(struct record_session *s,
			      struct record_pending *list)
{
	if (!list || s->failed)
		goto out;
	if (bundle_begin(s->bundle) < 0)
		goto fail;
	for (struct record_pending *p = list; p; p = p->next) {
		if (record_put_event(s, p->kind, p->data, p->object,
				     p->bytes_kind, p->bytes, p->len, NULL, 0,
				     NULL) < 0) {
			record_rollback_locked(s);
			goto fail;
		}
	}
	if (bundle_commit(s->bundle) < 0) {
		record_rollback_locked(s);
		goto fail;
	}
	goto out;
fail:
	record_fail_locked(s, bundle_error(), bundle_error_hint());
out:
	pending_free(list);
}

void record_flush_locked(struct record_session *s)
{
	write_list_locked(s, take_all(s));
}

static int submit(struct record_session *s, const char *kind, cJSON *data,
		  cJSON *object, enum bundle_kind bytes_kind, void *bytes,
		  size_t len, bool wait)
{
	struct record_pending *p = calloc(1, sizeof(*p));

	if (!p || __atomic_load_n(&s->failed, __ATOMIC_RELAXED)) {
		cJSON_Delete(data);
		cJSON_Delete(object);
		free(bytes);
		free(p);
		return -1;
	}
	snprintf(p->kind, sizeof(p->kind), "%s", kind);
	p->data = data;
	p->object = object;
	p->bytes_kind = bytes_kind;
	p->bytes = bytes;
	p->len = len;

	/* Only the first event wakes the writer, which then lets the
	 * others gather: a wakeup per event would cost a context switch
	 * each. */
	pthread_mutex_lock(&s->qlock);
	/* Only a running writer makes room, and a failed session drops
	 * what it takes. */
	while (wait && s->queued_bytes >= QUEUE_MAX_BYTES &&
	       s->writer_running && !s->writer_stop &&
	       !__atomic_load_n(&s->failed, __ATOMIC_RELAXED))
		pthread_cond_wait(&s->qroom, &s->qlock);
	s->queued_bytes += len;
	if (s->queue_tail) {
		s->queue_tail->next = p;
		if (s->queued_bytes >= QUEUE_MAX_BYTES)
			pthread_cond_signal(&s->qcond);
	} else {
		s->queue_head = p;
		pthread_cond_signal(&s->qcond);
	}
	s->queue_tail = p;
	pthread_mutex_unlock(&s->qlock);
	return 0;
}

int record_submit(struct record_session *s, const char *kind, cJSON *data,
		  cJSON *object, enum bundle_kind bytes_kind, void *bytes,
		  size_t len)
{
	return submit(s, kind, data, object, bytes_kind, bytes, len, false);
}

int record_submit_wait(struct record_session *s, const char *kind,
		       cJSON *data, cJSON *object,
		       enum bundle_kind bytes_kind, void *bytes, size_t len)
{
	return submit(s, kind, data, object, bytes_kind, bytes, len, true);
}

/* Let events gather for BATCH_MS after the first, unless the writer is
 * being stopped or the queue is full. */
static void gather(struct record_session *s)
{
	struct timespec until;

	record_deadline_ms(&until, BATCH_MS);
	while (!s->writer_stop && s->queued_bytes < QUEUE_MAX_BYTES &&
	       pthread_cond_timedwait(&s->qcond, &s->qlock, &until) == 0)
		; /* woken early: by record_writer_stop(), or spuriously */
}

static void *writer_main(void *arg)
{
	struct record_session *s = arg;

	for (;;) {
		bool stop;

		pthread_mutex_lock(&s->qlock);
		while (!s->queue_head && !s->writer_stop)
			pthread_cond_wait(&s->qcond, &s->qlock);
		gather(s);
		stop = s->writer_stop && !s->queue_head;
		pthread_mutex_unlock(&s->qlock);
		if (stop)
			return NULL;

		pthread_mutex_lock(&s->lock);
		record_flush_locked(s);
		pthread_mutex_unlock(&s->lock);
	}
}

int record_writer_start(struct record_session *s)
{
	if (pthread_create(&s->writer, NULL, writer_main, s) != 0)
		return -1;
	pthread_mutex_lock(&s->qlock);
	s->writer_running = true;
	pthread_mutex_unlock(&s->qlock);
	return 0;
}

void record_writer_stop(struct record_session *s)
{
	if (!s->writer_running)
		return;
	pthread_mutex_lock(&s->qlock);
	s->writer_stop = true;
	pthread_cond_signal(&s->qcond);
	pthread_cond_broadcast(&s->qroom);
	pthread_mutex_unlock(&s->qlock);
	pthread_join(s->writer, NULL);
	pthread_mutex_lock(&s->qlock);
	s->writer_running = false;
	pthread_mutex_unlock(&s->qlock);
	pending_free(take_all(s));
}
