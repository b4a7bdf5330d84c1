/*
 * report_data.c - gather what the HTML report shows (report_data.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bundle/tree.h"
#include "inspect/answer.h"
#include "inspect/error.h"
#include "inspect/execs.h"
#include "inspect/patch.h"
#include "inspect/report_data.h"
#include "inspect/summary.h"

struct gather {
	const struct inspect_view *view;
	cJSON *steps;	   /* array, one object per step */
	cJSON *violations; /* all of them, in event order */
	cJSON **last_exec; /* per process index: its last exec's object */
	size_t n_last;
	unsigned char *lookups; /* per event: a failed exec of a PATH search */
};

/* Add to obj a copy of at most max bytes of text, and the boolean flag
 * when it was cut. The cut never splits a UTF-8 sequence, so that the
 * copy stays valid UTF-8 when the text was. */
static void add_text_max(cJSON *obj, const char *name, const char *text,
			 size_t len, size_t max, const char *flag)
{
	char *copy;

	if (len > max) {
		len = max;
		while (len > 0 && ((unsigned char)text[len] & 0xc0) == 0x80)
			len--;
		cJSON_AddBoolToObject(obj, flag, 1);
	}
	copy = malloc(len + 1);
	if (!copy)
		return;
	memcpy(copy, text, len);
	copy[len] = '\0';
	cJSON_AddStringToObject(obj, name, copy);
	free(copy);
}

/* Add to obj a copy of at most REPORT_TEXT_MAX bytes of text, flagged
 * "truncated" when cut. */
static void add_text(cJSON *obj, const char *name, const char *text,
		     size_t len)
{
	add_text_max(obj, name, text, len, REPORT_TEXT_MAX, "truncated");
}

static void add_error(cJSON *obj)
{
	cJSON_AddStringToObject(obj, "error", inspect_error());
}

static cJSON *ref_json(const struct inspect_view *v, const char *kind)
{
	const struct inspect_event *ev = inspect_view_last(v, kind);
	cJSON *json = NULL;

	if (ev && inspect_view_ref_json(v, ev, 0, &json) < 0) {
		json = cJSON_CreateObject();
		add_error(json);
	}
	return json ? json : cJSON_CreateNull();
}

/* The parts of a request body that hold the conversation. */
static cJSON *request_parts(const struct harness_exchange *ex)
{
	static const char *const keep[] = {
		"model", "system", "instructions", "messages", "input",
	};
	const struct harness_request *req = &ex->request;
	cJSON *body, *out = cJSON_CreateObject();

	if (req->body_len > 4 * REPORT_TEXT_MAX) {
		cJSON_AddStringToObject(out, "error", "the request is too "
					"large to show");
		return out;
	}
	body = cJSON_ParseWithLength((const char *)req->body, req->body_len);
	if (!cJSON_IsObject(body)) {
		add_text(out, "text", (const char *)req->body,
			 strnlen((const char *)req->body, req->body_len));
		cJSON_Delete(body);
		return out;
	}
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		cJSON *item = cJSON_DetachItemFromObjectCaseSensitive(body,
								      keep[i]);

		if (item)
			cJSON_AddItemToObject(out, keep[i], item);
	}
	cJSON_Delete(body);
	return out;
}

static cJSON *answer_json(const struct harness_exchange *ex)
{
	struct inspect_answer answer;
	cJSON *out = cJSON_CreateObject(), *calls;

	if (inspect_answer_parse(ex, &answer) < 0) {
		add_error(out);
		return out;
	}
	cJSON_AddStringToObject(out, "api", answer.api);
	cJSON_AddBoolToObject(out, "streamed", answer.streamed);
	if (answer.model)
		cJSON_AddStringToObject(out, "model", answer.model);
	cJSON_AddNumberToObject(out, "input_tokens",
				(double)answer.input_tokens);
	cJSON_AddNumberToObject(out, "output_tokens",
				(double)answer.output_tokens);
	add_text(out, "text", answer.text, strlen(answer.text));
	calls = cJSON_AddArrayToObject(out, "tool_calls");
	for (size_t i = 0; i < answer.n_calls; i++) {
		const struct inspect_tool_call *c = &answer.calls[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "name", c->name);
		add_text(o, "arguments", c->arguments ? c->arguments : "",
			 c->arguments ? strlen(c->arguments) : 0);
		cJSON_AddItemToArray(calls, o);
	}
	inspect_answer_release(&answer);
	return out;
}

static void add_exchange(struct gather *g, const struct inspect_event *ev,
			 cJSON *step)
{
	struct harness_exchange ex;
	cJSON *o = cJSON_CreateObject();

	cJSON_AddItemToArray(cJSON_GetObjectItem(step, "exchanges"), o);
	cJSON_AddNumberToObject(o, "event", (double)ev->seq);
	if (ev->data)
		cJSON_AddItemToObject(o, "info", cJSON_Duplicate(ev->data, 1));
	if (inspect_view_exchange(g->view, ev, &ex) < 0) {
		add_error(o);
		return;
	}
	cJSON_AddItemToObject(o, "request", request_parts(&ex));
	cJSON_AddItemToObject(o, "answer", answer_json(&ex));
	harness_exchange_release(&ex);
}

static void add_exec(struct gather *g, const struct inspect_event *ev,
		     cJSON *step)
{
	cJSON *o = cJSON_Duplicate(ev->data, 1);
	long long index;

	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		o = cJSON_CreateObject();
	}
	cJSON_AddNumberToObject(o, "event", (double)ev->seq);
	/* The page shows a PATH lookup as routine, and the last attempt of
	 * a search that found nothing as the failed exec that inspect
	 * counts. */
	cJSON_AddBoolToObject(o, "path_lookup",
			      g->lookups[ev - g->view->events]);
	cJSON_AddItemToArray(cJSON_GetObjectItem(step, "commands"), o);
	if (inspect_json_int(ev->data, "index", 0, (long long)g->n_last - 1,
			     &index) == 0)
		g->last_exec[index] = o;
}

/* Microseconds since the epoch of an RFC 3339 UTC time, or -1. */
static double event_us(const char *text)
{
	struct tm tm = {0};
	const char *rest = strptime(text, "%Y-%m-%dT%H:%M:%S", &tm);
	double frac = 0, scale = 0.1;

	if (!rest)
		return -1;
	if (*rest == '.') {
		for (rest++; *rest >= '0' && *rest <= '9'; rest++) {
			frac += (*rest - '0') * scale;
			scale /= 10;
		}
	}
	return ((double)timegm(&tm) + frac) * 1e6;
}

static void add_end(struct gather *g, const struct inspect_event *ev)
{
	const char *what[] = {"end", "signal"};
	int code = inspect_json_exit_code(ev->data);
	double start, end;
	long long index;
	cJSON *o;

	if (inspect_json_int(ev->data, "index", 0, (long long)g->n_last - 1,
			     &index) < 0 || !g->last_exec[index])
		return;
	o = g->last_exec[index];
	for (size_t i = 0; i < 2; i++) {
		const cJSON *v = cJSON_GetObjectItem(ev->data, what[i]);

		if (v)
			cJSON_AddItemToObject(o, what[i],
					      cJSON_Duplicate(v, 1));
	}
	/* The page shows an exit status only when wait(2) could have
	 * reported it, as inspect and log do. */
	if (code >= 0)
		cJSON_AddNumberToObject(o, "exit_code", code);
	else if (cJSON_GetObjectItem(ev->data, "exit_code"))
		cJSON_AddNullToObject(o, "exit_code");
	start = inspect_json_num(o, "time_us", -1);
	end = event_us(ev->time);
	if (start >= 0 && end >= start)
		cJSON_AddNumberToObject(o, "duration_us", end - start);
}

static void add_violation(struct gather *g, const struct inspect_event *ev,
			  cJSON *step)
{
	const char *source = inspect_json_str(ev->data, "source");
	char *text = inspect_violation_text(ev->data);
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "event", (double)ev->seq);
	cJSON_AddNumberToObject(o, "step", (double)ev->step);
	cJSON_AddStringToObject(o, "source", source ? source : "unknown");
	cJSON_AddStringToObject(o, "text", text ? text : "");
	free(text);
	cJSON_AddItemToArray(cJSON_GetObjectItem(step, "violations"),
			     cJSON_Duplicate(o, 1));
	cJSON_AddItemToArray(g->violations, o);
}

static void on_file(const char *path, int change, int binary,
		    uint64_t added, uint64_t removed, void *arg)
{
	cJSON *o = cJSON_CreateObject();
	char code[2] = {(char)change, '\0'};
	char *escaped = bundle_name_escape_dup((const unsigned char *)path,
					       strlen(path));

	/* Whole, however deep: a path cut short names a directory above
	 * the changed file, and two cut ones look the same. */
	cJSON_AddStringToObject(o, "change", code);
	cJSON_AddStringToObject(o, "path",
				escaped ? escaped : "(out of memory)");
	free(escaped);
	cJSON_AddBoolToObject(o, "binary", binary);
	cJSON_AddNumberToObject(o, "lines_added", (double)added);
	cJSON_AddNumberToObject(o, "lines_removed", (double)removed);
	cJSON_AddItemToArray(arg, o);
}

static void add_diff(struct gather *g, size_t i, cJSON *step)
{
	const struct inspect_view *v = g->view;
	cJSON *changes = cJSON_AddArrayToObject(step, "changes");
	struct inspect_patch_options opt = {.on_file = on_file,
					    .arg = changes};
	struct inspect_patch_stats stats;
	char *text = NULL;
	size_t len = 0;

	if (i + 1 >= v->n_steps)
		return;
	opt.out = open_memstream(&text, &len);
	if (!opt.out)
		return;
	if (inspect_patch(v->bundle, &v->steps[i].root, &v->steps[i + 1].root,
			  &opt, &stats) < 0)
		add_error(step);
	fclose(opt.out);
	add_text_max(step, "diff", text ? text : "", len, REPORT_DIFF_MAX,
		     "diff_truncated");
	free(text);
}

static cJSON *new_step(const struct inspect_view *v, size_t i)
{
	const struct inspect_step *s = &v->steps[i];
	const struct inspect_event *ev = inspect_view_event(v, s->snapshot);
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "index", (double)i);
	cJSON_AddStringToObject(o, "at", s->at);
	cJSON_AddStringToObject(o, "time", ev ? ev->time : "");
	cJSON_AddBoolToObject(o, "complete", s->complete);
	cJSON_AddArrayToObject(o, "exchanges");
	cJSON_AddArrayToObject(o, "commands");
	cJSON_AddArrayToObject(o, "violations");
	return o;
}

static void gather_events(struct gather *g)
{
	const struct inspect_view *v = g->view;

	for (size_t i = 0; i < v->n_events; i++) {
		const struct inspect_event *ev = &v->events[i];
		cJSON *step = cJSON_GetArrayItem(g->steps, (int)ev->step);

		if (!step)
			continue;
		if (strcmp(ev->kind, "exchange") == 0)
			add_exchange(g, ev, step);
		else if (strcmp(ev->kind, "exec") == 0)
			add_exec(g, ev, step);
		else if (strcmp(ev->kind, "process-end") == 0)
			add_end(g, ev);
		else if (strcmp(ev->kind, "violation") == 0)
			add_violation(g, ev, step);
	}
}

cJSON *inspect_report_data(const struct inspect_view *view,
			   const char *path)
{
	struct gather g = {.view = view};
	cJSON *doc = cJSON_CreateObject(), *summary;

	g.steps = cJSON_AddArrayToObject(doc, "steps");
	g.violations = cJSON_AddArrayToObject(doc, "violations");
	/* Process indexes count from 0 in order of start, so there are
	 * fewer than there are events. */
	g.n_last = view->n_events;
	g.last_exec = calloc(g.n_last + 1, sizeof(*g.last_exec));
	g.lookups = inspect_exec_lookups(view);
	if (!doc || !g.steps || !g.last_exec || !g.lookups) {
		cJSON_Delete(doc);
		free(g.last_exec);
		free(g.lookups);
		inspect_set_error("cannot build the report: out of memory");
		return NULL;
	}
	summary = inspect_summary(view, path);
	if (!summary) {
		summary = cJSON_CreateObject();
		add_error(summary);
	}
	cJSON_AddItemToObject(doc, "summary", summary);
	cJSON_AddItemToObject(doc, "fingerprint", ref_json(view,
							   "fingerprint"));
	cJSON_AddItemToObject(doc, "sandbox", ref_json(view, "sandbox"));
	for (size_t i = 0; i < view->n_steps; i++)
		cJSON_AddItemToArray(g.steps, new_step(view, i));
	gather_events(&g);
	for (size_t i = 0; i < view->n_steps; i++)
		add_diff(&g, i, cJSON_GetArrayItem(g.steps, (int)i));
	free(g.last_exec);
	free(g.lookups);
	return doc;
}
