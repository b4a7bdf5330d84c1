/*
 * report.c - a comparison of two runs as text and as JSON (replay.h,
 * docs/replay.md).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "replay/replay.h"

/* At most this many items of each kind in one explanation. */
#define EXPLAIN_MAX 3
/* Bytes of the command named as a request's cause, which is the one
 * that matters, so it may take more of the line than the others
 * (REPLAY_COMMAND_MAX); --json has all. */
#define CAUSE_MAX 200

/* A growing string; on failure ok turns false and appends stop. */
struct text {
	char *buf;
	size_t len, cap;
	bool ok;
};

static void put(struct text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!t->ok)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (t->len + (size_t)n + 1 > t->cap) {
		size_t cap = (t->len + (size_t)n + 1) * 2;
		char *grown = realloc(t->buf, cap);

		if (!grown) {
			t->ok = false;
			return;
		}
		t->buf = grown;
		t->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	t->len += (size_t)n;
}

static char *finish(struct text *t)
{
	if (!t->ok || !t->buf) {
		free(t->buf);
		replay_set_error("cannot write the report: out of memory");
		return NULL;
	}
	return t->buf;
}

const char *replay_verdict_name(enum replay_verdict verdict)
{
	switch (verdict) {
	case REPLAY_IDENTICAL:
		return "identical";
	case REPLAY_VOLATILE:
		return "volatile-only";
	default:
		return "diverged";
	}
}

/* "exit 1, recorded exit 0", or "exit 0, as recorded". */
static void put_status(struct text *t, const struct replay_cause *c)
{
	if (strcmp(c->recorded, c->other) == 0)
		put(t, "%s, as recorded", c->other);
	else
		put(t, "%s, recorded %s", c->other, c->recorded);
}

size_t replay_command_shown(const char *command, size_t max, bool *cut)
{
	size_t n = strcspn(command, "\n");

	*cut = n > max || command[n] != '\0';
	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)command[n] & 0xc0) == 0x80)
			n--;
	}
	return n;
}

char *replay_clean(const char *text, size_t len)
{
	char *raw = strndup(text, len);
	char *clean = malloc(len + 1);

	if (!raw || !clean) {
		free(raw);
		free(clean);
		return NULL;
	}
	/* cli_sanitize() writes at most one byte for each byte it reads. */
	cli_sanitize(clean, len + 1, raw);
	free(raw);
	return clean;
}

/* Clean s in place: cli_sanitize() never makes text longer. */
static void clean_in_place(char *s)
{
	char *clean = replay_clean(s, strlen(s));

	if (clean)
		strcpy(s, clean);
	else
		s[0] = '\0';
	free(clean);
}

static void clean_items(cJSON *json)
{
	cJSON *item;

	cJSON_ArrayForEach(item, json) {
		if (item->string && !(item->type & cJSON_StringIsConst))
			clean_in_place(item->string);
		if (cJSON_IsString(item))
			clean_in_place(item->valuestring);
		clean_items(item);
	}
}

cJSON *replay_clean_json(const cJSON *json)
{
	cJSON *copy = cJSON_Duplicate(json, 1);

	if (cJSON_IsString(copy))
		clean_in_place(copy->valuestring);
	clean_items(copy);
	return copy;
}

/* Append len bytes of text with its control characters replaced by
 * '?'. Commands, paths and values come from the bundle, whose author
 * could otherwise set the terminal's title, move the cursor or start a
 * line that looks like a verdict. */
static void put_clean(struct text *t, const char *text, size_t len)
{
	char *clean = replay_clean(text, len);

	if (!clean) {
		t->ok = false;
		return;
	}
	put(t, "%s", clean);
	free(clean);
}

static void put_cleans(struct text *t, const char *text)
{
	put_clean(t, text, strlen(text));
}

char *replay_command_excerpt(const char *command, size_t from, size_t max)
{
	struct text t = {.ok = true};
	size_t len = strlen(command), n;
	bool cut;

	if (from == 0 || from >= len) {
		n = replay_command_shown(command, max, &cut);
		put(&t, "`");
		put_clean(&t, command, n);
		put(&t, "%s`", cut ? "..." : "");
		return finish(&t);
	}
	while (from > 0 && ((unsigned char)command[from] & 0xc0) == 0x80)
		from--;
	n = len - from;
	if (n > max) {
		n = max;
		while (n > 0 &&
		       ((unsigned char)command[from + n] & 0xc0) == 0x80)
			n--;
	}
	put(&t, "`...");
	put_clean(&t, command + from, n);
	put(&t, "%s`", from + n < len ? "..." : "");
	return finish(&t);
}

/* A command line as replay_command_excerpt() shows it from byte from,
 * so that an explanation stays one line. */
static void put_excerpt(struct text *t, const char *command, size_t from,
			size_t max)
{
	char *excerpt = replay_command_excerpt(command, from, max);

	if (!excerpt) {
		t->ok = false;
		return;
	}
	put(t, "%s", excerpt);
	free(excerpt);
}

static void put_command(struct text *t, const char *command, size_t max)
{
	put_excerpt(t, command, 0, max);
}

static void put_cause(struct text *t, const struct replay_cause *c,
		      size_t step)
{
	if (!c->found)
		return;
	put(t, ", which is %sthe output of ", c->tie ? "" : "probably ");
	put_command(t, c->command, CAUSE_MAX);
	put(t, " (");
	put_status(t, c);
	if (c->step != step)
		put(t, ", in step %zu", c->step);
	if (!c->tie)
		put(t, "; a guess: no tool call id ties them");
	put(t, ")");
}

static void put_request(struct text *t, const struct replay_step_cmp *sc,
			const char **sep)
{
	size_t shown = 0;

	if (sc->request_note) {
		put(t, "%s", *sep);
		put_cleans(t, sc->request_note);
		*sep = "; ";
		return;
	}
	if (sc->reordered) {
		put(t, "%sthe request came in another order: it is the "
		       "recording's request %zu", *sep, sc->reordered);
		*sep = "; ";
		return;
	}
	if (!sc->request.divergent)
		return;
	put(t, "%sthe request differs at ", *sep);
	for (size_t i = 0; i < sc->request.count && shown < EXPLAIN_MAX; i++) {
		const struct harness_diff_entry *e = &sc->request.entries[i];

		if (e->class != HARNESS_DIFF_DIVERGENT)
			continue;
		put(t, "%s", shown ? ", " : "");
		put_cleans(t, e->path[0] ? e->path : "the body");
		shown++;
	}
	if (sc->request.divergent > shown)
		put(t, " and %zu more", sc->request.divergent - shown);
	put_cause(t, &sc->cause, sc->step);
	*sep = "; ";
}

/* Whether d is a status difference that the cause reports already. */
static bool told(const struct replay_cause *c, const struct replay_step_cmp *sc,
		 const struct replay_proc_diff *d)
{
	const char *kind = cJSON_GetStringValue(
		cJSON_GetObjectItem(d->json, "difference"));

	return c->found && c->step == sc->step && kind &&
	       strcmp(kind, "status") == 0 &&
	       strcmp(c->position, d->position) == 0;
}

/* Name up to EXPLAIN_MAX of the processes that differ and count the
 * rest, leaving out the one that the cause names already. */
static void put_procs(struct text *t, const struct replay_step_cmp *sc,
		      const char **sep)
{
	const struct replay_cause *c = &sc->cause;
	size_t shown = 0, rest = 0;

	for (size_t i = 0; i < sc->n_procs; i++) {
		if (told(c, sc, &sc->procs[i]))
			continue;
		if (shown == EXPLAIN_MAX) {
			rest++;
			continue;
		}
		put(t, "%s", *sep);
		put_excerpt(t, sc->procs[i].command, sc->procs[i].from,
			    REPLAY_COMMAND_MAX);
		put(t, " ");
		put_cleans(t, sc->procs[i].what);
		*sep = "; ";
		shown++;
	}
	if (rest == 1)
		put(t, "%s1 more process differs", *sep);
	else if (rest > 1)
		put(t, "%s%zu more processes differ", *sep, rest);
}

/* An unfinalized bundle has no exit status, so print that instead. */
static void put_exit(struct text *t, const struct replay_step_cmp *sc,
		     const char *sep)
{
	if (sc->ended_a && sc->ended_b)
		put(t, "%sthe exit status is %d, recorded %d", sep, sc->exit_b,
		    sc->exit_a);
	else if (sc->ended_b)
		put(t, "%sthe exit status is %d; the recording has no end",
		    sep, sc->exit_b);
	else if (sc->ended_a)
		put(t, "%sthe other run has no end; recorded exit status %d",
		    sep, sc->exit_a);
}

static void put_files(struct text *t, const struct replay_step_cmp *sc,
		      const char **sep)
{
	for (size_t i = 0; i < sc->n_files && i < EXPLAIN_MAX; i++) {
		const struct replay_file_diff *f = &sc->files[i];

		put(t, "%s", *sep);
		put_cleans(t, f->path);
		if (f->since == sc->step)
			put(t, " differs from the recording (%s)", f->what);
		else
			put(t, " has differed from the recording since "
			       "step %zu", f->since);
		*sep = "; ";
	}
	if (sc->n_files > EXPLAIN_MAX)
		put(t, "%s%zu more files differ", *sep,
		    sc->n_files - EXPLAIN_MAX);
}

/* Name what differed in volatile values only, so that the reader of a
 * "volatile-only" step can find it. */
static void put_volatile(struct text *t, const struct replay_step_cmp *sc)
{
	const char *sep = " (";

	put(t, ": volatile differences only");
	if (sc->request.total) {
		put(t, "%sthe request, in %zu value%s", sep, sc->request.total,
		    sc->request.total == 1 ? "" : "s");
		sep = "; ";
	}
	if (sc->volatile_procs) {
		put(t, "%sthe argv of %zu command%s", sep, sc->volatile_procs,
		    sc->volatile_procs == 1 ? "" : "s");
		sep = "; ";
	}
	if (sc->volatile_files) {
		put(t, "%s.git/index, the stat data that git status rewrites",
		    sep);
		sep = "; ";
	}
	if (sep[0] == ';')
		put(t, ")");
}

static void put_step(struct text *t, const struct replay_step_cmp *sc)
{
	const char *sep = ": ";

	if (sc->final)
		put(t, "step %zu (final)", sc->step);
	else
		put(t, "step %zu", sc->step);
	put_request(t, sc, &sep);
	put_procs(t, sc, &sep);
	put_files(t, sc, &sep);
	if (sc->exit_differs) {
		put_exit(t, sc, sep);
		sep = "; ";
	}
	if (sep[0] == ':')
		put_volatile(t, sc);
}

/* The timeout's SIGKILL alone reads like any other kill, and the step
 * it cuts short can be any step, so the run's timeout is named here. */
static void put_timeout(struct text *t, const struct replay_comparison *cmp)
{
	const char *timed_out = NULL;

	if (cmp->timed_out_a && cmp->timed_out_b)
		timed_out = "both runs";
	else if (cmp->timed_out_b)
		timed_out = "the other run";
	else if (cmp->timed_out_a)
		timed_out = "the recording";
	if (timed_out)
		put(t, " (%s timed out: the policy's limits.timeout_seconds)",
		    timed_out);
}

char *replay_explain(const struct replay_comparison *cmp)
{
	struct text t = {.ok = true};

	if (!cmp->first)
		return NULL;
	put_step(&t, &cmp->steps[cmp->first - 1]);
	put_timeout(&t, cmp);
	return finish(&t);
}

/* Append text line by line, each cleaned as put_clean() does. The
 * request's diff quotes values as JSON, which escapes the control
 * characters below 0x20 but neither DEL, nor C1 controls, nor the
 * bidirectional overrides. */
static void put_lines(struct text *t, const char *text)
{
	while (*text) {
		size_t n = strcspn(text, "\n");

		put_clean(t, text, n);
		put(t, "\n");
		text += n + (text[n] == '\n');
	}
}

static void put_details(struct text *t, const struct replay_step_cmp *sc)
{
	char *diff;

	if (sc->request.total) {
		diff = harness_diff_format(&sc->request, 40);
		if (diff) {
			put(t, "  request:\n");
			put_lines(t, diff);
		}
		free(diff);
	}
	for (size_t i = 0; i < sc->n_procs; i++) {
		put(t, "  process %s `", sc->procs[i].position);
		put_cleans(t, sc->procs[i].command);
		put(t, "`: ");
		put_cleans(t, sc->procs[i].what);
		put(t, "\n");
	}
	for (size_t i = 0; i < sc->n_files; i++) {
		put(t, "  file ");
		put_cleans(t, sc->files[i].path);
		put(t, ": %s (since step %zu)\n", sc->files[i].what,
		    sc->files[i].since);
	}
}

const struct replay_step_cmp *
replay_most_uncompared(const struct replay_comparison *cmp)
{
	const struct replay_step_cmp *widest = NULL;

	for (size_t i = 0; i < cmp->n_steps; i++) {
		const struct replay_step_cmp *sc = &cmp->steps[i];

		if (!widest || sc->n_uncompared > widest->n_uncompared)
			widest = sc;
	}
	return widest && widest->n_uncompared ? widest : NULL;
}

static void put_uncompared(struct text *t,
			   const struct replay_comparison *cmp)
{
	const struct replay_step_cmp *widest = replay_most_uncompared(cmp);

	if (!widest)
		return;
	put(t, "not compared: %zu entr%s that the recording or the replay "
	       "could not read (", widest->n_uncompared,
	       widest->n_uncompared == 1 ? "y" : "ies");
	for (size_t i = 0;
	     i < widest->n_uncompared && i < REPLAY_UNCOMPARED_LISTED; i++) {
		put(t, "%s", i ? ", " : "");
		put_cleans(t, widest->uncompared[i]);
	}
	if (widest->n_uncompared > REPLAY_UNCOMPARED_LISTED)
		put(t, ", ...");
	put(t, "), so they count as no divergence\n");
}

char *replay_comparison_text(const struct replay_comparison *cmp)
{
	struct text t = {.ok = true};

	if (cmp->verdict == REPLAY_IDENTICAL)
		put(&t, "identical: %zu step%s\n", cmp->n_steps,
		    cmp->n_steps == 1 ? "" : "s");
	else if (cmp->verdict == REPLAY_VOLATILE)
		put(&t, "volatile differences only: %zu step%s\n",
		    cmp->n_steps, cmp->n_steps == 1 ? "" : "s");
	else if (cmp->first)
		put(&t, "diverged at step %zu of %zu\n", cmp->first,
		    cmp->n_steps);
	else
		/* Only what the agent printed, with --compare-output. */
		put(&t, "diverged in the agent's output, in none of %zu "
		       "step%s\n", cmp->n_steps, cmp->n_steps == 1 ? "" : "s");
	put_uncompared(&t, cmp);
	for (size_t i = 0; i < cmp->n_steps; i++) {
		const struct replay_step_cmp *sc = &cmp->steps[i];

		if (sc->verdict == REPLAY_IDENTICAL)
			continue;
		put_step(&t, sc);
		put(&t, " [%s]\n", replay_verdict_name(sc->verdict));
		put_details(&t, sc);
	}
	return finish(&t);
}

/* An exit status, or null for a run that has no end. */
static void add_status(cJSON *obj, const char *name, bool ended, int code)
{
	if (ended)
		cJSON_AddNumberToObject(obj, name, code);
	else
		cJSON_AddNullToObject(obj, name);
}

static cJSON *uncompared_json(const struct replay_step_cmp *sc)
{
	if (!sc->n_uncompared)
		return cJSON_CreateArray();
	return cJSON_CreateStringArray((const char *const *)sc->uncompared,
				       (int)sc->n_uncompared);
}

static cJSON *files_json(const struct replay_step_cmp *sc)
{
	cJSON *list = cJSON_CreateArray();

	for (size_t i = 0; list && i < sc->n_files; i++) {
		cJSON *f = cJSON_CreateObject();

		cJSON_AddStringToObject(f, "path", sc->files[i].path);
		cJSON_AddStringToObject(f, "change", sc->files[i].what);
		cJSON_AddNumberToObject(f, "since", (double)sc->files[i].since);
		cJSON_AddItemToArray(list, f);
	}
	return list;
}

static cJSON *procs_json(const struct replay_step_cmp *sc)
{
	cJSON *list = cJSON_CreateArray();

	for (size_t i = 0; list && i < sc->n_procs; i++)
		cJSON_AddItemToArray(list,
				     cJSON_Duplicate(sc->procs[i].json, 1));
	return list;
}

static cJSON *cause_json(const struct replay_cause *c)
{
	cJSON *obj = cJSON_CreateObject();

	cJSON_AddStringToObject(obj, "path", c->path);
	cJSON_AddStringToObject(obj, "command", c->command);
	cJSON_AddStringToObject(obj, "position", c->position);
	cJSON_AddNumberToObject(obj, "step", (double)c->step);
	cJSON_AddStringToObject(obj, "recorded", c->recorded);
	cJSON_AddStringToObject(obj, "other", c->other);
	if (c->tie) {
		cJSON_AddStringToObject(obj, "tie", c->tie);
		cJSON_AddStringToObject(obj, "call_id", c->call_id);
	} else {
		cJSON_AddNullToObject(obj, "tie");
	}
	cJSON_AddBoolToObject(obj, "guess", !c->tie);
	return obj;
}

cJSON *replay_step_json(const struct replay_step_cmp *sc)
{
	cJSON *obj = cJSON_CreateObject();
	cJSON *req = cJSON_AddObjectToObject(obj, "request");
	struct text t = {.ok = true};
	char *why;

	cJSON_AddNumberToObject(obj, "step", (double)sc->step);
	cJSON_AddBoolToObject(obj, "final", sc->final);
	cJSON_AddStringToObject(obj, "verdict",
				replay_verdict_name(sc->verdict));
	put_step(&t, sc);
	why = finish(&t);
	if (why)
		cJSON_AddStringToObject(obj, "explanation", why);
	free(why);
	if (sc->request_note)
		cJSON_AddStringToObject(req, "note", sc->request_note);
	if (sc->reordered)
		cJSON_AddNumberToObject(req, "reordered",
					(double)sc->reordered);
	else
		cJSON_AddNullToObject(req, "reordered");
	cJSON_AddItemToObject(req, "differences",
			      harness_diff_to_json(&sc->request));
	if (sc->cause.found)
		cJSON_AddItemToObject(req, "cause", cause_json(&sc->cause));
	else
		cJSON_AddNullToObject(req, "cause");
	cJSON_AddItemToObject(obj, "processes", procs_json(sc));
	cJSON_AddItemToObject(obj, "files", files_json(sc));
	cJSON_AddNumberToObject(obj, "volatile_processes",
				(double)sc->volatile_procs);
	cJSON_AddNumberToObject(obj, "volatile_files",
				(double)sc->volatile_files);
	cJSON_AddItemToObject(obj, "uncompared_files",
			      uncompared_json(sc));
	if (sc->final) {
		cJSON *exit = cJSON_AddObjectToObject(obj, "exit");

		add_status(exit, "recorded", sc->ended_a, sc->exit_a);
		add_status(exit, "other", sc->ended_b, sc->exit_b);
	}
	return obj;
}

cJSON *replay_comparison_json(const struct replay_comparison *cmp)
{
	cJSON *obj = cJSON_CreateObject();
	cJSON *steps = cJSON_AddArrayToObject(obj, "differences");
	const struct replay_step_cmp *widest;
	cJSON *timed_out;

	cJSON_AddStringToObject(obj, "verdict",
				replay_verdict_name(cmp->verdict));
	cJSON_AddNumberToObject(obj, "steps", (double)cmp->n_steps);
	timed_out = cJSON_AddObjectToObject(obj, "timed_out");
	cJSON_AddBoolToObject(timed_out, "recorded", cmp->timed_out_a);
	cJSON_AddBoolToObject(timed_out, "other", cmp->timed_out_b);
	if (cmp->first)
		cJSON_AddItemToObject(
			obj, "first_divergence",
			replay_step_json(&cmp->steps[cmp->first - 1]));
	else
		cJSON_AddNullToObject(obj, "first_divergence");
	widest = replay_most_uncompared(cmp);
	if (widest)
		cJSON_AddItemToObject(obj, "uncompared_files",
				      uncompared_json(widest));
	else
		cJSON_AddArrayToObject(obj, "uncompared_files");
	for (size_t i = 0; steps && i < cmp->n_steps; i++) {
		if (cmp->steps[i].verdict != REPLAY_IDENTICAL)
			cJSON_AddItemToArray(steps,
					     replay_step_json(&cmp->steps[i]));
	}
	return obj;
}
