/*
 * record_snapshot.c - snapshots of the workspace and of the HOME seed,
 * each followed by an event that records why it was taken and what
 * changed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle/snapshot.h"
#include "cli/cli.h"
#include "record/record.h"
#include "record/record_progress.h"
#include "record/record_run.h"

/* The changed paths listed in one event; the counts go on. A path is
 * listed whole or not at all. The byte limit bounds the event, because
 * 1000 paths of 512 levels of 255-byte names take about 130 MB. */
#define MAX_LISTED 1000
#define MAX_LISTED_BYTES (1u << 20)

struct changes {
	uint64_t added, modified, deleted, mode;
	cJSON *paths;
	uint64_t listed;
	size_t listed_bytes;
	int full; /* set when a path did not fit, so no later one is listed */
};

static int on_change(const unsigned char *path, size_t len,
		     enum bundle_change change,
		     const struct bundle_tree_entry *old,
		     const struct bundle_tree_entry *new, void *arg)
{
	struct changes *c = arg;
	char code[2] = { (char)change, '\0' }, *escaped;
	size_t escaped_len;
	cJSON *item;

	(void)old;
	(void)new;
	if (change == BUNDLE_CHANGE_ADDED)
		c->added++;
	else if (change == BUNDLE_CHANGE_DELETED)
		c->deleted++;
	else if (change == BUNDLE_CHANGE_MODE)
		c->mode++;
	else
		c->modified++;
	if (!c->paths || c->full || c->listed == MAX_LISTED)
		return 0;
	escaped = bundle_name_escape_dup(path, len);
	escaped_len = escaped ? strlen(escaped) : 0;
	if (!escaped || escaped_len > MAX_LISTED_BYTES - c->listed_bytes) {
		/* A later path listed after a missing one would break the
		 * list's tree order: "truncated" covers the rest. */
		free(escaped);
		c->full = 1;
		return 0;
	}
	item = cJSON_CreateArray();
	cJSON_AddItemToArray(item, cJSON_CreateString(code));
	cJSON_AddItemToArray(item, cJSON_CreateString(escaped));
	cJSON_AddItemToArray(c->paths, item);
	free(escaped);
	c->listed++;
	c->listed_bytes += escaped_len;
	return 0;
}

static uint64_t changes_total(const struct changes *c)
{
	return c->added + c->modified + c->deleted + c->mode;
}

static void add_changes(cJSON *data, const struct changes *c)
{
	cJSON *obj = cJSON_AddObjectToObject(data, "changes");

	cJSON_AddNumberToObject(obj, "added", (double)c->added);
	cJSON_AddNumberToObject(obj, "modified", (double)c->modified);
	cJSON_AddNumberToObject(obj, "deleted", (double)c->deleted);
	cJSON_AddNumberToObject(obj, "mode", (double)c->mode);
	cJSON_AddItemToObject(obj, "paths", c->paths);
	cJSON_AddBoolToObject(obj, "truncated",
			      changes_total(c) > c->listed);
}

/* Count the paths changed from old to new; 0 or -1 (session failed). */
static int diff_locked(struct record_session *s, const struct bundle_id *old,
		       const struct bundle_id *new, struct changes *c)
{
	if (bundle_snapshot_diff(s->bundle, old, new, on_change, c) < 0) {
		record_fail_locked(s, bundle_error(), bundle_error_hint());
		return -1;
	}
	return 0;
}

struct take {
	struct record_session *session;
	struct record_progress progress;
};

/* After each directory, and between large files: the progress line, and
 * while the session starts or ends, the signals that stop it (a second
 * one ends runbundle at once). */
static void on_progress(const struct bundle_snapshot_stats *stats, void *arg)
{
	struct take *t = arg;

	if (t->session->starting)
		record_signals_poll(t->session);
	else if (t->session->ending)
		record_signals_poll_ending(t->session);
	record_progress_update(&t->progress, stats);
}

/* Return whether path is new to the session's list of unreadable paths,
 * adding it. A path that cannot be stored counts as new. */
static bool first_unreadable(struct record_session *s, const char *path)
{
	char **grown, *copy;

	for (size_t i = 0; i < s->n_unreadable; i++) {
		if (strcmp(s->unreadable[i], path) == 0)
			return false;
	}
	grown = realloc(s->unreadable,
			(s->n_unreadable + 1) * sizeof(*grown));
	copy = grown ? strdup(path) : NULL;
	if (grown)
		s->unreadable = grown;
	if (copy)
		s->unreadable[s->n_unreadable++] = copy;
	return true;
}

/*
 * Warn once per path about an entry that the snapshot could not read:
 * the bundle stores it as an error entry, without content, so neither
 * cat nor replay can show or compare it. A file that kept changing is
 * recorded as such and needs no warning.
 */
static void on_problem(const char *path, enum bundle_entry_kind kind,
		       const char *why, void *arg)
{
	struct take *t = arg;

	if (kind != BUNDLE_ENTRY_ERROR || !first_unreadable(t->session, path))
		return;
	record_progress_end(&t->progress);
	if (t->session->config->replaying) {
		cli_error("warning: cannot read: '%s': %s: not compared with "
			  "the recording", path, why);
		cli_hint("replay as a user who can read it, such as the one "
			 "who recorded the run");
		return;
	}
	cli_error("warning: cannot read: '%s': %s: recorded without its "
		  "content", path, why);
	cli_hint("make it readable to the user who runs runbundle record, "
		 "or exclude it with the policy's snapshot.exclude");
}

/* Snapshot dir with the n excludes at excludes. */
static int take_locked(struct record_session *s, const char *dir,
		       const char *what, char *const *excludes, size_t n,
		       struct bundle_snapshot *snap)
{
	const struct sandbox_strings *hidden =
		&s->config->policy->workspace_hidden;
	bool workspace = dir == s->config->workspace;
	struct take t = { .session = s };
	struct bundle_snapshot_options o = {
		.excludes = (const char *const *)excludes,
		.n_excludes = n,
		/* Only the workspace has directories made for the run, and
		 * hidden parts, which the bundle must not reveal either. */
		.absent_if_empty = workspace ? s->created_dirs : NULL,
		.n_absent_if_empty = workspace ? s->n_created_dirs : 0,
		.hidden = workspace ? (const char *const *)hidden->items
				    : NULL,
		.n_hidden = workspace ? hidden->count : 0,
		.on_progress = on_progress,
		.on_problem = on_problem,
		.arg = &t,
	};
	int rc;

	record_flush_locked(s);
	if (s->failed)
		return -1;
	record_progress_begin(&t.progress, what);
	rc = bundle_snapshot_take(s->bundle, dir, &o, snap);
	record_progress_end(&t.progress);
	if (rc < 0) {
		record_fail_locked(s, bundle_error(), bundle_error_hint());
		return -1;
	}
	record_count(s, &s->counts.snapshots, 1);
	return 0;
}

static cJSON *snapshot_data(const char *at, uint64_t exchange,
			    const struct bundle_snapshot *snap)
{
	cJSON *data = cJSON_CreateObject();
	char hex[BUNDLE_ID_HEX_LEN + 1];

	bundle_id_to_hex(&snap->root, hex);
	cJSON_AddStringToObject(data, "at", at);
	cJSON_AddNumberToObject(data, "snapshot", (double)snap->seq);
	cJSON_AddStringToObject(data, "root", hex);
	cJSON_AddBoolToObject(data, "complete", snap->complete);
	if (exchange)
		cJSON_AddNumberToObject(data, "exchange", (double)exchange);
	return data;
}

static int workspace_locked(struct record_session *s, const char *at,
			    uint64_t exchange)
{
	struct bundle_snapshot snap;
	struct changes c = { 0 };
	bool initial = strcmp(at, "initial") == 0;
	cJSON *data;
	int rc = -1;

	if (take_locked(s, s->config->workspace, "the workspace", s->excludes,
			s->n_excludes, &snap) < 0)
		return -1;
	data = snapshot_data(at, exchange, &snap);
	c.paths = cJSON_CreateArray();
	if (!initial && diff_locked(s, &s->last_root, &snap.root, &c) < 0)
		goto out;
	add_changes(data, &c);
	c.paths = NULL;
	if (initial) {
		s->initial_seq = snap.seq;
		s->initial_root = snap.root;
	}
	s->last_root = snap.root;
	rc = record_event_locked(s, "workspace", data, NULL, NULL, 0, NULL);
	if (rc == 0 && strcmp(at, "final") == 0) {
		struct changes total = { 0 };

		rc = diff_locked(s, &s->initial_root, &snap.root, &total);
		record_count(s, &s->counts.files_changed,
			     changes_total(&total));
	}
out:
	cJSON_Delete(c.paths);
	cJSON_Delete(data);
	return rc;
}

int record_snapshot_workspace(struct record_session *s, const char *at,
			      uint64_t exchange)
{
	int rc;

	pthread_mutex_lock(&s->lock);
	rc = workspace_locked(s, at, exchange);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int record_snapshot_home(struct record_session *s, const char *dir)
{
	struct bundle_snapshot snap;
	cJSON *data;
	int rc = -1;

	pthread_mutex_lock(&s->lock);
	if (take_locked(s, dir, "the HOME seed",
			s->excludes, s->n_excludes, &snap) == 0) {
		data = snapshot_data("initial", 0, &snap);
		cJSON_AddStringToObject(data, "path", dir);
		rc = record_event_locked(s, "home", data, NULL, NULL, 0, NULL);
		cJSON_Delete(data);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}
