/*
 * compare_procs.c - the processes' part of the step-by-step comparison:
 * each recorded process against its counterpart (pair.c), by argv,
 * binary, working directory and exit status.
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

/*
 * Make a JSON string of the other run's cwd with its workspace's path
 * replaced by the recording's. A replay without a sandbox runs in a
 * directory of its own, so the two paths differ there. In the sandbox
 * both runs have the recorded path. NULL when out of memory.
 */
static cJSON *cwd_as_recorded(const struct cmp_state *st, const char *cwd)
{
	const cJSON *from = cJSON_GetObjectItem(st->b->record, "workspace");
	const cJSON *to = cJSON_GetObjectItem(st->a->record, "workspace");
	size_t n = cJSON_IsString(from) ? strlen(from->valuestring) : 0;
	cJSON *mapped;
	char *joined;

	if (!n || !cJSON_IsString(to) ||
	    strncmp(cwd, from->valuestring, n) != 0 ||
	    (cwd[n] != '/' && cwd[n] != '\0'))
		return cJSON_CreateString(cwd);
	if (asprintf(&joined, "%s%s", to->valuestring, cwd + n) < 0)
		return NULL;
	mapped = cJSON_CreateString(joined);
	free(joined);
	return mapped;
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
	other = cwd_as_recorded(st, y->cwd);
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

/* What a process ran: compared in the step it started in. */
static int compare_start(struct cmp_state *st, struct replay_step_cmp *sc,
			 const struct replay_proc *x,
			 const struct replay_proc *y)
{
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
	return compare_cwd(st, sc, x, y);
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
