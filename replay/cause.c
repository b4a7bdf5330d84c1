/*
 * cause.c - the command behind a divergent request (struct replay_cause
 * in replay.h): from the JSON path to the tool result that contains
 * it, to the tool call it replies to, to the command of the step that
 * ran it.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inspect/answer.h"
#include "replay/replay.h"

/* The members in which a tool result names the id of its tool call. */
static const struct {
	const char *member;
	const char *type; /* the result's "type", NULL for any */
} ties[] = {
	{"tool_call_id", NULL},
	{"call_id", "function_call_output"},
	{"tool_use_id", "tool_result"},
};

/* The members of a request's root through which an agent shows the
 * model what a command printed (a body that is not JSON is "body").
 * The others are parameters (model, temperature, tools), headers and
 * the query, which an agent fills from its settings, so a guess there
 * would name an unrelated command. */
static const char *const carriers[] = {
	"messages", "input", "system", "instructions", "prompt", "contents",
	"body",
};

/* Whether path, of a request's diff, can carry a command's output. */
static bool carries_output(const char *path)
{
	if (!*path)
		return true;
	for (size_t i = 0; i < sizeof(carriers) / sizeof(carriers[0]); i++) {
		size_t n = strlen(carriers[i]);

		if (strncmp(path, carriers[i], n) == 0 &&
		    (path[n] == '\0' || path[n] == '.' || path[n] == '['))
			return true;
	}
	return false;
}

/* The two runs, and b's process paired with each of a's. */
struct runs {
	const struct replay_run *a, *b;
	const struct replay_proc *const *pairs;
};

/* The process of run b paired with p of run a, or NULL. */
static const struct replay_proc *other(const struct runs *r,
				       const struct replay_proc *p)
{
	return r->pairs[p - r->a->procs];
}

static const char *text_of(const cJSON *obj, const char *name)
{
	return cJSON_GetStringValue(cJSON_GetObjectItem(obj, name));
}

/* Return the call id of node when it is a tool result, else NULL. */
static const char *tie_of(const cJSON *node, const char **tie)
{
	for (size_t i = 0; i < sizeof(ties) / sizeof(ties[0]); i++) {
		const char *id = text_of(node, ties[i].member);
		const char *type = text_of(node, "type");

		if (!id || (ties[i].type && (!type ||
					     strcmp(type, ties[i].type) != 0)))
			continue;
		*tie = ties[i].member;
		return id;
	}
	return NULL;
}

/* One step of a path: ".name", "name" at the start, or "[N]". Returns
 * the child, or NULL at the end of the path or where it cannot go on
 * (a quoted key). *p moves past the step. */
static const cJSON *path_step(const cJSON *node, const char **p)
{
	char key[256];
	size_t n = 0;

	if (**p == '[' && isdigit((unsigned char)(*p)[1])) {
		char *end;
		long i = strtol(*p + 1, &end, 10);

		if (*end != ']')
			return NULL;
		*p = end + 1;
		return cJSON_GetArrayItem(node, (int)i);
	}
	if (**p == '.')
		(*p)++;
	while ((*p)[n] && (*p)[n] != '.' && (*p)[n] != '[' &&
	       n + 1 < sizeof(key)) {
		key[n] = (*p)[n];
		n++;
	}
	if (n == 0)
		return NULL;
	key[n] = '\0';
	*p += n;
	return cJSON_GetObjectItem(node, key);
}

/* Return the call id of the deepest tool result along path in doc. */
static const char *find_tie(const cJSON *doc, const char *path,
			    const char **tie)
{
	const char *p = path, *id = NULL;
	const cJSON *node = doc;

	while (node && *p) {
		const char *here;

		node = path_step(node, &p);
		here = node ? tie_of(node, tie) : NULL;
		if (here)
			id = here;
	}
	return id;
}

/* Return the node at path in doc, or NULL where the path leads nowhere. */
static const cJSON *node_at(const cJSON *doc, const char *path)
{
	const char *p = path;
	const cJSON *node = doc;

	while (node && *p)
		node = path_step(node, &p);
	return *p ? NULL : node;
}

/* Return whether step j's request has the same value at path as last,
 * the parsed request of a later step. */
static bool kept(const struct replay_run *run, size_t j, const cJSON *last,
		 const char *path)
{
	const cJSON *value = node_at(last, path);
	cJSON *doc;
	bool equal;

	if (!value || j >= run->n_steps || !run->steps[j - 1].has_exchange)
		return false;
	doc = replay_request_json(&run->steps[j - 1].exchange.request);
	equal = cJSON_Compare(node_at(doc, path), value, 1);
	cJSON_Delete(doc);
	return equal;
}

/* Return the first step whose request, in both runs, contains the value
 * that step k's request (docs, parsed) contains at path. An agent that
 * resends the conversation carries an older command's output along, and
 * that command ran in the step that first sent it. A value that changed
 * in either run between the steps is new. */
static size_t first_holding(const struct replay_run *a,
			    const struct replay_run *b, size_t k,
			    const char *path, cJSON *const *docs)
{
	/* NOTE: each step parses the earlier requests again, so a long run
	 * that carries one divergent output along takes time quadratic in
	 * its steps, as find_call does. */
	if (!docs[0] || !docs[1])
		return k;
	while (k > 1 && kept(a, k - 1, docs[0], path) &&
	       kept(b, k - 1, docs[1], path))
		k--;
	return k;
}

/* The commands of step k: what the agent's processes started in it and
 * had ended when its request came, outermost first. One still running
 * then is the one making the request. */
static size_t step_commands(const struct replay_run *a, size_t k,
			    const struct replay_proc **out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < a->n_procs && n < max; i++) {
		const struct replay_proc *p = &a->procs[i];
		bool nested = false;

		if (p->step != k || p->end_step != k || !p->argv ||
		    p->parent < 0)
			continue;
		for (size_t j = 0; j < n; j++)
			nested = nested || out[j]->index == p->parent;
		if (!nested)
			out[n++] = p;
	}
	return n;
}

/* Whether one of p's arguments is text, or text quotes the whole
 * command line. */
static bool names(const struct replay_proc *p, const char *text, bool exact)
{
	const cJSON *arg;

	if (!text || !text[0])
		return false;
	if (!exact && p->command && strlen(p->command) > 2 &&
	    strstr(text, p->command))
		return true;
	cJSON_ArrayForEach(arg, p->argv)
	{
		const char *s = cJSON_GetStringValue(arg);

		if (!s || strlen(s) < 3)
			continue;
		if (exact ? strcmp(s, text) == 0 : strstr(text, s) != NULL)
			return true;
	}
	return false;
}

/* The call's arguments are a JSON object of strings, as a rule: a
 * command that is one of them is the call's. */
static const struct replay_proc *
by_arguments(const struct replay_proc **cmds, size_t n, const char *args)
{
	cJSON *json = args ? cJSON_Parse(args) : NULL;
	const struct replay_proc *found = NULL;
	const cJSON *v;

	cJSON_ArrayForEach(v, json)
	{
		for (size_t i = 0; !found && i < n; i++) {
			if (names(cmds[i], cJSON_GetStringValue(v), true))
				found = cmds[i];
		}
	}
	cJSON_Delete(json);
	for (size_t i = 0; !found && i < n; i++) {
		if (names(cmds[i], args, false))
			found = cmds[i];
	}
	return found;
}

/* Return the first of p and the processes below it that ended otherwise
 * in run b or ran another binary there, or NULL. */
static const struct replay_proc *first_differing(const struct runs *r,
						 const struct replay_proc *p)
{
	size_t len = strlen(p->position);

	for (size_t i = 0; i < r->a->n_procs; i++) {
		const struct replay_proc *x = &r->a->procs[i];
		const struct replay_proc *y;
		char sx[96], sy[96] = "did not run";

		if (strncmp(x->position, p->position, len) != 0 ||
		    (x->position[len] && x->position[len] != '.'))
			continue;
		y = other(r, x);
		replay_proc_status(x, sx, sizeof(sx));
		if (y)
			replay_proc_status(y, sy, sizeof(sy));
		if (strcmp(sx, sy) != 0 ||
		    (y && x->exe_sha256 && y->exe_sha256 &&
		     strcmp(x->exe_sha256, y->exe_sha256) != 0) ||
		    (y && x->script_sha256 && y->script_sha256 &&
		     strcmp(x->script_sha256, y->script_sha256) != 0))
			return x;
	}
	return NULL;
}

/* Whether p ran with the same argv in run b. A command whose argv
 * differs was handed the output (jq --arg out "$output" in a shell
 * agent), so it is the agent's own work rather than the tool. */
static bool same_argv(const struct runs *r, const struct replay_proc *p)
{
	const struct replay_proc *q = other(r, p);

	return q && cJSON_Compare(p->argv, q->argv, 1);
}

/* Guess without an id. First comes the command that the recorded value
 * quotes and that ran with the same argv. Then the one that ended
 * otherwise or ran another binary (itself or below it), then the last
 * one that ran with the same argv, and last the last one. */
static const struct replay_proc *
by_guess(const struct runs *r, const struct replay_proc **cmds, size_t n,
	 const char *value)
{
	for (size_t i = n; i > 0; i--) {
		if (same_argv(r, cmds[i - 1]) &&
		    names(cmds[i - 1], value, false))
			return cmds[i - 1];
	}
	for (size_t i = n; i > 0; i--) {
		if (first_differing(r, cmds[i - 1]))
			return cmds[i - 1];
	}
	for (size_t i = n; i > 0; i--) {
		if (same_argv(r, cmds[i - 1]))
			return cmds[i - 1];
	}
	return n ? cmds[n - 1] : NULL;
}

/* Return the arguments of the call named id in a recorded response
 * before step k, and in *step the step whose commands ran it. NULL when
 * no recorded response made that call. */
static char *find_call(const struct replay_run *a, size_t k, const char *id,
		       size_t *step)
{
	/* NOTE: each lookup parses the responses again, newest first, so
	 * a run whose every step diverges at an id from its first
	 * response takes time quadratic in its steps. */
	for (size_t j = k; j > 1; j--) {
		const struct replay_step *s = &a->steps[j - 2];
		struct inspect_answer ans;
		char *args = NULL;

		if (!s->has_exchange ||
		    inspect_answer_parse(&s->exchange, &ans) < 0)
			continue;
		for (size_t i = 0; !args && i < ans.n_calls; i++) {
			if (ans.calls[i].id && strcmp(ans.calls[i].id, id) == 0)
				args = strdup(ans.calls[i].arguments
						      ? ans.calls[i].arguments
						      : "");
		}
		inspect_answer_release(&ans);
		if (args) {
			*step = j;
			return args;
		}
	}
	return NULL;
}

static const struct harness_diff_entry *
first_divergent(const struct harness_diff *d)
{
	for (size_t i = 0; i < d->count; i++) {
		if (d->entries[i].class == HARNESS_DIFF_DIVERGENT)
			return &d->entries[i];
	}
	return NULL;
}

static int fill(struct replay_cause *c, const struct runs *r,
		const struct replay_proc *p)
{
	const struct replay_proc *q = other(r, p);
	char x[96], y[96] = "did not run";

	replay_proc_status(p, x, sizeof(x));
	if (q)
		replay_proc_status(q, y, sizeof(y));
	c->position = strdup(p->position);
	c->command = strdup(p->command ? p->command : "?");
	c->recorded = strdup(x);
	c->other = strdup(y);
	if (!c->position || !c->command || !c->recorded || !c->other) {
		replay_set_error("cannot explain the divergence: out of "
				 "memory");
		return -1;
	}
	c->found = true;
	return 0;
}

/* Return the tool result's call id, from the recorded request or else
 * from the other one. */
static const char *tie_in(const struct replay_step *x,
			  const struct replay_step *y, const char *path,
			  const char **tie, cJSON **docs)
{
	const char *id = NULL;

	docs[0] = x ? replay_request_json(&x->exchange.request) : NULL;
	docs[1] = y ? replay_request_json(&y->exchange.request) : NULL;
	for (int i = 0; i < 2 && !id; i++)
		id = docs[i] ? find_tie(docs[i], path, tie) : NULL;
	return id;
}

static const struct replay_proc *
tied(const struct replay_run *a, struct replay_cause *c, const char *id,
     const struct replay_proc **cmds, size_t *n, size_t max)
{
	size_t step = 0;
	char *args = find_call(a, c->step, id, &step);
	const struct replay_proc *p;

	if (!args)
		return NULL;
	*n = step_commands(a, step, cmds, max);
	p = by_arguments(cmds, *n, args);
	free(args);
	if (!p && *n == 1)
		p = cmds[0];
	if (p)
		c->step = step;
	return p;
}

int replay_find_cause(const struct replay_run *a, const struct replay_run *b,
		      const struct replay_proc *const *pairs,
		      const struct replay_step *x, const struct replay_step *y,
		      struct replay_step_cmp *sc)
{
	const struct runs r = {.a = a, .b = b, .pairs = pairs};
	const struct harness_diff_entry *e = first_divergent(&sc->request);
	struct replay_cause *c = &sc->cause;
	const struct replay_proc *cmds[256], *p = NULL;
	const char *id, *tie = NULL, *value;
	cJSON *docs[2], *recorded;
	size_t n = 0;
	int rc = 0;

	if (!e || !x || !x->has_exchange || !y || !y->has_exchange)
		return 0;
	recorded = e->recorded ? cJSON_Parse(e->recorded) : NULL;
	value = cJSON_IsString(recorded) ? recorded->valuestring : e->recorded;
	c->step = sc->step;
	id = tie_in(x, y, e->path, &tie, docs);
	if (id)
		p = tied(a, c, id, cmds, &n, 256);
	if (p) {
		c->tie = tie;
		c->call_id = strdup(id);
		rc = c->call_id ? 0 : -1;
	}
	for (size_t k = first_holding(a, b, sc->step, e->path, docs);
	     !p && carries_output(e->path) && k > 0; k--) {
		n = step_commands(a, k, cmds, 256);
		p = by_guess(&r, cmds, n, value);
		c->step = k;
	}
	cJSON_Delete(docs[0]);
	cJSON_Delete(docs[1]);
	cJSON_Delete(recorded);
	/* A tool's shell pipeline ends as recorded when the test inside it
	 * failed: name the process that ended otherwise. */
	if (p && first_differing(&r, p))
		p = first_differing(&r, p);
	if (rc == 0 && p) {
		c->path = strdup(e->path);
		rc = c->path ? fill(c, &r, p) : -1;
	}
	if (rc < 0 && !c->found)
		replay_set_error("cannot explain the divergence: out of "
				 "memory");
	return rc;
}

void replay_cause_release(struct replay_cause *c)
{
	free(c->path);
	free(c->call_id);
	free(c->position);
	free(c->command);
	free(c->recorded);
	free(c->other);
	memset(c, 0, sizeof(*c));
}
