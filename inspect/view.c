/*
 * view.c - open a bundle read-only, parse its events and find its steps.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle/snapshot.h"
#include "bundle/verify.h"
#include "harness/error.h"
#include "harness/exchange_json.h"
#include "harness/json_bytes.h"
#include "inspect/error.h"
#include "inspect/view.h"

static int load_event(struct inspect_view *view, uint64_t seq)
{
	struct inspect_event *ev = &view->events[seq - 1];
	cJSON *json = bundle_get_event(view->bundle, seq), *data;
	const char *time;

	if (!json)
		return inspect_take_error(bundle_error(), bundle_error_hint());
	ev->seq = seq;
	ev->json = json;
	ev->kind = inspect_json_str(json, "kind");
	if (!cJSON_IsObject(json) || !ev->kind) {
		inspect_set_error("cannot read event: '%llu': it has no kind",
				  (unsigned long long)seq);
		inspect_set_hint("run 'runbundle verify' on the bundle");
		return -1;
	}
	time = inspect_json_str(json, "time");
	ev->time = time ? time : "";
	data = cJSON_GetObjectItemCaseSensitive(json, "data");
	ev->data = data;
	if (harness_json_decode_members(data, harness_event_text_members,
					HARNESS_EVENT_TEXT_MEMBERS) < 0) {
		inspect_set_error("cannot read event: '%llu': out of memory",
				  (unsigned long long)seq);
		return -1;
	}
	return 0;
}

static int add_step(struct inspect_view *view, uint64_t snapshot,
		    const char *at, int64_t exchange)
{
	struct bundle_snapshot snap;
	struct inspect_step *step;
	void *grown;

	if (bundle_snapshot_load(view->bundle, snapshot, &snap) < 0)
		return inspect_take_error(bundle_error(), bundle_error_hint());
	grown = realloc(view->steps, (view->n_steps + 1) * sizeof(*step));
	if (!grown) {
		inspect_set_error("cannot list steps: out of memory");
		return -1;
	}
	view->steps = grown;
	step = &view->steps[view->n_steps++];
	memset(step, 0, sizeof(*step));
	step->snapshot = snapshot;
	step->first = view->n_steps == 1 ? 1 : snapshot;
	step->root = snap.root;
	step->complete = snap.complete;
	step->exchange = exchange;
	snprintf(step->at, sizeof(step->at), "%s", at);
	return 0;
}

static int workspace_step(struct inspect_view *view,
			  const struct inspect_event *ev)
{
	const char *at = inspect_json_str(ev->data, "at");
	long long snapshot, exchange = -1;

	if (!at || inspect_json_int(ev->data, "snapshot", 1,
				    (long long)ev->seq - 1, &snapshot) < 0) {
		inspect_set_error("cannot read event: '%llu': a workspace "
				  "event without a valid snapshot",
				  (unsigned long long)ev->seq);
		return -1;
	}
	if (view->n_steps &&
	    view->steps[view->n_steps - 1].snapshot >= (uint64_t)snapshot) {
		inspect_set_error("cannot read event: '%llu': its snapshot "
				  "is not after the previous step's",
				  (unsigned long long)ev->seq);
		return -1;
	}
	/* Without a valid exchange seq, the step names none (-1). */
	inspect_json_int(ev->data, "exchange", 0, INT64_MAX, &exchange);
	return add_step(view, (uint64_t)snapshot, at, (int64_t)exchange);
}

static int find_steps(struct inspect_view *view)
{
	int recorded = inspect_view_first(view, "workspace") != NULL;
	const char *want = recorded ? "workspace" : "snapshot";

	for (size_t i = 0; i < view->n_events; i++) {
		const struct inspect_event *ev = &view->events[i];

		if (strcmp(ev->kind, want) != 0)
			continue;
		if (recorded ? workspace_step(view, ev) < 0 :
			       add_step(view, ev->seq, "snapshot", -1) < 0)
			return -1;
	}
	return 0;
}

static void assign_steps(struct inspect_view *view)
{
	size_t step = 0;

	for (size_t i = 0; i < view->n_events; i++) {
		while (step + 1 < view->n_steps &&
		       view->steps[step + 1].first <= view->events[i].seq)
			step++;
		view->events[i].step = step;
	}
}

/*
 * Store why the bundle at path cannot be opened, as runbundle verify
 * words it. For a file shorter than its header records, SQLite reports
 * "database disk image is malformed", and verify names the truncation
 * and its fix instead. Returns -1.
 */
int inspect_open_error(const char *path)
{
	struct bundle_verify_report report;

	inspect_take_error(bundle_error(), bundle_error_hint());
	if (bundle_verify_events(path, &report) == 0) {
		bundle_verify_release(&report);
		return -1;
	}
	/* verify opens the bundle the same way after checking the file's
	 * size, so it fails with the same message, and its hint is kept,
	 * unless that check found the truncation. */
	if (strcmp(bundle_error(), inspect_error()) != 0)
		inspect_take_error(bundle_error(), bundle_error_hint());
	return -1;
}

/* Make room for one more zeroed event than the view has. The array grows
 * with the events read, because a damaged last row can have seq 2^63 - 1. */
static int grow_events(struct inspect_view *view, size_t *cap)
{
	struct inspect_event *grown;
	size_t more;

	if (view->n_events + 1 <= *cap)
		return 0;
	more = *cap ? *cap : 256;
	grown = realloc(view->events, (*cap + more) * sizeof(*grown));
	if (!grown)
		return -1;
	memset(grown + *cap, 0, more * sizeof(*grown));
	view->events = grown;
	*cap += more;
	return 0;
}

int inspect_view_open(struct inspect_view *view, const char *path)
{
	uint64_t count;
	size_t cap = 0;

	memset(view, 0, sizeof(*view));
	view->bundle = bundle_open(path, BUNDLE_READ);
	if (!view->bundle)
		return inspect_open_error(path);
	view->finalized = bundle_is_finalized(view->bundle);
	if (view->finalized && bundle_root(view->bundle, &view->root) == 0)
		view->has_root = 1;
	count = bundle_event_count(view->bundle);
	for (view->n_events = 0; view->n_events < count; view->n_events++) {
		if (grow_events(view, &cap) < 0) {
			inspect_set_error("cannot read bundle: '%s': out of "
					  "memory", path);
			goto fail;
		}
		if (load_event(view, view->n_events + 1) < 0)
			goto fail;
	}
	if (grow_events(view, &cap) < 0) {
		inspect_set_error("cannot read bundle: '%s': out of memory",
				  path);
		goto fail;
	}
	if (find_steps(view) < 0)
		goto fail;
	assign_steps(view);
	return 0;
fail:
	inspect_view_close(view);
	return -1;
}

void inspect_view_close(struct inspect_view *view)
{
	for (size_t i = 0; i < view->n_events; i++)
		cJSON_Delete(view->events[i].json);
	if (view->events &&
	    view->events[view->n_events].json)
		cJSON_Delete(view->events[view->n_events].json);
	free(view->events);
	free(view->steps);
	bundle_close(view->bundle);
	memset(view, 0, sizeof(*view));
}

const struct inspect_event *inspect_view_event(const struct inspect_view *v,
					       uint64_t seq)
{
	if (seq < 1 || seq > v->n_events) {
		inspect_set_error("no such event: '%llu': the bundle has "
				  "events 1 to %zu", (unsigned long long)seq,
				  v->n_events);
		inspect_set_hint("'runbundle log' lists the events");
		return NULL;
	}
	return &v->events[seq - 1];
}

static int parse_count(const char *name, unsigned long long *out)
{
	char *end;

	if (name[0] < '0' || name[0] > '9')
		return -1;
	*out = strtoull(name, &end, 10);
	return *end ? -1 : 0;
}

int inspect_view_step(const struct inspect_view *view, const char *name,
		      size_t *step)
{
	unsigned long long n;

	if (view->n_steps == 0) {
		inspect_set_error("no such step: '%s': the bundle has no "
				  "snapshot", name);
		return -1;
	}
	if (strcmp(name, "initial") == 0) {
		*step = 0;
		return 0;
	}
	if (strcmp(name, "final") == 0 || strcmp(name, "latest") == 0) {
		*step = view->n_steps - 1;
		return 0;
	}
	if (parse_count(name, &n) < 0 || n >= view->n_steps) {
		inspect_set_error("no such step: '%s': the bundle has steps "
				  "0 to %zu", name, view->n_steps - 1);
		inspect_set_hint("name a step by number, or 'initial' or "
				 "'final'");
		return -1;
	}
	*step = (size_t)n;
	return 0;
}

int inspect_view_ref(const struct inspect_view *view,
		     const struct inspect_event *ev, size_t i, void **data,
		     size_t *len)
{
	const cJSON *refs = cJSON_GetObjectItemCaseSensitive(ev->json, "refs");
	const cJSON *ref = cJSON_GetArrayItem(refs, (int)i);
	struct bundle_id id;

	if (!cJSON_IsString(ref) ||
	    bundle_id_from_hex(&id, ref->valuestring) < 0) {
		inspect_set_error("cannot read event: '%llu': it has no "
				  "reference %zu", (unsigned long long)ev->seq,
				  i);
		return -1;
	}
	if (bundle_get(view->bundle, &id, data, len, NULL) < 0)
		return inspect_take_error(bundle_error(), bundle_error_hint());
	return 0;
}

int inspect_view_ref_json(const struct inspect_view *view,
			  const struct inspect_event *ev, size_t i,
			  cJSON **json)
{
	void *data;
	size_t len;

	if (inspect_view_ref(view, ev, i, &data, &len) < 0)
		return -1;
	*json = cJSON_ParseWithLength(data, len);
	free(data);
	if (!*json) {
		inspect_set_error("cannot read event: '%llu': what it "
				  "references is not JSON",
				  (unsigned long long)ev->seq);
		return -1;
	}
	return 0;
}

int inspect_view_exchange(const struct inspect_view *view,
			  const struct inspect_event *ev,
			  struct harness_exchange *ex)
{
	void *data;
	size_t len;
	int rc;

	if (inspect_view_ref(view, ev, 0, &data, &len) < 0)
		return -1;
	if (strlen(data) != len) {
		free(data);
		inspect_set_error("cannot read exchange: '%llu': it contains "
				  "a NUL byte", (unsigned long long)ev->seq);
		return -1;
	}
	rc = harness_exchange_take_json(data, ex);
	if (rc < 0)
		return inspect_take_error(harness_error(),
					  harness_error_hint());
	return 0;
}

const struct inspect_event *inspect_view_first(const struct inspect_view *v,
					       const char *kind)
{
	for (size_t i = 0; i < v->n_events; i++) {
		if (strcmp(v->events[i].kind, kind) == 0)
			return &v->events[i];
	}
	return NULL;
}

const struct inspect_event *inspect_view_last(const struct inspect_view *v,
					      const char *kind)
{
	for (size_t i = v->n_events; i > 0; i--) {
		if (strcmp(v->events[i - 1].kind, kind) == 0)
			return &v->events[i - 1];
	}
	return NULL;
}
