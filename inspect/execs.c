/*
 * execs.c - tell PATH lookups from failed execs (execs.h).
 */
#include <stdlib.h>
#include <string.h>

#include "inspect/error.h"
#include "inspect/execs.h"

/* The process index of an exec event, or -1 when it has none that a
 * valid bundle could hold: processes are numbered from 0 in order of
 * start, so an index is below the number of events. */
static long process_index(const struct inspect_view *v,
			  const struct inspect_event *ev)
{
	double index = inspect_json_num(ev->data, "index", -1);

	if (index < 0 || index >= (double)v->n_events)
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
