/*
 * execs.h - which failed exec attempts of a run are PATH lookups.
 *
 * execvp(3) and the shells try each directory of PATH in turn, so a
 * healthy "sh" can leave "ENOENT /usr/local/sbin/sh" and two more failed
 * attempts before /usr/bin/sh runs. A failed attempt is a PATH lookup
 * when the same process (the exec event's "index") makes its next exec
 * attempt, successful or not, at the same name (the last component of
 * the path) in another place: the same path again is a retry, which
 * counts as an attempt of its own. Only the last failed attempt of a
 * search counts as a failed exec. inspect, log and gate use this one
 * rule, so that they agree on what failed.
 *
 * An exec that the sandbox refused is one attempt too, although it has
 * an exec event and a violation event, so gate counts it once.
 */
#ifndef INSPECT_EXECS_H
#define INSPECT_EXECS_H

#include "inspect/view.h"

/*
 * Mark the PATH lookups among the events of v: returns an array of
 * v->n_events flags (malloc'd, the caller frees it), nonzero at the
 * position of each failed exec event that is a lookup. Returns NULL
 * with the message in inspect_error() when memory runs out.
 */
unsigned char *inspect_exec_lookups(const struct inspect_view *v);

/* Return the process index of an exec or violation event, or -1 when it
 * has none that a valid bundle could hold: processes are numbered from
 * 0 in order of start, so an index is below the number of events. */
long inspect_exec_process(const struct inspect_view *v,
			  const struct inspect_event *ev);

/*
 * Pair each exec violation of v with the failed exec event that it
 * reports. The tracer writes an exec event for every attempt and, for
 * one that the sandbox refused, a "violation" event from "exec" after
 * it, with the same process "index" and the attempt's path as
 * "command". Returns an array of v->n_events positions (malloc'd, the
 * caller frees it): at each event of a pair, the position of the other
 * plus 1, and 0 elsewhere, which includes a violation without its exec
 * event. Returns NULL with the message in inspect_error() when memory
 * runs out.
 */
size_t *inspect_exec_violations(const struct inspect_view *v);

#endif
