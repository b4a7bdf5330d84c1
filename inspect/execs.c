/*
 * execs.c - tell PATH lookups from failed execs, and pair a refused
 * exec's two events (execs.h).
 */
#include <stdlib.h>
#include <string.h>

#include "inspect/error.h"
#include "inspect/execs.h"

/* The process index of an exec or violation event, or -1 when it has
 * none that a valid bundle could hold: processes are numbered from 0 in
 * order of start, so an index is below the number of events. */
static long process_index(const struct inspect_view *v,
			  const struct inspect_event *ev)
{
	long long index;

	if (inspect_json_int(ev->data, "index", 0, (long long)v->n_events - 1,
			     &index) < 0)
		return -1;
	return (long)index;
}

unsigned char *inspect_exec_lookups(const struct inspect_view *v)
{
	unsigned char *lookups = calloc(v->n_events ? v->n_events : 1, 1);
	unsigned char *later = calloc(v->n_events ? v->n_events : 1, 1);

	if (!lookups || !later) {
		free(lookups);
		free(later);
		inspect_set_error("cannot count the execs: out of memory");
		return NULL;
	}

	/* Backwards, so later[index] is set when that process makes an
	 * exec attempt after the event at hand. */
	for (size_t i = v->n_events; i-- > 0;) {
		const struct inspect_event *ev = &v->events[i];
		long index;

		if (strcmp(ev->kind, "exec") != 0)
			continue;
		index = process_index(v, ev);
		if (index < 0)
			continue;
		if (inspect_json_str(ev->data, "error") && later[index])
			lookups[i] = 1;
		later[index] = 1;
	}
	free(later);
	return lookups;
}

/* Return whether the failed exec event ev is the attempt that the exec
 * violation viol reports. */
static int reports(const struct inspect_event *viol,
		   const struct inspect_event *ev)
{
	const char *path = inspect_json_str(ev->data, "path");
	const char *command = inspect_json_str(viol->data, "command");

	return path && command && inspect_json_str(ev->data, "error") &&
	       strcmp(path, command) == 0;
}

size_t *inspect_exec_violations(const struct inspect_view *v)
{
	size_t n = v->n_events ? v->n_events : 1;
	size_t *pairs = calloc(n, sizeof(*pairs));
	size_t *last = calloc(n, sizeof(*last));

	if (!pairs || !last) {
		free(pairs);
		free(last);
		inspect_set_error("cannot count the execs: out of memory");
		return NULL;
	}

	/* last[index] is the position plus 1 of that process's last exec
	 * event that no violation has claimed yet. */
	for (size_t i = 0; i < v->n_events; i++) {
		const struct inspect_event *ev = &v->events[i];
		long index = process_index(v, ev);
		const char *source = inspect_json_str(ev->data, "source");

		if (index < 0)
			continue;
		if (strcmp(ev->kind, "exec") == 0) {
			last[index] = i + 1;
		} else if (strcmp(ev->kind, "violation") == 0 && source &&
			   strcmp(source, "exec") == 0 && last[index] &&
			   reports(ev, &v->events[last[index] - 1])) {
			pairs[i] = last[index];
			pairs[last[index] - 1] = i + 1;
			last[index] = 0;
		}
	}
	free(last);
	return pairs;
}
