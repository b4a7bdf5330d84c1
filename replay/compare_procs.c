/*
 * compare_procs.c - the processes' part of the step-by-step comparison:
 * each recorded process against its counterpart (pair.c), by argv,
 * binary, working directory, environment and exit status.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/error.h"
#include "harness/normalize.h"
#include "replay/compare_internal.h"
#include "replay/replay.h"

static int oom(void)
{
	replay_set_error("cannot compare the runs: out of memory");
	return -1;
}

/* "exit 0", "signaled by SIGKILL", "no end". */
void replay_proc_status(const struct replay_proc *p, char *buf, size_t len)
{
	if (!p->end)
		snprintf(buf, len, "no end");
	else if (strcmp(p->end, "exited") == 0)
		snprintf(buf, len, "exit %d", p->exit_code);
	else
		snprintf(buf, len, "%s", p->end);
}

static int add_proc(struct replay_step_cmp *sc, const struct replay_proc *p,
		    const char *kind, const char *what, const char *recorded,
		    const char *other)
{
	struct replay_proc_diff *d;
	void *grown = realloc(sc->procs, (sc->n_procs + 1) * sizeof(*d));

	if (!grown)
		return oom();
	sc->procs = grown;
	d = &sc->procs[sc->n_procs];
	d->position = strdup(p->position);
	d->command = strdup(p->command ? p->command : "?");
	d->what = strdup(what);
	d->from = 0;
	d->json = cJSON_CreateObject();
	if (!d->position || !d->command || !d->what || !d->json)
		return oom();
	cJSON_AddStringToObject(d->json, "position", p->position);
	cJSON_AddStringToObject(d->json, "command", d->command);
	cJSON_AddStringToObject(d->json, "difference", kind);
	if (recorded)
		cJSON_AddStringToObject(d->json, "recorded", recorded);
	if (other)
		cJSON_AddStringToObject(d->json, "other", other);
	sc->n_procs++;
	return 0;
}

/* Whether two values named name (argv, cwd) differ in more than
 * volatile values (a temporary directory's name, a timestamp): -1 on
 * failure, else 1 or 0, counting volatile-only differences in sc. */
static int diverges(struct cmp_state *st, struct replay_step_cmp *sc,
		    const cJSON *x, const cJSON *y, const char *name)
{
	struct harness_diff d = {0};
	int rc;

	if (cJSON_Compare(x, y, 1) || (!x && !y))
		return 0;
	if (harness_jsondiff(x, y, st->normalizer, name, &d) < 0) {
		replay_set_error("cannot compare %s: %s", name,
				 harness_error());
		return -1;
	}
	rc = d.divergent > 0;
	if (!rc && d.total)
		sc->volatile_procs++;
	harness_diff_release(&d);
	return rc;
}

/* Bytes of a command that an excerpt shows before the first byte where
 * it differs from the other run's. */
#define EXCERPT_BEFORE 24

/*
 * Return the byte where the excerpts of two commands that differ start.
 * That is 0, for the first line as replay_command_shown() cuts it, when
 * the difference shows there. Else the difference lies past its cut, so
 * the excerpts start a little before it, and never before the line that
 * it is on.
 */
static size_t excerpt_start(const char *x, const char *y)
{
	char *ex = replay_command_excerpt(x, 0, REPLAY_COMMAND_MAX);
	char *ey = replay_command_excerpt(y, 0, REPLAY_COMMAND_MAX);
	bool visible = !ex || !ey || strcmp(ex, ey) != 0;
	size_t at = 0, from;

	free(ex);
	free(ey);
	if (visible)
		return 0;
	while (x[at] && x[at] == y[at])
		at++;
	from = at > EXCERPT_BEFORE ? at - EXCERPT_BEFORE : 0;
	for (size_t i = at; from == 0 && i > 0; i--) {
		if (x[i - 1] == '\n')
			from = i;
	}
	return from;
}

static int add_argv(struct replay_step_cmp *sc, const struct replay_proc *x,
		    const struct replay_proc *y)
{
	const char *other = y->command ? y->command : "?";
	size_t from = excerpt_start(x->command ? x->command : "?", other);
	char *excerpt = replay_command_excerpt(other, from,
					       REPLAY_COMMAND_MAX);
	char what[512];

	if (!excerpt)
		return oom();
	snprintf(what, sizeof(what), "ran as %s", excerpt);
	free(excerpt);
	if (add_proc(sc, x, "argv", what, x->command, y->command) < 0)
		return -1;
	sc->procs[sc->n_procs - 1].from = from;
	return 0;
}

/* Whether the n bytes at s end a path: at its end, or before a
 * further component or the next entry of a list such as PATH. */
static bool ends_path(const char *s, size_t n)
{
	return s[n] == '\0' || s[n] == '/' || s[n] == ':';
}

/*
 * Return a copy of a string of the other run (a cwd, an environment
 * value) with its workspace's path replaced by the recording's, which
 * the caller frees; NULL when out of memory. A replay without a sandbox
 * runs in a directory of its own, so the two paths differ there. In the
 * sandbox both runs have the recorded path.
 */
static char *as_recorded(const struct cmp_state *st, const char *value)
{
	const cJSON *from = cJSON_GetObjectItem(st->b->record, "workspace");
	const cJSON *to = cJSON_GetObjectItem(st->a->record, "workspace");
	size_t n = cJSON_IsString(from) ? strlen(from->valuestring) : 0;
	const char *at, *rest = value;
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	if (!n || !cJSON_IsString(to) || !strstr(value, from->valuestring))
		return strdup(value);
	f = open_memstream(&out, &len);
	if (!f)
		return NULL;
	while ((at = strstr(rest, from->valuestring))) {
		bool whole = ends_path(at, n);

		fwrite(rest, 1, (size_t)(at - rest), f);
		fputs(whole ? to->valuestring : from->valuestring, f);
		rest = at + n;
	}
	fputs(rest, f);
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* A JSON string of as_recorded(), or NULL when out of memory. */
static cJSON *string_as_recorded(const struct cmp_state *st,
				 const char *value)
{
	char *mapped = as_recorded(st, value);
	cJSON *json = mapped ? cJSON_CreateString(mapped) : NULL;

	free(mapped);
	return json;
}

/* Compare where a process ran, when both runs recorded it. A cwd in a
 * temporary directory whose name differs is volatile, as in argv. */
static int compare_cwd(struct cmp_state *st, struct replay_step_cmp *sc,
		       const struct replay_proc *x,
		       const struct replay_proc *y)
{
	cJSON *recorded, *other;
	char *what;
	int rc;

	if (!x->cwd || !y->cwd)
		return 0;
	recorded = cJSON_CreateString(x->cwd);
	other = string_as_recorded(st, y->cwd);
	rc = recorded && other ? diverges(st, sc, recorded, other, "cwd")
			       : oom();
	cJSON_Delete(recorded);
	cJSON_Delete(other);
	if (rc <= 0)
		return rc;
	if (asprintf(&what, "ran in %s, recorded %s", y->cwd, x->cwd) < 0)
		return oom();
	rc = add_proc(sc, x, "cwd", what, x->cwd, y->cwd);
	free(what);
	return rc;
}

/*
 * Turn the tracer's list of [name, value] pairs into an object of name
 * to value, so that the comparison pairs variables by name, not by
 * place. An entry without '=' maps to true. With st, the values of the
 * other run have its workspace's path replaced. NULL when out of
 * memory.
 */
static cJSON *env_by_name(const struct cmp_state *st, const cJSON *list)
{
	cJSON *object = cJSON_CreateObject();
	const cJSON *pair;

	cJSON_ArrayForEach(pair, list)
	{
		const cJSON *name = cJSON_GetArrayItem(pair, 0);
		const cJSON *value = cJSON_GetArrayItem(pair, 1);
		cJSON *copy;

		if (!object || !cJSON_IsString(name))
			continue;
		if (!value)
			copy = cJSON_CreateTrue();
		else if (st && cJSON_IsString(value))
			copy = string_as_recorded(st, value->valuestring);
		else
			copy = cJSON_Duplicate(value, 1);
		if (!copy || cJSON_GetObjectItemCaseSensitive(object,
							      name->valuestring))
			cJSON_Delete(copy);
		else
			cJSON_AddItemToObject(object, name->valuestring, copy);
	}
	return object;
}

/* Return the text of a variable's value for the comparison, which the
 * caller frees: a value that is not UTF-8 as its JSON, an entry
 * without '=' as "". NULL for an absent variable or out of memory. */
static char *env_text(const cJSON *value)
{
	if (!value)
		return NULL;
	if (cJSON_IsString(value))
		return strdup(value->valuestring);
	if (cJSON_IsTrue(value))
		return strdup("");
	return cJSON_PrintUnformatted(value);
}

/* Append variable name, with its values on each side, to c. */
static int add_var(struct replay_env_change *c, const char *name,
		   const char *ta, const char *tb)
{
	struct replay_env_var *v;
	void *grown = realloc(c->vars, (c->n_vars + 1) * sizeof(*v));

	if (!grown)
		return oom();
	c->vars = grown;
	v = &c->vars[c->n_vars++];
	memset(v, 0, sizeof(*v));
	v->name = strdup(name);
	if (!v->name || (ta && asprintf(&v->recorded, "%s=%s", name, ta) < 0) ||
	    (tb && asprintf(&v->other, "%s=%s", name, tb) < 0))
		return oom();
	return 0;
}

/*
 * Compare variable name, recorded with value a and in the other run
 * with b, adding the difference to d, and to c when it is divergent.
 * Returns -1 on failure.
 */
static int compare_var(struct cmp_state *st, const char *name,
		       const cJSON *a, const cJSON *b, struct harness_diff *d,
		       struct replay_env_change *c)
{
	char *ta = env_text(a), *tb = env_text(b);
	size_t divergent = d->divergent;
	int rc = -1;

	if ((a && !ta) || (b && !tb)) {
		oom();
		goto out;
	}
	if (harness_diff_strings(name, ta, tb, st->normalizer, d) < 0) {
		replay_set_error("cannot compare env: %s", harness_error());
		goto out;
	}
	rc = d->divergent == divergent ? 0 : add_var(c, name, ta, tb);
out:
	free(ta);
	free(tb);
	return rc;
}

/* Compare two environments as env_by_name() gives them, by name. */
static int compare_vars(struct cmp_state *st, const cJSON *ox,
			const cJSON *oy, struct replay_env_change *c)
{
	struct harness_diff d = {0};
	const cJSON *v;
	int rc = 0;

	cJSON_ArrayForEach(v, ox)
	{
		const cJSON *w = cJSON_GetObjectItemCaseSensitive(oy,
								  v->string);

		if (rc == 0 && !cJSON_Compare(v, w, 1))
			rc = compare_var(st, v->string, v, w, &d, c);
	}
	cJSON_ArrayForEach(v, oy)
	{
		if (rc == 0 && !cJSON_GetObjectItemCaseSensitive(ox, v->string))
			rc = compare_var(st, v->string, NULL, v, &d, c);
	}
	c->volatile_only = !c->n_vars && d.total;
	harness_diff_release(&d);
	return rc;
}

static void env_change_release(struct replay_env_change *c)
{
	for (size_t i = 0; i < c->n_vars; i++) {
		free(c->vars[i].name);
		free(c->vars[i].recorded);
		free(c->vars[i].other);
	}
	free(c->vars);
	memset(c, 0, sizeof(*c));
}

void replay_compare_procs_release(struct cmp_state *st)
{
	for (size_t i = 0; i < REPLAY_ENV_MEMO; i++)
		env_change_release(&st->env_memo[i]);
}

/* Load the environments of x and y and fill c with how they differ. */
static int load_change(struct cmp_state *st, const struct replay_proc *x,
		       const struct replay_proc *y,
		       struct replay_env_change *c)
{
	cJSON *lx = replay_run_env(st->a, x);
	cJSON *ly = lx ? replay_run_env(st->b, y) : NULL;
	cJSON *ox = NULL, *oy = NULL;
	int rc = -1;

	if (lx && ly) {
		ox = env_by_name(NULL, lx);
		oy = env_by_name(st, ly);
		rc = ox && oy ? compare_vars(st, ox, oy, c) : oom();
	}
	cJSON_Delete(lx);
	cJSON_Delete(ly);
	cJSON_Delete(ox);
	cJSON_Delete(oy);
	return rc;
}

/* Find how the environments of x and y differ, from the memo or by
 * loading them. *out points into the memo. An entry that is filled
 * anew is never keep, so that a caller can hold one entry while it
 * looks up another. */
static int env_change(struct cmp_state *st, const struct replay_proc *x,
		      const struct replay_proc *y,
		      const struct replay_env_change *keep,
		      const struct replay_env_change **out)
{
	struct replay_env_change *c;

	for (size_t i = 0; i < REPLAY_ENV_MEMO; i++) {
		c = &st->env_memo[i];
		if (strcmp(c->a, x->env_ref) == 0 &&
		    strcmp(c->b, y->env_ref) == 0) {
			*out = c;
			return 0;
		}
	}
	c = &st->env_memo[st->env_memo_next];
	if (c == keep)
		c = &st->env_memo[(st->env_memo_next + 1) % REPLAY_ENV_MEMO];
	st->env_memo_next = (size_t)(c - st->env_memo + 1) % REPLAY_ENV_MEMO;
	env_change_release(c);
	if (load_change(st, x, y, c) < 0) {
		env_change_release(c);
		return -1;
	}
	snprintf(c->a, sizeof(c->a), "%s", x->env_ref);
	snprintf(c->b, sizeof(c->b), "%s", y->env_ref);
	*out = c;
	return 0;
}

/* Add a variable that differs as the process's difference. */
static int add_env(struct replay_step_cmp *sc, const struct replay_proc *x,
		   const struct replay_env_var *v)
{
	char *what;
	int rc;

	if (!v->other)
		rc = asprintf(&what, "ran without %s, recorded %s", v->name,
			      v->recorded);
	else if (!v->recorded)
		rc = asprintf(&what, "ran with %s, recorded without it",
			      v->other);
	else
		rc = asprintf(&what, "ran with %s, recorded %s", v->other,
			      v->recorded);
	if (rc < 0)
		return oom();
	rc = add_proc(sc, x, "env", what, v->recorded, v->other);
	free(what);
	return rc;
}

/* Whether a run's agent got the environment that the sandbox builds
 * from the policy. Without the sandbox it gets that of the user who
 * runs it, with a gateway on another port in each run. */
static bool env_from_policy(const struct replay_run *run)
{
	const char *mode = cJSON_GetStringValue(
		cJSON_GetObjectItem(run->record, "sandbox"));

	return !mode || strcmp(mode, "none") != 0;
}

/* Whether two strings, either of which may be NULL, are equal. */
static bool same_text(const char *s, const char *t)
{
	return s && t ? strcmp(s, t) == 0 : s == t;
}

/* Whether parent, which may be NULL, has variable v with the same
 * values on each side. */
static bool has_var(const struct replay_env_change *parent,
		    const struct replay_env_var *v)
{
	for (size_t i = 0; parent && i < parent->n_vars; i++) {
		const struct replay_env_var *w = &parent->vars[i];

		if (strcmp(v->name, w->name) == 0 &&
		    same_text(v->recorded, w->recorded) &&
		    same_text(v->other, w->other))
			return true;
	}
	return false;
}

/* The first variable of c that does not differ as it does in parent,
 * or NULL when each does. parent may be NULL. */
static const struct replay_env_var *
own_var(const struct replay_env_change *c,
	const struct replay_env_change *parent)
{
	for (size_t i = 0; i < c->n_vars; i++) {
		if (!has_var(parent, &c->vars[i]))
			return &c->vars[i];
	}
	return NULL;
}

/* The closest ancestor of p that ran a program, whose environment p
 * started from, or NULL. A process that forked without an exec, such
 * as a subshell, has its parent's environment and no object of its
 * own. A parent starts before its child, so it has a lower index. Only
 * a damaged bundle has one that does not, and the walk stops there, so
 * that a loop of parents cannot hold it. */
static const struct replay_proc *env_parent(const struct replay_run *run,
					    const struct replay_proc *p)
{
	const struct replay_proc *up = p;

	do {
		const struct replay_proc *next =
			replay_run_by_index(run, up->parent);

		if (!next || next->index >= up->index)
			return NULL;
		up = next;
	} while (!up->env_ref[0]);
	return up;
}

/*
 * Compare the environments of a process's last execs, when both runs
 * had the sandbox's. A variable that differs as it does in the parent
 * process is shown at the parent only. Most processes of a run share a
 * few environments, stored once each, so the objects are loaded only
 * where their ids differ. A value that differs only in a temporary
 * directory's name or a timestamp is volatile, as in argv.
 */
static int compare_env(struct cmp_state *st, struct replay_step_cmp *sc,
		       const struct replay_proc *x,
		       const struct replay_proc *y)
{
	const struct replay_env_change *c, *pc = NULL;
	const struct replay_proc *px, *py;
	const struct replay_env_var *v;

	if (!x->env_ref[0] || !y->env_ref[0] ||
	    strcmp(x->env_ref, y->env_ref) == 0 ||
	    !env_from_policy(st->a) || !env_from_policy(st->b))
		return 0;
	if (env_change(st, x, y, NULL, &c) < 0)
		return -1;
	if (c->volatile_only)
		sc->volatile_procs++;
	if (!c->n_vars)
		return 0;

	px = env_parent(st->a, x);
	py = env_parent(st->b, y);
	if (px && py && env_change(st, px, py, c, &pc) < 0)
		return -1;
	v = own_var(c, pc);
	return v ? add_env(sc, x, v) : 0;
}

/* What a process ran: compared in the step it started in. */
static int compare_start(struct cmp_state *st, struct replay_step_cmp *sc,
			 const struct replay_proc *x,
			 const struct replay_proc *y)
{
	size_t before = sc->n_procs;
	char what[512];
	int rc;

	if (!y)
		return add_proc(sc, x, "missing",
				"did not run in the other "
				"run",
				x->command, NULL);
	rc = diverges(st, sc, x->argv, y->argv, "argv");
	if (rc < 0)
		return -1;
	if (rc)
		return add_argv(sc, x, y);
	if (x->exe_sha256 && y->exe_sha256 &&
	    strcmp(x->exe_sha256, y->exe_sha256) != 0) {
		snprintf(what, sizeof(what),
			 "ran another binary: %s has "
			 "sha256 %.12s, recorded %.12s",
			 y->exe_path ? y->exe_path : "?", y->exe_sha256,
			 x->exe_sha256);
		return add_proc(sc, x, "binary", what, x->exe_sha256,
				y->exe_sha256);
	}
	/* A changed script runs the same interpreter: its own hash counts. */
	if (x->script_sha256 && y->script_sha256 &&
	    strcmp(x->script_sha256, y->script_sha256) != 0) {
		snprintf(what, sizeof(what),
			 "ran another script: %s has "
			 "sha256 %.12s, recorded %.12s",
			 y->script_path ? y->script_path : "?",
			 y->script_sha256, x->script_sha256);
		return add_proc(sc, x, "binary", what, x->script_sha256,
				y->script_sha256);
	}
	rc = compare_cwd(st, sc, x, y);
	if (rc < 0 || sc->n_procs > before)
		return rc;
	return compare_env(st, sc, x, y);
}

/* How it ended: compared in the step it ended in, so the agent's own
 * status counts in the final step. */
static int compare_end(struct replay_step_cmp *sc, const struct replay_proc *x,
		       const struct replay_proc *y)
{
	char sx[96], sy[96], what[512];

	if (!y)
		return 0;
	replay_proc_status(x, sx, sizeof(sx));
	replay_proc_status(y, sy, sizeof(sy));
	if (strcmp(sx, sy) == 0)
		return 0;
	snprintf(what, sizeof(what), "%s, recorded %s", sy, sx);
	return add_proc(sc, x, "status", what, sx, sy);
}

/* A step of a run in the numbering of the comparison, where the final
 * step of each run is step n. A process still running at the end ends
 * in the final step. */
static size_t in_cmp(const struct replay_run *run, size_t step, size_t n)
{
	return step == 0 || step >= run->n_steps ? n : step;
}

int replay_compare_procs(struct cmp_state *st, struct replay_step_cmp *sc,
			 size_t n)
{
	const struct replay_run *a = st->a, *b = st->b;

	for (size_t i = 0; i < a->n_procs; i++) {
		const struct replay_proc *x = &a->procs[i];
		const struct replay_proc *y = st->pairs[i];

		if (in_cmp(a, x->step, n) == sc->step &&
		    compare_start(st, sc, x, y) < 0)
			return -1;
		if (in_cmp(a, x->end_step, n) == sc->step &&
		    compare_end(sc, x, y) < 0)
			return -1;
	}
	for (size_t i = 0; i < b->n_procs; i++) {
		const struct replay_proc *y = &b->procs[i];

		if (in_cmp(b, y->step, n) == sc->step && !st->b_paired[i] &&
		    add_proc(sc, y, "extra", "ran only in the other run", NULL,
			     y->command) < 0)
			return -1;
	}
	return 0;
}
