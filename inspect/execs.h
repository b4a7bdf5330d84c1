/*
 * execs.h - which failed exec attempts of a run are PATH lookups.
 *
 * execvp(3) and the shells try each directory of PATH in turn, so a
 * healthy "sh" can leave "ENOENT /usr/local/sbin/sh" and two more failed
 * attempts before /usr/bin/sh runs. A failed attempt is a PATH lookup
 * when the same process (the exec event's "index") makes another exec
 * attempt after it, successful or not. Only the last failed attempt of
 * a process counts as a failed exec. inspect, log and gate use this one
 * rule, so that they agree on what failed.
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

#endif
