/*
 * load.c - read a recorded run back from its bundle as steps and a
 * process tree (replay.h). The event kinds are those of docs/record.md.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle/bundle.h"
#include "cli/cli.h"
#include "harness/error.h"
#include "harness/exchange_json.h"
#include "harness/json_bytes.h"
#include "inspect/output.h"
#include "inspect/view.h"
#include "replay/replay.h"

struct loader {
	struct replay_run *run;
	size_t cap_steps, cap_procs, cap_output;
	uint64_t *step_exchange; /* per step: the exchange's seq */
	bool has_final;
	struct bundle_id final_root;
};

/* The store's message names the bundle already. */
static int fail_bundle(const char *path)
{
	(void)path;
	replay_set_error("%s", bundle_error());
	if (bundle_error_hint())
		replay_set_hint("%s", bundle_error_hint());
	return -1;
}

static int oom(void)
{
	replay_set_error("cannot load the run: out of memory");
	return -1;
}

/* Load the event's object number i, NUL-terminated; the caller frees. */
static char *nth_object(struct replay_run *run, const cJSON *event, int i,
			size_t *len)
{
	const cJSON *refs = cJSON_GetObjectItem(event, "refs");
	const cJSON *ref = cJSON_GetArrayItem(refs, i);
	struct bundle_id id;
	void *data = NULL;
	size_t n = 0;

	if (!cJSON_IsString(ref) ||
	    bundle_id_from_hex(&id, ref->valuestring) < 0 ||
	    bundle_get(run->bundle, &id, &data, &n, NULL) < 0)
		return NULL;
	if (len)
		*len = n;
	return data;
}

static char *first_object(struct replay_run *run, const cJSON *event,
			  size_t *len)
{
	return nth_object(run, event, 0, len);
}

static cJSON *nth_json(struct replay_run *run, const cJSON *event, int i)
{
	size_t len = 0;
	char *text = nth_object(run, event, i, &len);
	cJSON *json = text ? cJSON_ParseWithLength(text, len) : NULL;

	free(text);
	return json;
}

static cJSON *first_json(struct replay_run *run, const cJSON *event)
{
	return nth_json(run, event, 0);
}

/* Return the integer member name of obj, or dflt when it is missing or
 * not a whole number from 0 to max: a bundle is untrusted, and casting
 * a double that does not fit is undefined behaviour. */
static long long integer(const cJSON *obj, const char *name,
			 long long max, long long dflt)
{
	long long value;

	return inspect_json_int(obj, name, 0, max, &value) == 0 ? value
								: dflt;
}

static const char *string(const cJSON *obj, const char *name)
{
	const cJSON *item = cJSON_GetObjectItem(obj, name);

	return cJSON_IsString(item) ? item->valuestring : NULL;
}

/* Open a new step at the end; steps start empty. */
static struct replay_step *add_step(struct loader *l)
{
	struct replay_run *run = l->run;

	if (run->n_steps == l->cap_steps) {
		size_t cap = l->cap_steps ? 2 * l->cap_steps : 16;
		void *s = realloc(run->steps, cap * sizeof(*run->steps));
		void *e = s ? realloc(l->step_exchange, cap * sizeof(uint64_t))
			    : NULL;

		if (s)
			run->steps = s;
		if (!e)
			return NULL;
		l->step_exchange = e;
		l->cap_steps = cap;
	}
	memset(&run->steps[run->n_steps], 0, sizeof(*run->steps));
	l->step_exchange[run->n_steps] = 0;
	return &run->steps[run->n_steps++];
}

static int on_workspace(struct loader *l, const cJSON *data)
{
	const char *at = string(data, "at"), *root = string(data, "root");
	struct replay_run *run = l->run;
	struct replay_step *step;
	struct bundle_id id;

	if (!at || !root || bundle_id_from_hex(&id, root) < 0)
		return 0;
	if (strcmp(at, "initial") == 0) {
		run->initial = id;
		run->has_initial = true;
		run->initial_snapshot = (uint64_t)integer(data, "snapshot", INT64_MAX, 0);
		return 0;
	}
	if (strcmp(at, "final") == 0) {
		l->final_root = id;
		l->has_final = true;
		return 0;
	}
	step = add_step(l);
	if (!step)
		return oom();
	step->root = id;
	step->has_root = true;
	l->step_exchange[run->n_steps - 1] =
		(uint64_t)integer(data, "exchange", INT64_MAX, 0);
	return 0;
}

/* Find the process numbered index. While the run loads, an index above
 * every one seen is new, and the search goes back from the newest, which
 * most events name. Once the procs are sorted, it is a binary search,
 * because a run of many processes looks each one's parent up. */
static struct replay_proc *find_index(struct replay_run *run, int64_t index)
{
	size_t lo = 0, hi = run->n_procs;

	if (!run->procs_sorted) {
		/* A new process has the highest index yet: no search. */
		if (run->n_procs == 0 || index > run->max_index)
			return NULL;
		for (size_t i = run->n_procs; i > 0; i--) {
			if (run->procs[i - 1].index == index)
				return &run->procs[i - 1];
		}
		return NULL;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (run->procs[mid].index == index)
			return &run->procs[mid];
		if (run->procs[mid].index < index)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The process of an event, created at the first event that names it:
 * "process-start" where the recording has it, else its first exec or
 * its end. The step is the one open at that moment. */
static struct replay_proc *proc_of(struct loader *l, const cJSON *data)
{
	struct replay_run *run = l->run;
	int64_t index = integer(data, "index", INT64_MAX, -1);
	struct replay_proc *p = index < 0 ? NULL : find_index(run, index);

	if (p || index < 0)
		return p;
	if (run->n_procs == l->cap_procs) {
		size_t cap = l->cap_procs ? 2 * l->cap_procs : 64;
		void *grown = realloc(run->procs, cap * sizeof(*run->procs));

		if (!grown)
			return NULL;
		run->procs = grown;
		l->cap_procs = cap;
	}
	p = &run->procs[run->n_procs++];
	memset(p, 0, sizeof(*p));
	p->index = index;
	if (run->n_procs == 1 || index > run->max_index)
		run->max_index = index;
	p->parent = integer(data, "parent", INT64_MAX, -1);
	p->step = run->n_steps + 1;
	p->exit_code = -1;
	return p;
}

static int on_start(struct loader *l, const cJSON *data)
{
	if (proc_of(l, data) || integer(data, "index", INT64_MAX, -1) < 0)
		return 0;
	return oom();
}

static int by_index(const void *x, const void *y)
{
	int64_t a = ((const struct replay_proc *)x)->index;
	int64_t b = ((const struct replay_proc *)y)->index;

	return a < b ? -1 : a > b;
}

/* Positions in the tree, once every process is known: the tracer
 * numbers processes in the order they started, so siblings are counted
 * in index order, and a parent always comes before its children. */
static int name_positions(struct replay_run *run)
{
	char buf[4096];

	/* A run killed before its first process event has no array. */
	if (run->n_procs > 1)
		qsort(run->procs, run->n_procs, sizeof(*run->procs),
		      by_index);
	run->procs_sorted = true;
	for (size_t i = 0; i < run->n_procs; i++) {
		struct replay_proc *p = &run->procs[i];
		struct replay_proc *parent =
			p->parent < 0 ? NULL : find_index(run, p->parent);

		if (parent && parent->position)
			snprintf(buf, sizeof(buf), "%s.%zu", parent->position,
				 parent->n_children++);
		else if (p->parent < 0 && i == 0)
			snprintf(buf, sizeof(buf), "0");
		else
			snprintf(buf, sizeof(buf), "?%lld",
				 (long long)p->index);
		p->position = strdup(buf);
		if (!p->command)
			p->command = strdup("(a fork that ran no program)");
		if (!p->position || !p->command)
			return oom();
	}
	return 0;
}

static char *join_argv(const cJSON *argv)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	const cJSON *a;
	bool failed = !f;

	cJSON_ArrayForEach(a, argv)
	{
		char *arg = failed ? NULL : out_arg_text(a);

		failed = failed || !arg ||
			 fprintf(f, "%s%s", a == argv->child ? "" : " ",
				 arg) < 0;
		free(arg);
	}
	if (f && fclose(f) != 0)
		failed = true;
	if (!failed)
		return out;
	free(out);
	return NULL;
}

/* Keep the id of the exec's environment object, its second, so that
 * the comparison loads environments only where the ids differ. */
static void set_env_ref(struct replay_proc *p, const cJSON *event)
{
	const char *ref = cJSON_GetStringValue(
		cJSON_GetArrayItem(cJSON_GetObjectItem(event, "refs"), 1));

	snprintf(p->env_ref, sizeof(p->env_ref), "%s",
		 ref && strlen(ref) == 64 ? ref : "");
}

/*
 * A failed exec does not replace the program that a process runs. The
 * event's data has the argv unless it was long. The tracer's object is
 * loaded only then, or for an exec that ran another file than the one
 * it was given (a script, or a symbolic link), so a long run loads
 * quickly.
 */
static int on_exec(struct loader *l, const cJSON *event, const cJSON *data)
{
	struct replay_proc *p = proc_of(l, data);
	const cJSON *argv = cJSON_GetObjectItem(data, "argv");
	const char *path = string(data, "path");
	const char *attempted = string(data, "attempted");
	const cJSON *script;
	cJSON *exec = NULL;

	if (!p || (p->exec_seq && string(data, "error")))
		return 0;
	if (!cJSON_IsArray(argv) ||
	    (path && attempted && strcmp(path, attempted) != 0)) {
		exec = first_json(l->run, event);
		if (!exec)
			return fail_bundle(l->run->path);
	}
	if (!cJSON_IsArray(argv))
		argv = cJSON_GetObjectItem(exec, "argv");
	script = exec ? cJSON_GetObjectItem(exec, "script") : NULL;
	free(p->script_sha256);
	free(p->script_path);
	p->script_sha256 = NULL;
	p->script_path = NULL;
	if (string(script, "sha256") && string(script, "path")) {
		p->script_sha256 = strdup(string(script, "sha256"));
		p->script_path = strdup(string(script, "path"));
		if (!p->script_sha256 || !p->script_path) {
			cJSON_Delete(exec);
			return oom();
		}
	}
	cJSON_Delete(p->argv);
	free(p->command);
	free(p->exe_path);
	free(p->cwd);
	free(p->exec_error);
	p->argv = cJSON_Duplicate(argv, 1);
	p->command = join_argv(p->argv);
	p->exe_path = path ? strdup(path) : NULL;
	p->cwd = string(data, "cwd") ? strdup(string(data, "cwd")) : NULL;
	p->exec_error = string(data, "error") ? strdup(string(data, "error"))
					      : NULL;
	if (string(data, "cwd") && !p->cwd) {
		cJSON_Delete(exec);
		return oom();
	}
	p->exec_seq = (uint64_t)integer(event, "seq", INT64_MAX, 0);
	set_env_ref(p, event);
	cJSON_Delete(exec);
	return p->command ? 0 : oom();
}

static int on_end(struct loader *l, const cJSON *data)
{
	struct replay_proc *p = proc_of(l, data);
	const char *end = string(data, "end"), *sig = string(data, "signal");
	char raw[64], buf[64];

	if (!p || !end)
		return 0;
	snprintf(raw, sizeof(raw), "%s%s%s", end, sig ? " by SIG" : "",
		 sig ? sig : "");
	/* Every report prints it as it is (replay_proc_status()). */
	cli_sanitize(buf, sizeof(buf), raw);
	free(p->end);
	p->end = strdup(buf);
	p->exit_code = inspect_json_exit_code(data);
	p->end_step = l->run->n_steps + 1;
	return p->end ? 0 : oom();
}

static int on_run_end(struct replay_run *run, const cJSON *data)
{
	const char *stopped = string(data, "stopped_by");

	run->ended = true;
	run->exit_code = inspect_json_exit_code(data);
	run->interrupts = (int)integer(data, "interrupts", INT_MAX, 0);
	run->timed_out = cJSON_IsTrue(cJSON_GetObjectItem(data, "timed_out"));
	free(run->stopped_by);
	run->stopped_by = stopped ? strdup(stopped) : NULL;
	return !stopped || run->stopped_by ? 0 : oom();
}

static int on_exchange(struct loader *l, const cJSON *event, const cJSON *data)
{
	struct replay_run *run = l->run;
	uint64_t seq = (uint64_t)integer(data, "seq", INT64_MAX, 0);
	char *text;

	for (size_t i = 0; i < run->n_steps; i++) {
		struct replay_step *s = &run->steps[i];

		if (l->step_exchange[i] != seq || s->has_exchange)
			continue;
		text = first_object(run, event, NULL);
		if (!text)
			return fail_bundle(run->path);
		if (harness_exchange_take_json(text, &s->exchange) < 0) {
			replay_set_error("cannot read exchange %llu: '%s': %s",
					 (unsigned long long)seq, run->path,
					 harness_error());
			return -1;
		}
		s->has_exchange = true;
		return 0;
	}
	return 0;
}

static int keep_object(struct replay_run *run, const cJSON *event, cJSON **slot)
{
	cJSON *json = first_json(run, event);

	if (!json)
		return fail_bundle(run->path);
	cJSON_Delete(*slot);
	*slot = json;
	return 0;
}

static int on_home(struct replay_run *run, const cJSON *data)
{
	const char *root = string(data, "root");

	if (root && bundle_id_from_hex(&run->home, root) == 0)
		run->has_home = true;
	return 0;
}

/* Keep where the piece's bytes are; printed.c reads them when it
 * compares, one piece at a time. */
static int on_output(struct loader *l, const cJSON *event,
		     const cJSON *data)
{
	const char *stream = string(data, "stream");
	const cJSON *ref = cJSON_GetArrayItem(
		cJSON_GetObjectItem(event, "refs"), 0);
	struct replay_run *run = l->run;
	struct replay_output_piece piece = {0};

	if (!stream || !cJSON_IsString(ref) ||
	    bundle_id_from_hex(&piece.blob, ref->valuestring) < 0)
		return 0;
	if (strcmp(stream, "stdout") == 0)
		piece.stream = 0;
	else if (strcmp(stream, "stderr") == 0)
		piece.stream = 1;
	else
		return 0;
	if (run->n_output == l->cap_output) {
		size_t cap = l->cap_output ? l->cap_output * 2 : 16;
		void *grown = realloc(run->output, cap * sizeof(piece));

		if (!grown)
			return oom();
		run->output = grown;
		l->cap_output = cap;
	}
	run->output[run->n_output++] = piece;
	return 0;
}

static int on_event(struct loader *l, const cJSON *event)
{
	const char *kind = string(event, "kind");
	const cJSON *data = cJSON_GetObjectItem(event, "data");
	struct replay_run *run = l->run;

	if (!kind)
		return 0;
	if (strcmp(kind, "record") == 0 && !run->record) {
		run->record = cJSON_Duplicate(data, 1);
		return run->record ? 0 : oom();
	}
	if (strcmp(kind, "fingerprint") == 0)
		return keep_object(run, event, &run->fingerprint);
	if (strcmp(kind, "sandbox") == 0)
		return keep_object(run, event, &run->description);
	if (strcmp(kind, "workspace") == 0)
		return on_workspace(l, data);
	if (strcmp(kind, "home") == 0)
		return on_home(run, data);
	if (strcmp(kind, "process-start") == 0)
		return on_start(l, data);
	if (strcmp(kind, "exec") == 0)
		return on_exec(l, event, data);
	if (strcmp(kind, "process-end") == 0)
		return on_end(l, data);
	if (strcmp(kind, "exchange") == 0)
		return on_exchange(l, event, data);
	if (strcmp(kind, "end") == 0)
		return on_run_end(run, data);
	if (strcmp(kind, "output") == 0)
		return on_output(l, event, data);
	return 0;
}

static int each_event(struct loader *l)
{
	struct replay_run *run = l->run;
	uint64_t n = bundle_event_count(run->bundle);

	for (uint64_t seq = 1; seq <= n; seq++) {
		cJSON *event = bundle_get_event(run->bundle, seq);
		int rc;

		if (!event || harness_json_decode_members(
				      cJSON_GetObjectItem(event, "data"),
				      harness_event_text_members,
				      HARNESS_EVENT_TEXT_MEMBERS) < 0) {
			cJSON_Delete(event);
			return fail_bundle(run->path);
		}
		rc = on_event(l, event);
		cJSON_Delete(event);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* Read the log in one read transaction. A replay reads its own bundle
 * while the recorder has it open in WAL mode, where each read outside a
 * transaction locks and unlocks the file again. */
static int load_events(struct loader *l)
{
	struct replay_run *run = l->run;
	int rc;

	if (bundle_read_begin(run->bundle) < 0)
		return fail_bundle(run->path);
	rc = each_event(l);
	bundle_read_end(run->bundle);
	if (rc < 0)
		return -1;
	if (!run->record) {
		replay_set_error("cannot read the run: '%s': the bundle has "
				 "no record event",
				 run->path);
		replay_set_hint("give a bundle written by runbundle record");
		return -1;
	}
	return 0;
}

/* The final step: after the last request, with the final snapshot. */
static int close_steps(struct loader *l)
{
	struct replay_step *step = add_step(l);

	if (!step)
		return oom();
	l->step_exchange[l->run->n_steps - 1] = UINT64_MAX;
	step->root = l->final_root;
	step->has_root = l->has_final;
	return 0;
}

/* The executables' hashes come from the last fingerprint, which lists
 * every one that ran, by path. */
static int add_hashes(struct replay_run *run)
{
	const cJSON *list =
		cJSON_GetObjectItem(run->fingerprint, "executables");

	for (size_t i = 0; list && i < run->n_procs; i++) {
		struct replay_proc *p = &run->procs[i];
		const cJSON *item;

		cJSON_ArrayForEach(item, list)
		{
			const char *path = string(item, "path");
			const char *sha = string(item, "sha256");

			if (!p->exe_path || !path || !sha ||
			    strcmp(path, p->exe_path) != 0)
				continue;
			p->exe_sha256 = strdup(sha);
			if (!p->exe_sha256)
				return oom();
			break;
		}
	}
	return 0;
}

struct replay_run *replay_run_load(const char *path)
{
	struct replay_run *run = calloc(1, sizeof(*run));
	struct loader l = {.run = run};

	if (!run || !(run->path = strdup(path))) {
		free(run);
		oom();
		return NULL;
	}
	run->exit_code = -1;
	run->bundle = bundle_open(path, BUNDLE_READ);
	if (!run->bundle) {
		fail_bundle(path);
		replay_run_free(run);
		return NULL;
	}
	run->finalized = bundle_is_finalized(run->bundle) != 0;
	if (load_events(&l) < 0 || close_steps(&l) < 0 ||
	    name_positions(run) < 0 || add_hashes(run) < 0) {
		free(l.step_exchange);
		replay_run_free(run);
		return NULL;
	}
	free(l.step_exchange);
	return run;
}

int replay_run_use_fingerprint(struct replay_run *run,
			       const cJSON *fingerprint)
{
	cJSON *copy = cJSON_Duplicate(fingerprint, 1);

	if (!copy)
		return oom();
	cJSON_Delete(run->fingerprint);
	run->fingerprint = copy;
	for (size_t i = 0; i < run->n_procs; i++) {
		free(run->procs[i].exe_sha256);
		run->procs[i].exe_sha256 = NULL;
	}
	return add_hashes(run);
}

int replay_run_agent_env(struct replay_run *run, const cJSON **env)
{
	const struct replay_proc *agent = replay_run_find(run, "0");
	const cJSON *list;

	*env = NULL;
	if (!agent || !agent->exec_seq || agent->exec_error)
		return 0;
	if (!run->agent_exec) {
		run->agent_exec = replay_run_exec(run, agent);
		if (!run->agent_exec)
			return -1;
	}
	list = cJSON_GetObjectItem(run->agent_exec, "env");
	*env = cJSON_IsArray(list) ? list : NULL;
	return 0;
}

cJSON *replay_run_exec(const struct replay_run *run,
		       const struct replay_proc *p)
{
	cJSON *event, *exec;

	if (!p->exec_seq)
		return NULL;
	event = bundle_get_event(run->bundle, p->exec_seq);
	exec = event ? first_json((struct replay_run *)run, event) : NULL;
	if (!exec)
		fail_bundle(run->path);
	/* The environment is the event's second object, shared by the
	 * execs that had the same one (docs/record.md). */
	if (exec && !cJSON_GetObjectItem(exec, "env")) {
		cJSON *env = nth_json((struct replay_run *)run, event, 1);

		if (cJSON_IsArray(env))
			cJSON_AddItemToObject(exec, "env", env);
		else
			cJSON_Delete(env);
	}
	cJSON_Delete(event);
	return exec;
}

cJSON *replay_run_env(const struct replay_run *run,
		      const struct replay_proc *p)
{
	cJSON *event, *env;

	if (!p->exec_seq || !p->env_ref[0])
		return NULL;
	event = bundle_get_event(run->bundle, p->exec_seq);
	env = event ? nth_json((struct replay_run *)run, event, 1) : NULL;
	cJSON_Delete(event);
	if (!env) {
		fail_bundle(run->path);
		return NULL;
	}
	if (!cJSON_IsArray(env)) {
		cJSON_Delete(env);
		replay_set_error("cannot load the run: '%s': the environment "
				 "of event %llu is not a list", run->path,
				 (unsigned long long)p->exec_seq);
		return NULL;
	}
	return env;
}

char *replay_run_gateway(const struct replay_run *run)
{
	const struct replay_proc *agent = replay_run_find(run, "0");
	cJSON *exec = agent ? replay_run_exec(run, agent) : NULL;
	const cJSON *pair;
	char *address = NULL;

	cJSON_ArrayForEach(pair, cJSON_GetObjectItem(exec, "env"))
	{
		const char *name =
			cJSON_GetStringValue(cJSON_GetArrayItem(pair, 0));
		const char *url =
			cJSON_GetStringValue(cJSON_GetArrayItem(pair, 1));

		if (name && url && strcmp(name, "RUNBUNDLE_GATEWAY_URL") == 0 &&
		    strncmp(url, "http://", 7) == 0) {
			address = strdup(url + 7);
			break;
		}
	}
	cJSON_Delete(exec);
	return address;
}

const struct replay_proc *replay_run_by_index(const struct replay_run *run,
					      int64_t index)
{
	return find_index((struct replay_run *)run, index);
}

const struct replay_proc *replay_run_find(const struct replay_run *run,
					  const char *position)
{
	for (size_t i = 0; i < run->n_procs; i++) {
		if (strcmp(run->procs[i].position, position) == 0)
			return &run->procs[i];
	}
	return NULL;
}

struct harness_exchange *replay_run_exchanges(struct replay_run *run, size_t *n)
{
	struct harness_exchange *list;
	size_t count = 0;

	*n = 0;
	list = calloc(run->n_steps + 1, sizeof(*list));
	if (!list) {
		oom();
		return NULL;
	}
	/* Shallow copies: the run keeps owning what they point to. */
	for (size_t i = 0; i < run->n_steps; i++) {
		if (run->steps[i].has_exchange)
			list[count++] = run->steps[i].exchange;
	}
	*n = count;
	return list;
}

void replay_run_free(struct replay_run *run)
{
	if (!run)
		return;
	for (size_t i = 0; i < run->n_steps; i++) {
		if (run->steps[i].has_exchange)
			harness_exchange_release(&run->steps[i].exchange);
	}
	for (size_t i = 0; i < run->n_procs; i++) {
		struct replay_proc *p = &run->procs[i];

		free(p->position);
		free(p->command);
		free(p->exe_sha256);
		free(p->exe_path);
		free(p->script_sha256);
		free(p->script_path);
		free(p->cwd);
		free(p->exec_error);
		free(p->end);
		cJSON_Delete(p->argv);
	}
	free(run->steps);
	free(run->procs);
	free(run->output);
	cJSON_Delete(run->record);
	cJSON_Delete(run->fingerprint);
	cJSON_Delete(run->description);
	cJSON_Delete(run->agent_exec);
	free(run->stopped_by);
	bundle_close(run->bundle);
	free(run->path);
	free(run);
}
