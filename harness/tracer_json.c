/*
 * tracer_json.c - the recorded processes as JSON.
 *
 * Bytes from a traced process (argv, environment, paths) become a JSON
 * string when they are valid UTF-8, and {"base64": "..."} otherwise, so
 * that no byte is lost or altered.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness/json_bytes.h"
#include "harness/tracer_internal.h"

static cJSON *file_json(const struct harness_file *file)
{
	cJSON *obj = cJSON_CreateObject();

	cJSON_AddItemToObject(obj, "path", harness_json_text(file->path));
	if (file->sha256[0])
		cJSON_AddStringToObject(obj, "sha256", file->sha256);
	else
		cJSON_AddNullToObject(obj, "sha256");
	return obj;
}

/* [name, value], [name, null] when redacted, [name] without '='. */
static cJSON *env_json(const struct harness_exec *exec)
{
	cJSON *list = cJSON_CreateArray();

	for (size_t i = 0; i < exec->envc; i++) {
		const struct harness_env_entry *e = &exec->env[i];
		cJSON *pair = cJSON_CreateArray();

		cJSON_AddItemToArray(pair, harness_json_text(e->name));
		if (e->redacted)
			cJSON_AddItemToArray(pair, cJSON_CreateNull());
		else if (e->has_value)
			cJSON_AddItemToArray(pair, harness_json_text(e->value));
		cJSON_AddItemToArray(list, pair);
	}
	return list;
}

/* Build one exec's object. Its "env" is left out unless with_env, and
 * is env_text as a raw item when that is not NULL. */
static cJSON *exec_object(const struct harness_exec *exec, bool with_env,
			  const char *env_text)
{
	cJSON *obj = cJSON_CreateObject();
	cJSON *argv = cJSON_AddArrayToObject(obj, "argv");

	harness_json_add_integer(obj, "time_us", exec->time_us);
	cJSON_AddItemToObject(obj, "path", harness_json_text(exec->attempted));
	cJSON_AddItemToObject(obj, "resolved",
			      harness_json_text(exec->resolved));
	cJSON_AddBoolToObject(obj, "empty_path", exec->empty_path);
	if (exec->error) {
		const char *name = strerrorname_np(exec->error);

		harness_json_add_integer(obj, "errno", exec->error);
		cJSON_AddStringToObject(obj, "error", name ? name : "?");
	} else {
		cJSON_AddNullToObject(obj, "error");
	}
	for (size_t i = 0; i < exec->argc; i++)
		cJSON_AddItemToArray(argv,
				     harness_json_bytes(exec->argv[i].data,
							exec->argv[i].len));
	if (with_env)
		cJSON_AddItemToObject(obj, "env", env_text ?
						  cJSON_CreateRaw(env_text) :
						  env_json(exec));
	cJSON_AddItemToObject(obj, "cwd", harness_json_text(exec->cwd));
	if (exec->error && exec->interpreter)
		cJSON_AddItemToObject(obj, "interpreter",
				      harness_json_text(exec->interpreter));
	if (!exec->error) {
		cJSON_AddItemToObject(obj, "exe", file_json(&exec->exe));
		if (exec->script.path || exec->interpreter) {
			cJSON_AddItemToObject(obj, "script",
					      file_json(&exec->script));
			cJSON_AddItemToObject(
				obj, "interpreter",
				harness_json_text(exec->interpreter));
		}
	}
	return obj;
}

cJSON *harness_exec_json(const struct harness_exec *exec, bool with_env)
{
	return exec_object(exec, with_env, NULL);
}

static int key_add(struct tracer_env_key *key, const void *data, size_t len)
{
	if (key->len + len > key->capacity) {
		size_t n = 2 * (key->len + len);
		char *bigger = realloc(key->data, n);

		if (!bigger)
			return -1;
		key->data = bigger;
		key->capacity = n;
	}
	memcpy(key->data + key->len, data, len);
	key->len += len;
	return 0;
}

/* Flatten exec's environment into key: each entry as its name, a NUL,
 * then 'r' (redacted), 'n' (no '='), or 'v', the value and a NUL. Two
 * environments are equal exactly when their keys are. */
static int env_key(struct tracer_env_key *key,
		   const struct harness_exec *exec)
{
	key->len = 0;
	for (size_t i = 0; i < exec->envc; i++) {
		const struct harness_env_entry *e = &exec->env[i];
		char state = 'n';

		if (e->redacted)
			state = 'r';
		else if (e->has_value)
			state = 'v';

		if (key_add(key, e->name, strlen(e->name) + 1) < 0 ||
		    key_add(key, &state, 1) < 0)
			return -1;
		if (state == 'v' &&
		    key_add(key, e->value, strlen(e->value) + 1) < 0)
			return -1;
	}
	return 0;
}

/* The text of exec's environment: the one in cache when the
 * environment is the same as the last one, else a new one. NULL when
 * out of memory. */
static const char *env_text(struct tracer_env_cache *cache,
			    const struct harness_exec *exec)
{
	struct tracer_env_key swap;
	cJSON *env;

	if (env_key(&cache->next, exec) < 0)
		return NULL;
	if (cache->text && cache->next.len == cache->last.len &&
	    memcmp(cache->next.data, cache->last.data, cache->last.len) == 0)
		return cache->text;

	/* last always describes text, when there is one. */
	swap = cache->last;
	cache->last = cache->next;
	cache->next = swap;
	cJSON_free(cache->text);
	env = env_json(exec);
	cache->text = env ? cJSON_PrintUnformatted(env) : NULL;
	cJSON_Delete(env);
	return cache->text;
}

void tracer_env_cache_release(struct tracer_env_cache *cache)
{
	free(cache->last.data);
	free(cache->next.data);
	cJSON_free(cache->text);
	memset(cache, 0, sizeof(*cache));
}

const char *harness_tracer_env_text(struct harness_tracer *tracer,
				    const struct harness_exec *exec)
{
	return env_text(&tracer->env_cache, exec);
}

static int64_t tv_us(struct timeval tv)
{
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

static cJSON *rusage_json(const struct rusage *ru)
{
	cJSON *obj = cJSON_CreateObject();

	harness_json_add_integer(obj, "user_us", tv_us(ru->ru_utime));
	harness_json_add_integer(obj, "system_us", tv_us(ru->ru_stime));
	harness_json_add_integer(obj, "max_rss_kib", ru->ru_maxrss);
	harness_json_add_integer(obj, "minor_faults", ru->ru_minflt);
	harness_json_add_integer(obj, "major_faults", ru->ru_majflt);
	harness_json_add_integer(obj, "read_blocks", ru->ru_inblock);
	harness_json_add_integer(obj, "written_blocks", ru->ru_oublock);
	harness_json_add_integer(obj, "voluntary_switches", ru->ru_nvcsw);
	harness_json_add_integer(obj, "involuntary_switches", ru->ru_nivcsw);
	return obj;
}

static void add_end(cJSON *obj, const struct harness_process *p)
{
	cJSON_AddStringToObject(obj, "end", harness_end_name(p->end));
	if (p->end == HARNESS_END_EXITED)
		harness_json_add_integer(obj, "exit_code", p->exit_code);
	if (p->end == HARNESS_END_SIGNALED || p->end == HARNESS_END_KILLED) {
		const char *abbrev = sigabbrev_np(p->signal);

		harness_json_add_integer(obj, "signal", p->signal);
		cJSON_AddStringToObject(obj, "signal_name",
					abbrev ? abbrev : "?");
		cJSON_AddBoolToObject(obj, "core_dumped", p->core_dumped);
	}
}

/* Build one process's object. With a cache, each environment goes in
 * as raw text, which successive execs share. */
cJSON *tracer_process_object(const struct harness_process *p,
			     struct tracer_env_cache *cache)
{
	cJSON *obj = cJSON_CreateObject();
	cJSON *ns = cJSON_AddArrayToObject(obj, "ns_pids");
	cJSON *execs = cJSON_AddArrayToObject(obj, "execs");

	harness_json_add_integer(obj, "pid", p->pid);
	harness_json_add_integer(obj, "ns_pid", p->ns_pid);
	for (size_t i = 0; i < p->n_ns_pids; i++)
		cJSON_AddItemToArray(ns, harness_json_add_integer(
						 NULL, NULL, p->ns_pids[i]));
	harness_json_add_integer(obj, "start_us", p->start_us);
	if (p->end != HARNESS_END_RUNNING)
		harness_json_add_integer(obj, "end_us", p->end_us);
	add_end(obj, p);
	cJSON_AddItemToObject(obj, "rusage", rusage_json(&p->rusage));
	for (size_t i = 0; i < p->n_execs; i++) {
		const char *text = cache ? env_text(cache, &p->execs[i]) : NULL;

		if (cache && !text)
			goto fail;
		cJSON_AddItemToArray(execs,
				     exec_object(&p->execs[i], true, text));
	}
	if (!execs || !ns || !cJSON_GetObjectItem(obj, "rusage"))
		goto fail;
	return obj;
fail:
	cJSON_Delete(obj);
	return NULL;
}

cJSON *harness_process_json(const struct harness_process *p)
{
	return tracer_process_object(p, NULL);
}
