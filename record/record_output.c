/*
 * record_output.c - the agent's stdout and stderr: copied to ours as
 * they arrive, and stored as "output" events, each one BLOB of bytes
 * plus the time and length of every read that made it up.
 *
 * One thread reads both pipes. It never stops reading while the agent
 * runs, also after the session has failed (then nothing more is
 * stored), so that a full disk cannot block the agent on a full pipe.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "record/record.h"
#include "record/record_run.h"

/* A stream is stored when this much is buffered, or when its oldest
 * unstored byte is this old. */
#define FLUSH_BYTES (256 * 1024)
#define FLUSH_CHUNKS 4096
#define FLUSH_AGE_MS 250

/* Milliseconds that the thread reads on once the run has ended. Every
 * process of the run has died by then and the pipes are at end of
 * stream, unless a process outlived SIGKILL with a pipe open. */
#define DRAIN_MS 1000

/* How often the end of the run checks for a second interrupt while the
 * thread still copies to a reader that does not read. */
#define JOIN_POLL_MS 50

/* Sent to the thread to cut short a write that blocks on our stdout or
 * stderr, once the copy is given up. The handler does nothing: the
 * write returns early because it is installed without SA_RESTART. */
#define KICK_SIGNAL SIGURG

struct stream {
	const char *name;	/* "stdout" or "stderr" */
	int in;			/* read end of the agent's pipe */
	int out;		/* our own fd 1 or 2 */
	bool on_stderr;		/* out is stderr, or the same file */
	unsigned char *buf;
	size_t len;
	cJSON *chunks;		/* [[offset_us, length], ...] */
	size_t n_chunks;
	int64_t first_us;	/* when the oldest unstored byte came */
};

struct record_output {
	struct record_session *session;
	struct stream streams[2];
	pthread_t thread;
	int64_t stop_us;	/* when to stop reading, 0 until the end of
				 * the run (atomic) */
	int no_copy;		/* stop copying to our stdout and stderr,
				 * only store (atomic) */
};

static int64_t monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static bool copying(const struct record_output *o)
{
	return !__atomic_load_n(&o->no_copy, __ATOMIC_RELAXED);
}

static void write_all(const struct record_output *o, int fd,
		      const unsigned char *p, size_t len)
{
	while (len > 0 && copying(o)) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;	/* our stdout is gone: keep storing */
		p += n;
		len -= (size_t)n;
	}
}

/* The buffer goes to the queue, and a new one takes its place. */
static void flush_stream(struct record_session *s, struct stream *st)
{
	unsigned char *fresh;
	cJSON *data;

	if (st->len == 0)
		return;
	/* The agent may print what an upstream echoed back.
	 * NOTE: a secret split across two stored pieces is not masked. */
	harness_redact_bytes(&s->secrets, st->buf, st->len);
	data = cJSON_CreateObject();
	cJSON_AddStringToObject(data, "stream", st->name);
	cJSON_AddItemToObject(data, "chunks", st->chunks);
	fresh = malloc(FLUSH_BYTES);
	if (fresh) {
		record_submit_wait(s, "output", data, NULL, BUNDLE_BLOB,
				   st->buf, st->len);
		st->buf = fresh;
	} else {
		cJSON_Delete(data);
		pthread_mutex_lock(&s->lock);
		record_fail_locked(s, "cannot store the agent's output: out "
				   "of memory", NULL);
		pthread_mutex_unlock(&s->lock);
	}
	st->chunks = cJSON_CreateArray();
	st->len = 0;
	st->n_chunks = 0;
}

static void add_chunk(struct record_session *s, struct stream *st,
		      const unsigned char *p, size_t n)
{
	int64_t now = record_now_us();
	cJSON *pair = cJSON_CreateArray();

	if (st->len == 0)
		st->first_us = now;
	memcpy(st->buf + st->len, p, n);
	st->len += n;
	cJSON_AddItemToArray(pair,
			     cJSON_CreateNumber((double)(now - s->start_us)));
	cJSON_AddItemToArray(pair, cJSON_CreateNumber((double)n));
	cJSON_AddItemToArray(st->chunks, pair);
	st->n_chunks++;
}

/* Read once; returns 0 at EOF, 1 otherwise. */
static int pump(struct record_output *o, struct stream *st)
{
	struct record_session *s = o->session;
	unsigned char tmp[64 * 1024];
	ssize_t n = read(st->in, tmp, sizeof(tmp));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 1;
	if (n <= 0)
		return 0;
	write_all(o, st->out, tmp, (size_t)n);
	if (st->on_stderr)
		cli_output_copied(tmp, (size_t)n);
	if (st->len + (size_t)n > FLUSH_BYTES)
		flush_stream(s, st);
	add_chunk(s, st, tmp, (size_t)n);
	if (st->len >= FLUSH_BYTES || st->n_chunks >= FLUSH_CHUNKS)
		flush_stream(s, st);
	return 1;
}

static void flush_old(struct record_session *s, struct stream *st)
{
	if (st->len && record_now_us() - st->first_us >= FLUSH_AGE_MS * 1000)
		flush_stream(s, st);
}

static void *output_main(void *arg)
{
	struct record_output *o = arg;
	struct pollfd p[2];
	int n_open = 2;

	for (int i = 0; i < 2; i++)
		p[i] = (struct pollfd){ .fd = o->streams[i].in,
					.events = POLLIN };
	while (n_open > 0) {
		int64_t stop = __atomic_load_n(&o->stop_us, __ATOMIC_RELAXED);
		int n;

		if (stop && monotonic_us() >= stop)
			break;
		n = poll(p, 2, FLUSH_AGE_MS / 2);

		for (int i = 0; n > 0 && i < 2; i++) {
			if (p[i].fd < 0 || !p[i].revents)
				continue;
			if (!pump(o, &o->streams[i])) {
				p[i].fd = -1;
				n_open--;
			}
		}
		for (int i = 0; i < 2; i++)
			flush_old(o->session, &o->streams[i]);
	}
	for (int i = 0; i < 2; i++)
		flush_stream(o->session, &o->streams[i]);
	return NULL;
}

/* Whether our stdout is the file or pipe that our stderr is, as on a
 * terminal or after 2>&1, so that its lines and messages share lines. */
static bool stdout_is_stderr(void)
{
	struct stat out, err;

	if (fstat(STDOUT_FILENO, &out) < 0 || fstat(STDERR_FILENO, &err) < 0)
		return false;
	return out.st_dev == err.st_dev && out.st_ino == err.st_ino;
}

static void on_kick(int sig)
{
	(void)sig;
}

static void free_output(struct record_output *o)
{
	for (int i = 0; i < 2; i++) {
		free(o->streams[i].buf);
		cJSON_Delete(o->streams[i].chunks);
		if (o->streams[i].in >= 0)
			close(o->streams[i].in);
	}
	free(o);
}

struct record_output *record_output_start(struct record_session *s,
					  int fds[2])
{
	struct record_output *o = calloc(1, sizeof(*o));
	static const char *const names[] = { "stdout", "stderr" };

	if (!o)
		return NULL;
	o->session = s;
	for (int i = 0; i < 2; i++) {
		struct stream *st = &o->streams[i];

		st->name = names[i];
		st->in = fds[i];
		st->out = i + 1;
		st->on_stderr = st->out == STDERR_FILENO || stdout_is_stderr();
		st->buf = malloc(FLUSH_BYTES);
		st->chunks = cJSON_CreateArray();
		if (!st->buf || !st->chunks)
			goto fail;
	}
	sigaction(KICK_SIGNAL, &(struct sigaction){ .sa_handler = on_kick },
		  NULL);
	if (pthread_create(&o->thread, NULL, output_main, o) != 0)
		goto fail;
	return o;
fail:
	free_output(o);
	return NULL;
}

/*
 * A reader that stopped reading our stdout blocks the thread in its
 * write. After a second interrupt the user wants the run to end, so the
 * copy is given up then, and the thread only stores the rest.
 */
void record_output_finish(struct record_output *o)
{
	if (!o)
		return;
	__atomic_store_n(&o->stop_us, monotonic_us() + DRAIN_MS * 1000,
			 __ATOMIC_RELAXED);
	for (;;) {
		struct timespec at;

		record_deadline_ms(&at, JOIN_POLL_MS);
		if (pthread_timedjoin_np(o->thread, NULL, &at) == 0)
			break;
		if (record_signals_take() < 2)
			continue;
		/* Kick on every round, because a kick that lands just
		 * before the write starts is lost. */
		__atomic_store_n(&o->no_copy, 1, __ATOMIC_RELAXED);
		pthread_kill(o->thread, KICK_SIGNAL);
	}
	free_output(o);

	/* What runbundle prints after the run, such as the bundle's path,
	 * goes there with fprintf() too, not only with cli_error(). */
	cli_output_line_end();
}
