/*
 * divergences.c - the comparison of a replay with its recording, stored
 * in the replay's own bundle as "divergence" events before the bundle
 * is finalized. The bundle alone then shows that the replay diverged
 * and where, which gate's "diverged" rule reads.
 *
 * The comparison runs when the agent has ended but before the recorder
 * takes the final snapshot, writes the final fingerprint and finalizes:
 * a finalized bundle is never written again. So the final step is
 * completed here from what the session already knows: the exit status,
 * the executables (the fingerprint in memory) and a snapshot of the
 * workspace as it is now, taken into a scratch bundle. The recorder's
 * final snapshot that follows has the same root, because nothing runs
 * in between and both leave out the session's excludes and the
 * policy's hidden parts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle/snapshot.h"
#include "harness/error.h"
#include "record/record.h"
#include "record/record_run.h"
#include "replay/printed.h"
#include "replay/session.h"

/* The final workspace, snapshotted into a scratch bundle in dir. */
struct scratch {
	char path[4200];
	struct bundle *bundle;
	struct bundle_id root;
};

/* NOTE: the workspace is read and hashed twice at the end of a replay,
 * here and in the recorder's final snapshot, which costs time on a
 * large workspace. */
static int take_final(struct record_session *s, const char *dir,
		      struct scratch *sc)
{
	const struct sandbox_strings *hidden =
		&s->config->policy->workspace_hidden;
	struct bundle_snapshot_options o = {
		.excludes = (const char *const *)s->excludes,
		.n_excludes = s->n_excludes,
		.hidden = (const char *const *)hidden->items,
		.n_hidden = hidden->count,
	};
	struct bundle_snapshot snap;

	snprintf(sc->path, sizeof(sc->path), "%s/final.rb", dir);
	sc->bundle = bundle_create(sc->path, NULL);
	if (!sc->bundle ||
	    bundle_snapshot_take(sc->bundle, s->config->workspace, &o,
				 &snap) < 0) {
		replay_set_error("cannot compare the final workspace: %s",
				 bundle_error());
		return -1;
	}
	sc->root = snap.root;
	return 0;
}

/* The replay so far, read back from its bundle, with the final step
 * completed from the session. */
static struct replay_run *load_so_far(struct record_session *s,
				      const struct scratch *sc, int exit_code)
{
	struct replay_run *b = replay_run_load(s->config->output);
	struct replay_step *final;

	if (!b)
		return NULL;
	if (replay_run_use_fingerprint(b, s->fingerprint) < 0) {
		replay_run_free(b);
		return NULL;
	}
	final = &b->steps[b->n_steps - 1];
	final->root = sc->root;
	final->has_root = true;
	final->objects = sc->bundle;
	b->ended = true;
	b->exit_code = exit_code;
	return b;
}

/* Store one "divergence" event with data and obj (NULL for none), and
 * free both. Returns 0, or -1 with the error set. */
static int store_event(struct record_session *s, cJSON *data, cJSON *obj,
		       bool needs_obj)
{
	int rc = -1;

	if (data && (obj || !needs_obj))
		rc = record_event(s, "divergence", data, obj, NULL, 0, NULL);
	cJSON_Delete(obj);
	cJSON_Delete(data);
	if (rc < 0)
		replay_set_error("%s", s->failure[0] ? s->failure
						     : "cannot store a "
						       "divergence: out of "
						       "memory");
	return rc;
}

/* One event for each step that diverged, with the step's comparison,
 * as replay --json prints it, as its object. */
static int store(struct record_session *s, const struct replay_comparison *cmp)
{
	for (size_t i = 0; i < cmp->n_steps; i++) {
		const struct replay_step_cmp *sc = &cmp->steps[i];
		cJSON *data, *obj;

		if (sc->verdict != REPLAY_DIVERGED)
			continue;
		obj = replay_step_json(sc);
		data = cJSON_CreateObject();
		cJSON_AddStringToObject(data, "verdict", "diverged");
		cJSON_AddStringToObject(data, "source", "comparison");
		cJSON_AddNumberToObject(data, "step", (double)sc->step);
		cJSON_AddBoolToObject(data, "final", sc->final);
		cJSON_AddBoolToObject(data, "first", sc->step == cmp->first);
		if (store_event(s, data, obj, true) < 0)
			return -1;
	}
	return 0;
}

/* With --compare-output, one event for what the agent printed, when it
 * differs: data "source" "output" and the streams that differ, and the
 * "output" member of replay --json as its object. */
static int store_output(struct record_session *s, const struct replay_run *a,
			const struct replay_run *b)
{
	struct replay_output_cmp out;
	cJSON *data, *obj, *streams;

	if (!a->compare_output)
		return 0;
	if (replay_compare_output(a, b, &out) < 0)
		return -1;
	if (!replay_output_differs(&out)) {
		replay_output_release(&out);
		return 0;
	}
	obj = replay_output_json(&out, true);
	data = cJSON_CreateObject();
	cJSON_AddStringToObject(data, "verdict", "diverged");
	cJSON_AddStringToObject(data, "source", "output");
	streams = cJSON_AddArrayToObject(data, "streams");
	for (int i = 0; i < 2; i++) {
		if (out.streams[i].differs)
			cJSON_AddItemToArray(streams, cJSON_CreateString(
					     replay_stream_name(i)));
	}
	replay_output_release(&out);
	return store_event(s, data, obj, true);
}

/*
 * A comparison that could not run stores a divergence of verdict
 * "unknown" with the reason, so that gate rejects the bundle rather than
 * pass a replay that was never compared. The replay's own report compares
 * again once the bundle is finalized.
 */
int replay_store_not_compared(struct record_session *s, const char *why)
{
	cJSON *data = cJSON_CreateObject();

	cJSON_AddStringToObject(data, "verdict", "unknown");
	cJSON_AddStringToObject(data, "source", "comparison");
	cJSON_AddStringToObject(data, "error", why);
	return store_event(s, data, NULL, false);
}

static int store_failure(struct record_session *s)
{
	char *message = strdup(replay_error());
	int rc = replay_store_not_compared(s, message ? message
						       : "out of memory");

	free(message);
	return rc;
}

/*
 * The agent's own exec failed in the replay (ENOENT for a program or an
 * interpreter missing here) while it succeeded at recording: nothing of
 * the run happened, so the replay could not run rather than diverged.
 */
static bool agent_not_run(const struct replay_run *a,
			  const struct replay_run *b,
			  struct replay_outcome *out)
{
	const struct replay_proc *x = replay_run_find(a, "0");
	const struct replay_proc *y = replay_run_find(b, "0");
	const char *path;

	if (!x || !y || !x->exec_seq || x->exec_error || !y->exec_error)
		return false;
	/* The failed exec names the path it tried; the recording's names
	 * the interpreter of a script. */
	path = y->exe_path;
	if (!path)
		path = x->exe_path ? x->exe_path : "?";
	if (strcmp(y->exec_error, "ENOENT") == 0)
		snprintf(out->why, sizeof(out->why),
			 "cannot run the agent: '%s': it is not found in the "
			 "replay's sandbox on this machine (ENOENT), or its "
			 "interpreter is not", path);
	else
		snprintf(out->why, sizeof(out->why),
			 "cannot run the agent: '%s': its exec failed in the "
			 "replay's sandbox with %s, and succeeded at recording",
			 path, y->exec_error);
	out->not_run = true;
	return true;
}

int replay_store_divergences(struct record_session *s,
			     const struct replay_run *a, int exit_code,
			     const char *dir, struct replay_outcome *out)
{
	struct scratch sc = {0};
	struct replay_comparison cmp;
	struct replay_run *b = NULL;
	int rc = -1;

	record_writer_stop(s);
	if (record_add_executables(s) < 0) {
		replay_set_error("cannot compare the executables: %s",
				 harness_error());
		return store_failure(s);
	}
	if (take_final(s, dir, &sc) == 0 &&
	    (b = load_so_far(s, &sc, exit_code)) && agent_not_run(a, b, out)) {
		rc = replay_store_not_compared(s, out->why);
	} else if (b && replay_compare(a, b, &cmp) == 0) {
		rc = store(s, &cmp);
		replay_comparison_release(&cmp);
		if (rc == 0 && store_output(s, a, b) < 0)
			rc = store_failure(s);
	} else {
		rc = store_failure(s);
	}
	replay_run_free(b);
	bundle_close(sc.bundle);
	if (sc.path[0])
		unlink(sc.path);
	strncat(sc.path, "-wal", sizeof(sc.path) - strlen(sc.path) - 1);
	unlink(sc.path);
	return rc;
}
