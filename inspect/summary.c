/*
 * summary.c - build the JSON summary of a run from its events.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bundle/tree.h"
#include "inspect/answer.h"
#include "inspect/describe.h"
#include "inspect/error.h"
#include "inspect/execs.h"
#include "inspect/output.h"
#include "inspect/patch.h"
#include "inspect/summary.h"

#define TOP_COMMANDS 5

/* The maximum number of messages in "errors". The parts that they
 * concern count the rest. */
#define ERRORS_LISTED 20

static cJSON *dup_or_null(const cJSON *item)
{
	return item ? cJSON_Duplicate(item, 1) : cJSON_CreateNull();
}

static void add_str_or_null(cJSON *obj, const char *name, const char *s)
{
	if (s)
		cJSON_AddStringToObject(obj, name, s);
	else
		cJSON_AddNullToObject(obj, name);
}

static double time_us(const char *rfc3339)
{
	struct tm tm = { 0 };
	double frac = 0;
	const char *rest;

	if (!rfc3339 || !(rest = strptime(rfc3339, "%Y-%m-%dT%H:%M:%S", &tm)))
		return -1;
	if (*rest == '.')
		frac = strtod(rest, NULL);
	return ((double)timegm(&tm) + frac) * 1e6;
}

/* Add the exit status of the end event's data, or null when it has none
 * that wait(2) could have reported. */
static void add_exit_code(cJSON *run, const cJSON *end_data)
{
	int code = inspect_json_exit_code(end_data);

	if (code >= 0)
		out_add_num(run, "exit_code", code);
	else
		cJSON_AddNullToObject(run, "exit_code");
}

static void add_run(const struct inspect_view *v, cJSON *s)
{
	const struct inspect_event *rec = inspect_view_first(v, "record");
	const struct inspect_event *end = inspect_view_last(v, "end");
	const cJSON *rd = rec ? rec->data : NULL, *ed = end ? end->data : NULL;
	cJSON *run = cJSON_AddObjectToObject(s, "run");
	const cJSON *argv = cJSON_GetObjectItem(rd, "argv");
	char *command = argv ? out_argv(argv) : NULL;
	const char *first = v->n_events ? v->events[0].time : NULL;
	const char *last = v->n_events ? v->events[v->n_events - 1].time : NULL;

	cJSON_AddItemToObject(
		run, "labels",
		cJSON_IsObject(cJSON_GetObjectItem(rd, "labels"))
			? cJSON_Duplicate(cJSON_GetObjectItem(rd, "labels"), 1)
			: cJSON_CreateObject());
	cJSON_AddItemToObject(run, "argv", dup_or_null(argv));
	add_str_or_null(run, "command", command);
	free(command);
	add_str_or_null(run, "workspace", inspect_json_str(rd, "workspace"));
	add_str_or_null(run, "sandbox", inspect_json_str(rd, "sandbox"));
	add_str_or_null(run, "started", first);
	add_str_or_null(run, "ended", end ? end->time : NULL);
	if (ed && inspect_json_num(ed, "duration_us", -1) >= 0)
		out_add_num(run, "duration_us",
			    inspect_json_num(ed, "duration_us", 0));
	else if (first && last && time_us(first) >= 0 && time_us(last) >= 0)
		out_add_num(run, "duration_us", time_us(last) - time_us(first));
	else
		cJSON_AddNullToObject(run, "duration_us");
	/* Stopped before the agent started: the code is the recorder's. */
	if (cJSON_IsFalse(cJSON_GetObjectItem(ed, "started"))) {
		cJSON_AddNullToObject(run, "exit_code");
		add_str_or_null(run, "stopped_before_start",
				inspect_json_str(ed, "stopped_by"));
	} else {
		add_exit_code(run, ed);
		cJSON_AddNullToObject(run, "stopped_before_start");
	}
	add_str_or_null(run, "signal", inspect_json_str(ed, "signal"));
	out_add_num(run, "interrupts", inspect_json_num(ed, "interrupts", 0));
	cJSON_AddBoolToObject(run, "timed_out",
			      inspect_json_bool(ed, "timed_out", 0));
}

static cJSON *endpoint_row(cJSON *rows, const char *endpoint,
			   const char *model)
{
	cJSON *row;

	cJSON_ArrayForEach(row, rows) {
		if (strcmp(inspect_json_str(row, "endpoint"), endpoint) == 0 &&
		    strcmp(inspect_json_str(row, "model"), model) == 0)
			return row;
	}
	row = cJSON_CreateObject();
	cJSON_AddStringToObject(row, "endpoint", endpoint);
	cJSON_AddStringToObject(row, "model", model);
	out_add_num(row, "calls", 0);
	out_add_num(row, "input_tokens", 0);
	out_add_num(row, "output_tokens", 0);
	out_add_num(row, "latency_us", 0);
	cJSON_AddItemToArray(rows, row);
	return row;
}

static void bump(cJSON *obj, const char *name, double by)
{
	cJSON *item = cJSON_GetObjectItem(obj, name);

	if (item)
		cJSON_SetNumberValue(item, item->valuedouble + by);
	else
		out_add_num(obj, name, by);
}

/* Add the message of inspect_error() to the summary's "errors", after
 * the name of the part that it concerns. */
static void add_error(cJSON *s, const char *part)
{
	cJSON *errors = cJSON_GetObjectItem(s, "errors");
	char *text;

	if (cJSON_GetArraySize(errors) >= ERRORS_LISTED ||
	    asprintf(&text, "%s: %s", part, inspect_error()) < 0)
		return;
	cJSON_AddItemToArray(errors, cJSON_CreateString(text));
	free(text);
}

/* Count the exchange of ev in model. One that cannot be read is counted
 * as unreadable only, with its message in the summary's errors, so that
 * a damaged object leaves the rest of the summary whole. */
static void add_exchange(const struct inspect_view *v,
			 const struct inspect_event *ev, cJSON *model,
			 cJSON *s)
{
	struct harness_exchange ex;
	struct inspect_answer a;
	char endpoint[512], path[400], name[256], part[48];
	const char *text;
	cJSON *row;
	int rc = inspect_view_exchange(v, ev, &ex);

	if (rc == 0 && inspect_answer_parse(&ex, &a) < 0) {
		harness_exchange_release(&ex);
		rc = -1;
	}
	if (rc < 0) {
		snprintf(part, sizeof(part), "event %llu",
			 (unsigned long long)ev->seq);
		add_error(s, part);
		bump(model, "unreadable", 1);
		return;
	}
	/* The path and the model name are bytes of the exchange that may
	 * not be UTF-8, which a JSON string cannot carry. */
	text = ex.request.path ? ex.request.path : "?";
	bundle_name_escape(path, sizeof(path), (const unsigned char *)text,
			   strlen(text));
	text = a.model ? a.model : "";
	bundle_name_escape(name, sizeof(name), (const unsigned char *)text,
			   strlen(text));
	snprintf(endpoint, sizeof(endpoint), "%s %s",
		 ex.upstream ? ex.upstream : "?", path);
	row = endpoint_row(cJSON_GetObjectItem(model, "by_endpoint"), endpoint,
			   name);
	bump(row, "calls", 1);
	bump(row, "input_tokens", a.input_tokens > 0 ? a.input_tokens : 0);
	bump(row, "output_tokens", a.output_tokens > 0 ? a.output_tokens : 0);
	bump(row, "latency_us", (double)ex.duration_us);
	bump(model, "calls", 1);
	bump(model, "input_tokens", a.input_tokens > 0 ? a.input_tokens : 0);
	bump(model, "output_tokens", a.output_tokens > 0 ? a.output_tokens : 0);
	bump(model, "latency_us", (double)ex.duration_us);
	bump(cJSON_GetObjectItem(model, "outcomes"),
	     harness_outcome_name(ex.outcome), 1);
	inspect_answer_release(&a);
	harness_exchange_release(&ex);
}

static void add_model(const struct inspect_view *v, cJSON *s)
{
	cJSON *model = cJSON_AddObjectToObject(s, "model");

	out_add_num(model, "calls", 0);
	out_add_num(model, "input_tokens", 0);
	out_add_num(model, "output_tokens", 0);
	out_add_num(model, "latency_us", 0);
	out_add_num(model, "unreadable", 0);
	cJSON_AddObjectToObject(model, "outcomes");
	cJSON_AddArrayToObject(model, "by_endpoint");
	for (size_t i = 0; i < v->n_events; i++) {
		if (strcmp(v->events[i].kind, "exchange") == 0)
			add_exchange(v, &v->events[i], model, s);
	}
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static int by_count(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a,
		    *y = *(const cJSON *const *)b;

	if (x->valuedouble != y->valuedouble)
		return x->valuedouble < y->valuedouble ? 1 : -1;
	return strcmp(x->string, y->string);
}

static void add_top(cJSON *p, cJSON *counts)
{
	int n = cJSON_GetArraySize(counts), i = 0;
	const cJSON **sorted = calloc((size_t)n + 1, sizeof(*sorted));
	cJSON *top = cJSON_AddArrayToObject(p, "top");
	const cJSON *c;

	if (!sorted)
		return;
	cJSON_ArrayForEach(c, counts)
		sorted[i++] = c;
	qsort(sorted, (size_t)n, sizeof(*sorted), by_count);
	for (i = 0; i < n && i < TOP_COMMANDS; i++) {
		cJSON *row = cJSON_CreateObject();

		cJSON_AddStringToObject(row, "command", sorted[i]->string);
		out_add_num(row, "count", sorted[i]->valuedouble);
		cJSON_AddItemToArray(top, row);
	}
	free(sorted);
}

static int add_processes(const struct inspect_view *v, cJSON *s)
{
	cJSON *p = cJSON_AddObjectToObject(s, "processes");
	cJSON *counts = cJSON_CreateObject();
	unsigned char *lookups = inspect_exec_lookups(v);
	const struct inspect_event *tree;
	double started = 0, execs = 0, failed = 0, lookup = 0;

	if (!lookups) {
		cJSON_Delete(counts);
		return -1;
	}

	for (size_t i = 0; i < v->n_events; i++) {
		const struct inspect_event *ev = &v->events[i];
		const char *path = inspect_json_str(ev->data, "path");
		const cJSON *argv0 = cJSON_GetArrayItem(
			cJSON_GetObjectItem(ev->data, "argv"), 0);
		const char *name = cJSON_IsString(argv0) ? argv0->valuestring :
							   path;

		/* Processes are numbered from 0 in order of start, and
		 * every one has an exec or an end event. */
		if (inspect_json_num(ev->data, "index", -1) >= started &&
		    (strcmp(ev->kind, "exec") == 0 ||
		     strcmp(ev->kind, "process-start") == 0 ||
		     strcmp(ev->kind, "process-end") == 0))
			started = inspect_json_num(ev->data, "index", 0) + 1;
		if (strcmp(ev->kind, "exec") != 0)
			continue;
		if (lookups[i]) {
			lookup++;
			continue;
		}
		if (inspect_json_str(ev->data, "error")) {
			failed++;
			continue;
		}
		execs++;
		if (name && *base_name(name))
			bump(counts, base_name(name), 1);
	}
	tree = inspect_view_last(v, "process-tree");
	out_add_num(p, "count", tree ? inspect_json_num(tree->data, "processes",
							started) :
				       started);
	out_add_num(p, "execs", execs);
	out_add_num(p, "failed_execs", failed);
	out_add_num(p, "path_lookups", lookup);
	add_top(p, counts);
	cJSON_Delete(counts);
	free(lookups);
	return 0;
}

/* Set every count of files to null and add the message, for a diff that
 * failed part of the way, because partial counts would pass for whole
 * ones. */
static void add_files_error(cJSON *f, cJSON *s)
{
	static const char *const counts[] = {
		"changed", "added", "modified", "deleted", "mode", "binary",
		"not_files", "lines_added", "lines_removed",
	};

	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		cJSON_AddNullToObject(f, counts[i]);
	cJSON_AddStringToObject(f, "error", inspect_error());
	add_error(s, "files");
}

/* NOTE: the lines are counted by running the whole diff, one diff(1)
 * per modified file, which makes this the slowest part of the summary
 * on runs that modify thousands of files. */
static void add_files(const struct inspect_view *v, cJSON *s)
{
	struct inspect_patch_options opts = { 0 };
	struct inspect_patch_stats st = { 0 };
	cJSON *f = cJSON_AddObjectToObject(s, "files");

	if (v->n_steps >= 2 &&
	    inspect_patch(v->bundle, &v->steps[0].root,
			  &v->steps[v->n_steps - 1].root, &opts, &st) < 0) {
		add_files_error(f, s);
		return;
	}
	out_add_num(f, "changed", st.added + st.modified + st.deleted +
					  st.mode);
	out_add_num(f, "added", st.added);
	out_add_num(f, "modified", st.modified);
	out_add_num(f, "deleted", st.deleted);
	out_add_num(f, "mode", st.mode);
	out_add_num(f, "binary", st.binary);
	out_add_num(f, "not_files", st.skipped);
	out_add_num(f, "lines_added", st.lines_added);
	out_add_num(f, "lines_removed", st.lines_removed);
	cJSON_AddNullToObject(f, "error");
}

/* The steps whose snapshot has unreadable or changing entries, which
 * gate's incomplete rule fails on. */
static void add_incomplete_steps(const struct inspect_view *v, cJSON *s)
{
	cJSON *list = cJSON_AddArrayToObject(
		cJSON_GetObjectItem(s, "files"), "incomplete_steps");

	for (size_t i = 0; i < v->n_steps; i++) {
		if (!v->steps[i].complete)
			cJSON_AddItemToArray(list,
					     cJSON_CreateNumber((double)i));
	}
}

static void add_violations(const struct inspect_view *v, cJSON *s)
{
	cJSON *list = cJSON_AddArrayToObject(s, "violations");

	for (size_t i = 0; i < v->n_events; i++) {
		const struct inspect_event *ev = &v->events[i];
		char *what;
		cJSON *row;

		if (strcmp(ev->kind, "violation") != 0)
			continue;
		what = inspect_violation_text(ev->data);
		row = cJSON_CreateObject();
		out_add_num(row, "event", ev->seq);
		add_str_or_null(row, "source",
				inspect_json_str(ev->data, "source"));
		add_str_or_null(row, "what", what);
		cJSON_AddItemToArray(list, row);
		free(what);
	}
}

/* The policy's wall-clock limit in seconds, as the sandbox description
 * records it, or null (no description, or no limit). */
static void add_timeout(cJSON *out, const cJSON *desc)
{
	const cJSON *limit = cJSON_GetObjectItem(
		cJSON_GetObjectItem(desc, "limits"), "timeout_seconds");
	double value = inspect_json_num(limit, "value", 0);

	if (value > 0)
		out_add_num(out, "timeout_seconds", value);
	else
		cJSON_AddNullToObject(out, "timeout_seconds");
}

static void add_sandbox(const struct inspect_view *v, cJSON *s)
{
	const struct inspect_event *ev = inspect_view_first(v, "sandbox");
	cJSON *desc = NULL, *out = cJSON_AddObjectToObject(s, "sandbox");
	const cJSON *ll, *sc;

	/* Without the error, a damaged description would read as a run
	 * without a sandbox. */
	if (ev && inspect_view_ref_json(v, ev, 0, &desc) < 0) {
		desc = NULL;
		cJSON_AddStringToObject(out, "error", inspect_error());
		add_error(s, "sandbox");
	} else {
		cJSON_AddNullToObject(out, "error");
	}
	ll = cJSON_GetObjectItem(desc, "landlock");
	sc = cJSON_GetObjectItem(desc, "seccomp");
	add_str_or_null(out, "mode", inspect_json_str(desc, "sandbox"));
	cJSON_AddItemToObject(out, "namespaces",
			      dup_or_null(cJSON_GetObjectItem(desc,
							      "namespaces")));
	cJSON_AddItemToObject(out, "landlock_abi",
			      dup_or_null(cJSON_GetObjectItem(ll, "abi")));
	out_add_num(out, "seccomp_rules",
		    cJSON_GetArraySize(cJSON_GetObjectItem(sc, "rules")));
	add_timeout(out, desc);
	cJSON_Delete(desc);
}

static void add_fingerprint(const struct inspect_view *v, cJSON *s)
{
	const struct inspect_event *ev = inspect_view_first(v, "fingerprint");
	cJSON *fp = NULL, *out = cJSON_AddObjectToObject(s, "fingerprint");
	const cJSON *kernel, *os, *libc, *cpu;

	if (ev && inspect_view_ref_json(v, ev, 0, &fp) < 0) {
		fp = NULL;
		cJSON_AddStringToObject(out, "error", inspect_error());
		add_error(s, "fingerprint");
	} else {
		cJSON_AddNullToObject(out, "error");
	}
	kernel = cJSON_GetObjectItem(fp, "kernel");
	os = cJSON_GetObjectItem(fp, "os");
	libc = cJSON_GetObjectItem(fp, "libc");
	cpu = cJSON_GetObjectItem(fp, "cpu");
	add_str_or_null(out, "kernel", inspect_json_str(kernel, "release"));
	add_str_or_null(out, "arch", inspect_json_str(kernel, "machine"));
	add_str_or_null(out, "os", inspect_json_str(os, "PRETTY_NAME"));
	add_str_or_null(out, "libc", inspect_json_str(libc, "version"));
	add_str_or_null(out, "cpu", inspect_json_str(cpu, "model"));
	out_add_num(out, "cpus", inspect_json_num(cpu, "online", 0));
	add_str_or_null(out, "hostname", inspect_json_str(fp, "hostname"));
	add_str_or_null(out, "runbundle",
			inspect_json_str(fp, "runbundle_version"));
	cJSON_Delete(fp);
}

static void add_head(const struct inspect_view *v, cJSON *s, const char *path)
{
	char hex[BUNDLE_ID_HEX_LEN + 1];

	cJSON_AddStringToObject(s, "bundle", path);
	cJSON_AddStringToObject(s, "state",
				v->finalized ? "finalized" : "incomplete");
	if (v->has_root) {
		bundle_id_to_hex(&v->root, hex);
		cJSON_AddStringToObject(s, "root", hex);
	} else {
		cJSON_AddNullToObject(s, "root");
	}
	out_add_num(s, "events", v->n_events);
	out_add_num(s, "steps", v->n_steps);
}

cJSON *inspect_summary(const struct inspect_view *v, const char *path)
{
	cJSON *s = cJSON_CreateObject();

	if (!s) {
		inspect_set_error("cannot summarize: out of memory");
		return NULL;
	}
	add_head(v, s, path);
	cJSON_AddArrayToObject(s, "errors");
	add_run(v, s);
	add_model(v, s);
	add_files(v, s);
	add_incomplete_steps(v, s);
	if (add_processes(v, s) < 0) {
		cJSON_Delete(s);
		return NULL;
	}
	add_violations(v, s);
	add_sandbox(v, s);
	add_fingerprint(v, s);
	return s;
}
