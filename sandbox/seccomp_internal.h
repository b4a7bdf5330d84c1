/*
 * seccomp_internal.h - what seccomp_supervisor.c and seccomp_report.c
 * share. Not part of the public interface (seccomp.h).
 */
#ifndef SANDBOX_SECCOMP_INTERNAL_H
#define SANDBOX_SECCOMP_INTERNAL_H

#include <linux/seccomp.h>
#include <stdbool.h>

#include "sandbox/seccomp.h"

/* Return whether nr is one of the reported calls (seccomp.h, rule 4b),
 * whose notifications get "continue" and never EPERM. */
bool sandbox_seccomp_is_reported(int nr);

/*
 * Inspect the notification of a reported call: read its path or address
 * from the process's memory and decide whether it is an attempt worth
 * reporting. Fills *attempt and returns 1 when it is, 0 when it is not
 * or when the process could not be read (it died, say). listener is
 * used to check that the notification is still valid after the read,
 * so that a reused pid is not blamed.
 */
int sandbox_seccomp_inspect(int listener, const struct seccomp_notif *req,
			    struct sandbox_seccomp_attempt *attempt);

#endif
