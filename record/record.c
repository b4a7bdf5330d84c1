/*
 * record.c - the recording session: create the bundle, append events
 * under one lock, and finalize.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "bundle/bundle.h"
#include "cli/cli.h"
#include "config.h"
#include "harness/error.h"
#include "harness/fingerprint.h"
#include "harness/input_file.h"
#include "harness/tracer.h"
#include "record/record.h"
#include "record/record_run.h"
#include "sandbox/policy.h"

/* A policy file larger than this is not a policy. */
#define MAX_POLICY_BYTES (1 << 20)

int64_t record_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void record_deadline_ms(struct timespec *at, long ms)
{
	clock_gettime(CLOCK_REALTIME, at);
	at->tv_sec += ms / 1000;
	at->tv_nsec += (ms % 1000) * 1000000L;
	if (at->tv_nsec >= 1000000000L) {
		at->tv_sec++;
		at->tv_nsec -= 1000000000L;
	}
}

/* Copy text into dst, ending a text cut to fit with "...", as the
 * libraries do, so that the cut shows. */
static void keep(char *dst, size_t size, const char *text)
{
	if ((size_t)snprintf(dst, size, "%s", text) >= size)
		snprintf(dst + size - 4, 4, "...");
}

void record_fail_locked(struct record_session *s, const char *message,
			const char *hint)
{
	if (s->failed)
		return;
	__atomic_store_n(&s->failed, true, __ATOMIC_RELAXED);
	if (!message)
		message = "recording failed";
	keep(s->failure, sizeof(s->failure), message);
	/* Any pipe, socket or open of the run can be the one that hits the
	 * file limit, and the fix does not depend on which, so the hint
	 * comes from the error text that each caller ends its message
	 * with. */
	if (!hint || !hint[0])
		hint = cli_fd_limit_hint(message);
	keep(s->failure_hint, sizeof(s->failure_hint), hint);

	/* The tracer kills what is left once the root has ended. */
	if (s->tracer)
		harness_tracer_signal_root(s->tracer, SIGKILL);
}

void record_count(struct record_session *s, uint64_t *counter, uint64_t n)
{
	pthread_mutex_lock(&s->qlock);
	*counter += n;
	pthread_mutex_unlock(&s->qlock);
}

static int put_json(struct bundle *bundle, const cJSON *object,
		    struct bundle_id *id)
{
	char *text = cJSON_PrintUnformatted(object);
	int rc;

	if (!text) {
		bundle_set_error("cannot encode an event object: out of "
				 "memory");
		return -1;
	}
	rc = bundle_put(bundle, BUNDLE_JSON, text, strlen(text), id);
	free(text);
	return rc;
}

/* The largest object that put_bytes() keeps to compare with the next. */
#define LAST_JSON_MAX ((size_t)1 << 20)

/*
 * Most execs pass the environment of the exec before, which is stored
 * already: comparing the bytes with the last ones spares hashing them
 * again, a fifth of the writer's instructions in callgrind. Every
 * rollback clears the cache, so its id names an object that is
 * committed or in the open transaction.
 */
static int put_bytes(struct record_session *s, enum bundle_kind kind,
		     const void *bytes, size_t len, struct bundle_id *id)
{
	void *copy;

	if (kind == BUNDLE_JSON && s->last_json && s->last_json_len == len &&
	    memcmp(s->last_json, bytes, len) == 0) {
		*id = s->last_json_id;
		return 0;
	}
	if (bundle_put(s->bundle, kind, bytes, len, id) < 0)
		return -1;
	/* Environments are small; a large object, such as an exchange
	 * with a long streamed response, is not kept a second time. */
	if (kind != BUNDLE_JSON || len > LAST_JSON_MAX)
		return 0;
	copy = malloc(len ? len : 1);
	free(s->last_json);
	s->last_json = copy;
	if (copy) {
		memcpy(copy, bytes, len);
		s->last_json_len = len;
		s->last_json_id = *id;
	}
	return 0;
}

void record_rollback_locked(struct record_session *s)
{
	bundle_rollback(s->bundle);
	free(s->last_json);
	s->last_json = NULL;
}

int record_put_event(struct record_session *s, const char *kind,
		     const cJSON *data, const cJSON *object,
		     enum bundle_kind bytes_kind, const void *bytes,
		     size_t len, const struct bundle_id *extra,
		     size_t n_extra, uint64_t *seq)
{
	struct bundle_id refs[8];
	size_t n = 0;

	if (n_extra > 6) {
		bundle_set_error("cannot append event: '%s': too many "
				 "references", kind);
		return -1;
	}
	if (object && put_json(s->bundle, object, &refs[n++]) < 0)
		return -1;
	if (bytes && put_bytes(s, bytes_kind, bytes, len, &refs[n++]) < 0)
		return -1;
	for (size_t i = 0; i < n_extra; i++)
		refs[n++] = extra[i];
	return bundle_append_event(s->bundle, kind, data, refs, n, seq);
}

/* Append one event with its objects in one transaction, after every
 * queued one. */
static int event_locked(struct record_session *s, const char *kind,
			const cJSON *data, const cJSON *object,
			enum bundle_kind bytes_kind, const void *bytes,
			size_t len, const struct bundle_id *extra,
			size_t n_extra, uint64_t *seq)
{
	record_flush_locked(s);
	if (s->failed)
		return -1;
	if (bundle_begin(s->bundle) < 0)
		goto fail;
	if (record_put_event(s, kind, data, object, bytes_kind, bytes, len,
			     extra, n_extra, seq) < 0 ||
	    bundle_commit(s->bundle) < 0) {
		record_rollback_locked(s);
		goto fail;
	}
	return 0;
fail:
	record_fail_locked(s, bundle_error(), bundle_error_hint());
	return -1;
}

int record_event_locked(struct record_session *s, const char *kind,
			const cJSON *data, const cJSON *object,
			const struct bundle_id *extra, size_t n_extra,
			uint64_t *seq)
{
	return event_locked(s, kind, data, object, BUNDLE_BLOB, NULL, 0,
			    extra, n_extra, seq);
}

int record_event(struct record_session *s, const char *kind,
		 const cJSON *data, const cJSON *object,
		 const struct bundle_id *extra, size_t n_extra, uint64_t *seq)
{
	int rc;

	pthread_mutex_lock(&s->lock);
	rc = event_locked(s, kind, data, object, BUNDLE_BLOB, NULL, 0,
			  extra, n_extra, seq);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static void fail_harness(struct record_session *s)
{
	pthread_mutex_lock(&s->lock);
	record_fail_locked(s, harness_error(), harness_error_hint());
	pthread_mutex_unlock(&s->lock);
}

static void fail_message(struct record_session *s, const char *what,
			 const char *value, const char *reason)
{
	char *message = NULL;

	if (asprintf(&message, "%s: '%s': %s", what, value, reason) < 0)
		message = NULL;
	pthread_mutex_lock(&s->lock);
	record_fail_locked(s, message ? message : reason, NULL);
	pthread_mutex_unlock(&s->lock);
	free(message);
}

static void fail_errno(struct record_session *s, const char *what,
		       const char *value)
{
	fail_message(s, what, value, strerror(errno));
}

/* Read a whole small regular file; the caller frees *text. Returns -1
 * with *reason set on failure. */
static int read_small_file(const char *path, char **text, size_t *len,
			   const char **reason)
{
	int fd = harness_open_input(path, reason);
	size_t cap = 4096, n = 0;
	char *buf = NULL;
	ssize_t got = 1;

	if (fd < 0)
		return -1;
	while (got > 0 && n < MAX_POLICY_BYTES) {
		char *grown = realloc(buf, cap + 1);

		if (!grown)
			break;
		buf = grown;
		got = read(fd, buf + n, cap - n);
		if (got > 0)
			n += (size_t)got;
		if (n == cap)
			cap *= 2;
	}
	close(fd);
	if (got != 0) {
		free(buf);
		*reason = got < 0 ? strerror(errno) : strerror(EFBIG);
		return -1;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

static void sha256_hex(const void *data, size_t len, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;

	EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL);
	for (unsigned int i = 0; i < md_len && i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* The built-in policy, in the file format. */
static char *default_policy_text(const struct sandbox_policy *policy)
{
	cJSON *json = sandbox_policy_to_json(policy);
	char *text = json ? cJSON_Print(json) : NULL;

	cJSON_Delete(json);
	return text;
}

/* The policy's digest and content go into the fingerprint, so that a
 * replay can demand the same rules. */
static int add_policy(struct record_session *s)
{
	const char *path = s->config->policy_path;
	char hex[65] = "", *text = NULL;
	const char *reason = NULL;
	size_t len = 0;
	int rc;

	if (path && read_small_file(path, &text, &len, &reason) < 0) {
		fail_message(s, "cannot read policy", path, reason);
		return -1;
	}
	if (!path) {
		text = default_policy_text(s->config->policy);
		len = text ? strlen(text) : 0;
	}
	if (!text) {
		harness_set_error("cannot encode the policy: out of memory");
		return -1;
	}
	sha256_hex(text, len, hex);
	rc = harness_fingerprint_set_policy(s->fingerprint, hex, text);
	free(text);
	return rc;
}

static cJSON *string_array(char *const *items, size_t n)
{
	cJSON *array = cJSON_CreateArray();

	for (size_t i = 0; array && i < n; i++)
		cJSON_AddItemToArray(array, cJSON_CreateString(items[i]));
	return array;
}

/* "KEY=VALUE" pairs as an object. */
static cJSON *pairs_object(const char *const *pairs, size_t n)
{
	cJSON *obj = cJSON_CreateObject();

	for (size_t i = 0; obj && i < n; i++) {
		const char *eq = strchr(pairs[i], '=');
		char *key = strndup(pairs[i], (size_t)(eq - pairs[i]));

		if (key)
			cJSON_AddStringToObject(obj, key, eq + 1);
		free(key);
	}
	return obj;
}

/*
 * The workspace's hidden parts that exist before the agent starts, each
 * with its type. No snapshot has them, so a replay makes an empty one
 * of each type in their place, for its sandbox to cover as this run's
 * did. A symlink counts as a file.
 */
static cJSON *hidden_parts(const struct record_session *s)
{
	const struct sandbox_strings *hidden =
		&s->config->policy->workspace_hidden;
	cJSON *array = cJSON_CreateArray();
	char path[PATH_MAX * 2];
	struct stat st;

	for (size_t i = 0; array && i < hidden->count; i++) {
		cJSON *part;

		snprintf(path, sizeof(path), "%s/%s", s->config->workspace,
			 hidden->items[i]);
		if (lstat(path, &st) < 0)
			continue;
		part = cJSON_CreateObject();
		cJSON_AddStringToObject(part, "path", hidden->items[i]);
		cJSON_AddStringToObject(part, "type", S_ISDIR(st.st_mode)
							      ? "directory"
							      : "file");
		cJSON_AddItemToArray(array, part);
	}
	return array;
}

static int record_start_event(struct record_session *s)
{
	const struct record_config *c = s->config;
	cJSON *data = cJSON_CreateObject();
	size_t argc = 0;
	int rc;

	while (c->argv[argc])
		argc++;
	cJSON_AddStringToObject(data, "runbundle", RUNBUNDLE_VERSION);
	cJSON_AddItemToObject(data, "argv", string_array(c->argv, argc));
	cJSON_AddStringToObject(data, "workspace", c->workspace_inside
							? c->workspace_inside
							: c->workspace);
	cJSON_AddItemToObject(data, "labels",
			      pairs_object(c->labels, c->n_labels));
	cJSON_AddItemToObject(data, "upstreams",
			      pairs_object(c->upstreams, c->n_upstreams));
	if (c->model_script)
		cJSON_AddStringToObject(data, "model_script",
					c->model_script);
	cJSON_AddStringToObject(data, "stdin",
				isatty(STDIN_FILENO) ? "terminal" : "null");
	cJSON_AddStringToObject(data, "sandbox",
				c->no_sandbox ? "none" : "namespaces");
	cJSON_AddItemToObject(data, "snapshot_excludes",
			      string_array(s->excludes, s->n_excludes));
	cJSON_AddItemToObject(data, "hidden", hidden_parts(s));
	rc = record_event(s, "record", data, NULL, NULL, 0, NULL);
	cJSON_Delete(data);
	return rc;
}

static int fingerprint_event(struct record_session *s, const char *at)
{
	cJSON *data = cJSON_CreateObject();
	int rc;

	cJSON_AddStringToObject(data, "at", at);
	rc = record_event(s, "fingerprint", data, s->fingerprint, NULL, 0,
			  NULL);
	cJSON_Delete(data);
	return rc;
}

static int add_exclude(struct record_session *s, const char *pattern)
{
	char **grown = realloc(s->excludes,
			       (s->n_excludes + 1) * sizeof(*grown));

	if (!grown)
		return -1;
	s->excludes = grown;
	s->excludes[s->n_excludes] = strdup(pattern);
	if (!s->excludes[s->n_excludes])
		return -1;
	s->n_excludes++;
	return 0;
}

/* The policy's snapshot excludes. The bundle itself never lies inside
 * the workspace: cmd_record.c rejects such an output. */
static int exclude_policy(struct record_session *s)
{
	const struct sandbox_strings *ex =
		&s->config->policy->snapshot_exclude;

	for (size_t i = 0; i < ex->count; i++) {
		if (add_exclude(s, ex->items[i]) < 0)
			return -1;
	}
	return 0;
}

/*
 * SQLite replays a WAL file that it finds beside a new database, so the
 * side files of a removed bundle whose writer was killed would put that
 * bundle's events into this one.
 */
static int check_leftovers(struct record_session *s, const char *path)
{
	static const char *const suffixes[] = { "-wal", "-shm" };
	char message[PATH_MAX + 128], hint[2 * PATH_MAX + 64];
	char names[16] = "", files[2 * PATH_MAX + 16] = "";
	int found = 0;

	/* Both at once, so that one removal clears the way. */
	for (size_t i = 0; i < 2; i++) {
		char side[PATH_MAX + 8];

		snprintf(side, sizeof(side), "%s%s", path, suffixes[i]);
		if (access(side, F_OK) != 0)
			continue;
		snprintf(names + strlen(names), sizeof(names) - strlen(names),
			 "%s%s", names[0] ? "' and '" : "", suffixes[i] + 1);
		snprintf(files + strlen(files), sizeof(files) - strlen(files),
			 "%s'%s'", files[0] ? " and " : "", side);
		found++;
	}
	if (!found)
		return 0;
	snprintf(message, sizeof(message), "cannot create the bundle: '%s': "
		 "%s '%s' %s beside it", path,
		 found > 1 ? "leftover" : "a leftover", names,
		 found > 1 ? "files are" : "file is");
	snprintf(hint, sizeof(hint), "remove %s, or choose another name "
		 "with -o", files);
	record_fail_locked(s, message, hint);
	return -1;
}

/*
 * A full disk before the bundle has its first events leaves no bundle
 * (discard_bundle()), so the store's hint that everything
 * committed stays intact does not apply.
 */
static void fix_full_hint(struct record_session *s)
{
	if (!bundle_error_is_disk_full(s->failure))
		return;
	snprintf(s->failure_hint, sizeof(s->failure_hint),
		 "free space on the file system of '%s', or create the "
		 "bundle on another one with -o", s->config->output);
}

/* Write the "record" event and collect the fingerprint. */
static int write_start(struct record_session *s,
		       struct harness_fingerprint_options *fo)
{
	if (exclude_policy(s) < 0) {
		record_fail_locked(s, "cannot add the snapshot excludes: out "
				   "of memory", NULL);
		return -1;
	}

	/* An event without objects starts none of the store's threads. */
	if (record_start_event(s) < 0)
		return -1;
	s->fingerprint = harness_fingerprint_collect(fo);
	if (!s->fingerprint || add_policy(s) < 0) {
		if (!s->failed)
			fail_harness(s);
		return -1;
	}
	return 0;
}

/*
 * Close and remove the bundle that this session created, so that a run
 * that failed before its first events leaves no bundle behind. created
 * is the bundle's stat() after creation.
 */
static void discard_bundle(struct record_session *s,
			   const struct stat *created)
{
	if (!s->bundle)
		return;
	record_writer_stop(s);
	bundle_close(s->bundle);
	s->bundle = NULL;
	if (bundle_remove_created(s->config->output, created) < 0)
		cli_error("warning: %s", bundle_error());
}

/*
 * The policy's secrets need not match a default pattern (a database URL
 * in DB_URL, say), and runbundle's own environment goes into the
 * fingerprint: without them there, the bundle would hold the value
 * that the sandbox keeps from the agent.
 */
static const char **secret_names(const struct sandbox_policy *policy)
{
	const struct sandbox_strings *extra = &policy->env_secrets;
	size_t n = 0, k = 0;
	const char **names;

	while (harness_default_secret_names[n])
		n++;
	names = calloc(n + extra->count + 1, sizeof(*names));
	if (!names)
		return NULL;
	for (size_t i = 0; i < n; i++)
		names[k++] = harness_default_secret_names[i];
	for (size_t i = 0; i < extra->count; i++)
		names[k++] = extra->items[i];
	return names;
}

int record_session_open(struct record_session *s,
			const struct record_config *config)
{
	struct harness_fingerprint_options fo = { 0 };
	struct stat st;

	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->qlock, NULL);
	pthread_cond_init(&s->qcond, NULL);
	pthread_cond_init(&s->qroom, NULL);
	s->config = config;
	s->start_us = record_now_us();

	s->secret_names = secret_names(config->policy);
	if (!s->secret_names) {
		record_fail_locked(s, "cannot list the secret variables: out "
				   "of memory", NULL);
		return -1;
	}
	fo.secret_names = s->secret_names;
	if (check_leftovers(s, config->output) < 0)
		return -1;
	s->bundle = bundle_create(config->output, NULL);
	if (!s->bundle) {
		record_fail_locked(s, bundle_error(), bundle_error_hint());
		fix_full_hint(s);
		return -1;
	}
	if (stat(config->output, &st) != 0)
		memset(&st, 0, sizeof(st));
	if (write_start(s, &fo) < 0) {
		discard_bundle(s, &st);
		fix_full_hint(s);
		return -1;
	}
	return 0;
}


int record_session_start(struct record_session *s)
{
	const char *seed = s->config->policy->home_seed;

	s->starting = true;
	if (record_signals_poll(s) || fingerprint_event(s, "start") < 0)
		goto out;
	if (record_signals_poll(s) ||
	    record_snapshot_workspace(s, "initial", 0) < 0)
		goto out;
	if (seed && (record_signals_poll(s) ||
		     record_snapshot_home(s, seed) < 0))
		goto out;
	if (record_signals_poll(s))
		goto out;
	if (record_writer_start(s) < 0) {
		fail_errno(s, "cannot start the bundle writer", "thread");
		goto out;
	}
out:
	s->starting = false;
	return s->failed ? -1 : 0;
}

static cJSON *end_data(struct record_session *s,
			const struct record_result *r)
{
	cJSON *data = cJSON_CreateObject();
	cJSON *counts = cJSON_AddObjectToObject(data, "counts");

	cJSON_AddBoolToObject(data, "started", r->started);
	cJSON_AddNumberToObject(data, "exit_code", r->exit_code);
	if (r->started && WIFSIGNALED(r->wait_status))
		cJSON_AddStringToObject(data, "signal",
					sigabbrev_np(WTERMSIG(r->wait_status)));
	if (r->stop_signal)
		cJSON_AddStringToObject(data, "stopped_by",
					sigabbrev_np(r->stop_signal));
	cJSON_AddNumberToObject(data, "interrupts", r->interrupts);
	cJSON_AddBoolToObject(data, "timed_out", r->timed_out);
	cJSON_AddNumberToObject(data, "duration_us",
				(double)(r->end_us - s->start_us));
	cJSON_AddNumberToObject(counts, "model_calls",
				(double)s->counts.model_calls);
	cJSON_AddNumberToObject(counts, "processes",
				(double)s->counts.processes);
	cJSON_AddNumberToObject(counts, "files_changed",
				(double)s->counts.files_changed);
	cJSON_AddNumberToObject(counts, "violations",
				(double)s->counts.violations);
	cJSON_AddNumberToObject(counts, "snapshots",
				(double)s->counts.snapshots);
	return data;
}

/* The closing events, built before they are written. The tree is the
 * whole tree once more, as the tracer builds it, for readers that want
 * it without replaying the process events. */
struct closing {
	char *tree;			/* JSON text; NULL when nothing was
					 * traced */
	size_t tree_len;
	cJSON *tree_data;
	cJSON *fingerprint_data;
	cJSON *end_data;
};

/* Build the closing events. Returns -1 when out of memory. */
static int build_closing(struct record_session *s,
			 const struct record_result *r, struct closing *c)
{
	size_t n = s->tracer ? harness_tracer_count(s->tracer) : 0;

	if (n > 0) {
		c->tree = harness_tracer_tree_text(s->tracer, &c->tree_len);
		c->tree_data = cJSON_CreateObject();
		harness_json_add_integer(c->tree_data, "processes",
					 (int64_t)n);
	}
	c->fingerprint_data = cJSON_CreateObject();
	cJSON_AddStringToObject(c->fingerprint_data, "at", "end");
	c->end_data = end_data(s, r);
	if ((n > 0 && (!c->tree || !c->tree_data)) ||
	    !c->fingerprint_data || !c->end_data)
		return -1;
	return 0;
}

static void free_closing(struct closing *c)
{
	free(c->tree);
	cJSON_Delete(c->tree_data);
	cJSON_Delete(c->fingerprint_data);
	cJSON_Delete(c->end_data);
}

static int put_closing(struct record_session *s, const struct closing *c)
{
	struct bundle_id tree;

	if (c->tree &&
	    (bundle_put(s->bundle, BUNDLE_JSON, c->tree, c->tree_len,
			&tree) < 0 ||
	     record_put_event(s, "process-tree", c->tree_data, NULL,
			      BUNDLE_BLOB, NULL, 0, &tree, 1, NULL) < 0))
		return -1;
	if (record_put_event(s, "fingerprint", c->fingerprint_data,
			     s->fingerprint, BUNDLE_BLOB, NULL, 0, NULL, 0,
			     NULL) < 0)
		return -1;
	return record_put_event(s, "end", c->end_data, NULL, BUNDLE_BLOB,
				NULL, 0, NULL, 0, NULL);
}

/*
 * The process tree, the final fingerprint and the "end" event commit in
 * one transaction, one commit and its fsync instead of three at the end
 * of every run. A SIGKILL before the commit leaves none of them.
 */
static int closing_events(struct record_session *s,
			  const struct record_result *r)
{
	struct closing c = { 0 };

	if (build_closing(s, r, &c) < 0) {
		free_closing(&c);
		pthread_mutex_lock(&s->lock);
		record_fail_locked(s, "cannot build the closing events: out "
				   "of memory", NULL);
		pthread_mutex_unlock(&s->lock);
		return -1;
	}

	pthread_mutex_lock(&s->lock);
	record_flush_locked(s);
	if (s->failed)
		goto out;
	if (bundle_begin(s->bundle) < 0)
		goto fail;
	if (put_closing(s, &c) < 0 || bundle_commit(s->bundle) < 0) {
		record_rollback_locked(s);
		goto fail;
	}
	goto out;
fail:
	record_fail_locked(s, bundle_error(), bundle_error_hint());
out:
	pthread_mutex_unlock(&s->lock);
	free_closing(&c);
	return s->failed ? -1 : 0;
}

int record_session_finish(struct record_session *s,
			  const struct record_result *result,
			  struct bundle_id *root)
{
	struct record_result r = *result;

	record_writer_stop(s);
	if (r.started) {
		int rc;

		s->ending = true;
		record_signals_poll_ending(s);
		rc = record_snapshot_workspace(s, "final", 0);
		record_signals_poll_ending(s);
		s->ending = false;
		if (rc < 0)
			return -1;
	}
	if (record_add_executables(s) < 0) {
		fail_harness(s);
		return -1;
	}
	/* Those that came during the final snapshot count too. */
	r.interrupts = record_signals_take();
	if (closing_events(s, &r) < 0)
		return -1;

	pthread_mutex_lock(&s->lock);
	if (!s->failed && bundle_finalize(s->bundle, root) < 0)
		record_fail_locked(s, bundle_error(), bundle_error_hint());
	pthread_mutex_unlock(&s->lock);
	return s->failed ? -1 : 0;
}

static void note_wal(const struct bundle *bundle, const char *path,
		     const char *unfinalized);

void record_session_close(struct record_session *s)
{
	record_writer_stop(s);
	harness_tracer_free(s->tracer);
	s->tracer = NULL;
	/* A finalized bundle's note comes with the summary. */
	if (s->bundle && !bundle_is_finalized(s->bundle)) {
		bundle_leave_wal(s->bundle);
		note_wal(s->bundle, s->config->output, "incomplete");
	}
	bundle_close(s->bundle);
	s->bundle = NULL;
	cJSON_Delete(s->fingerprint);
	s->fingerprint = NULL;
	harness_secrets_release(&s->secrets);
	free(s->secret_names);
	s->secret_names = NULL;
	free(s->last_json);
	s->last_json = NULL;
	for (size_t i = 0; i < s->n_excludes; i++)
		free(s->excludes[i]);
	free(s->excludes);
	s->excludes = NULL;
	s->n_excludes = 0;
	free(s->forbidden);
	s->forbidden = NULL;
	for (size_t i = 0; i < s->n_unreadable; i++)
		free(s->unreadable[i]);
	free(s->unreadable);
	s->unreadable = NULL;
	s->n_unreadable = 0;
	pthread_cond_destroy(&s->qroom);
	pthread_cond_destroy(&s->qcond);
	pthread_mutex_destroy(&s->qlock);
	pthread_mutex_destroy(&s->lock);
}

/* Print record_note_wal()'s warning, with unfinalized as the state of a
 * bundle that is not finalized. After a failed run's "incomplete" line,
 * "stored" would read as a finished bundle, which contradicts it. */
static void note_wal(const struct bundle *bundle, const char *path,
		     const char *unfinalized)
{
	const char *cause = bundle_wal_error(bundle);
	const char *state = bundle_is_finalized(bundle) ? "finalized" :
			    unfinalized;
	const char *conjunction = strcmp(state, "incomplete") ? "but"
							      : "and";

	switch (bundle_wal_kept(bundle)) {
	case BUNDLE_WAL_NONE:
		return;
	case BUNDLE_WAL_MODE:
		if (cause)
			cli_error("warning: the bundle is %s, %s stays in WAL "
				  "mode: '%s': %s", state, conjunction, path,
				  cause);
		else
			cli_error("warning: the bundle is %s, %s another "
				  "process had it open, so it stays in WAL "
				  "mode: '%s'", state, conjunction, path);
		cli_hint("the file holds every commit; a reader needs write "
			 "access to its directory for the -wal and -shm "
			 "files");
		return;
	case BUNDLE_WAL_MOVED:
		cli_error("warning: the bundle is %s, %s it was moved or "
			  "removed while it was written: '%s'", state,
			  conjunction, path);
		cli_hint("a moved file holds every commit where it is now; "
			 "a removed one is lost");
		return;
	case BUNDLE_WAL_COMMITS:
		if (cause) {
			cli_error("warning: the bundle is %s, %s its last "
				  "commits stay in '%s-wal': %s", state,
				  conjunction, path, cause);
			cli_hint("keep '%s-wal' beside the bundle: the file "
				 "alone lacks them", path);
			return;
		}
		cli_error("warning: the bundle is %s, %s another process had "
			  "it open, so its last commits are in '%s-wal'",
			  state, conjunction, path);
		cli_hint("keep '%s-wal' beside the bundle, or copy the bundle "
			 "after every other process has closed it", path);
		return;
	}
}

void record_note_wal(const struct bundle *bundle, const char *path)
{
	note_wal(bundle, path, "stored");
}
