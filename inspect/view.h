/*
 * view.h - a bundle opened for reading by the inspect commands: its
 * events parsed once, grouped into steps, with helpers to load what an
 * event references. The other read-only commands (gate, apply, report)
 * use the same view, so that every command agrees on what a step is.
 *
 * Steps. A step is one workspace snapshot and the events that follow it
 * up to the next one. A recorded bundle has "workspace" events
 * (docs/record.md): step 0 is the initial snapshot, step N the snapshot
 * taken before model request N, and the last step the final snapshot. A
 * bundle without them (one written by "runbundle snapshot") has one step
 * per snapshot event. Events before the first snapshot belong to step 0.
 *
 * Invariants, checked by inspect_view_open():
 *  1. events[i].seq == i + 1, and every event is a JSON object with a
 *     string "kind"; "data", when present, is any JSON value.
 *  2. Steps are in event order, and every step names a snapshot event
 *     that exists and whose root tree id parses.
 *  3. Nothing is written: the bundle is opened with BUNDLE_READ, so an
 *     incomplete bundle opens too (view->finalized is 0).
 *
 * Memory: every event is kept parsed, 2.5 to 3 KiB per event as
 * measured on runs of 4,000 requests and of 10,000 processes. Objects
 * are loaded one at a time, on request. NOTE: a reader of a run of a
 * million events therefore needs about 3 GiB, even for one event. Everything returned through
 * out parameters belongs to the caller unless stated otherwise.
 *
 * Errors: functions return 0, or -1 with the message in inspect_error().
 */
#ifndef INSPECT_VIEW_H
#define INSPECT_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "bundle/bundle.h"
#include "harness/exchange.h"

struct inspect_event {
	uint64_t seq;
	const char *kind;   /* points into json */
	const char *time;   /* RFC 3339, or "" */
	cJSON *json;	    /* the whole event, owned by the view */
	const cJSON *data;  /* its "data", or NULL */
	size_t step;	    /* index into view->steps; 0 without steps */
};

struct inspect_step {
	uint64_t snapshot;     /* the snapshot event */
	uint64_t first;	       /* first event of the step */
	struct bundle_id root; /* root tree of the snapshot */
	char at[16];	       /* "initial", "request", "final", "snapshot" */
	int64_t exchange;      /* "request": the exchange's seq, else -1 */
	int complete;	       /* the snapshot has no unreadable entry */
};

struct inspect_view {
	struct bundle *bundle;
	struct inspect_event *events;
	size_t n_events;
	struct inspect_step *steps;
	size_t n_steps;
	int finalized;
	int has_root;
	struct bundle_id root; /* root digest when finalized */
};

/* Store the error of a failed bundle_open() on path, as runbundle
 * verify prints it. Returns -1. */
int inspect_open_error(const char *path);

/* Open path read-only and parse every event. */
int inspect_view_open(struct inspect_view *view, const char *path);

/* Close and free; accepts a zeroed view. */
void inspect_view_close(struct inspect_view *view);

/* Event seq, or NULL (with an error set) when out of range. */
const struct inspect_event *inspect_view_event(const struct inspect_view *v,
					       uint64_t seq);

/*
 * Find a step by name: "initial" (step 0), "final" (the last), or a
 * decimal step number. Fails, naming the value and the range, when the
 * bundle has no such step.
 */
int inspect_view_step(const struct inspect_view *view, const char *name,
		      size_t *step);

/* Load reference i of event ev. *data is malloc'd, NUL-terminated. */
int inspect_view_ref(const struct inspect_view *view,
		     const struct inspect_event *ev, size_t i, void **data,
		     size_t *len);

/* Load reference i of event ev and parse it as JSON (cJSON_Delete). */
int inspect_view_ref_json(const struct inspect_view *view,
			  const struct inspect_event *ev, size_t i,
			  cJSON **json);

/* Load the exchange that an "exchange" event references; release *ex
 * with harness_exchange_release(). */
int inspect_view_exchange(const struct inspect_view *view,
			  const struct inspect_event *ev,
			  struct harness_exchange *ex);

/* The first event of kind, or NULL. */
const struct inspect_event *inspect_view_first(const struct inspect_view *v,
					       const char *kind);

/* The last event of kind, or NULL. */
const struct inspect_event *inspect_view_last(const struct inspect_view *v,
					      const char *kind);

/* Small readers of untrusted JSON: NULL or the fallback when the member
 * is missing or of another type. */
const char *inspect_json_str(const cJSON *obj, const char *name);
double inspect_json_num(const cJSON *obj, const char *name, double fallback);
int inspect_json_bool(const cJSON *obj, const char *name, int fallback);

/*
 * Read the member name of obj as an integer from min to max into *out.
 * Returns 0, or -1 with *out unchanged when the member is missing, not
 * a JSON number, not a whole number or out of range. A bundle is
 * untrusted, and casting a double that does not fit the integer type is
 * undefined behaviour, so readers use this in place of a cast.
 */
int inspect_json_int(const cJSON *obj, const char *name, long long min,
		     long long max, long long *out);

/* The largest exit status that wait(2) reports, so the largest valid
 * "exit_code" of an event. */
#define INSPECT_EXIT_CODE_MAX 255

/* Return the "exit_code" of an event's data (an "end" or a
 * "process-end" event): 0 to INSPECT_EXIT_CODE_MAX, or -1 when it is
 * missing or not such an integer (inspect_json_int()). */
int inspect_json_exit_code(const cJSON *data);

#endif
