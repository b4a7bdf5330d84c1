/*
 * describe.h - one line of plain text about an event, for timelines:
 * "exec [3] /usr/bin/make -j2", "exchange 2 POST /v1/responses 200".
 *
 * The text is built from the event's own data only (no object is
 * loaded), so it never fails on a damaged reference. Control characters
 * in it are left for the printer to replace.
 */
#ifndef INSPECT_DESCRIBE_H
#define INSPECT_DESCRIBE_H

#include "inspect/view.h"

/* The description, malloc'd (the caller frees it), or NULL when memory
 * runs out. */
char *inspect_describe(const struct inspect_event *ev);

/* One line about a violation event's data: the command, syscall, path
 * or destination that was denied; malloc'd, or NULL when memory runs
 * out. */
char *inspect_violation_text(const cJSON *data);

/* What a violation was about, into buf (len bytes, always terminated):
 * the command of "exec", the syscall of "seccomp", the path of "write",
 * "host:port" of "proxy", and of "network" "address:port" or, for a
 * unix socket, its path or "@name". */
void inspect_violation_target(char *buf, size_t len, const cJSON *data);

#endif
