/*
 * trust.h - the checks that runbundle replay and diff make before they
 * use a bundle. A bundle is untrusted input (docs/gate.md): someone
 * else may have recorded it, or damaged it.
 *
 * Each check prints its error and hint, and returns an exit status
 * from enum cli_exit: CLI_EXIT_OK when the bundle may be used.
 */
#ifndef REPLAY_TRUST_H
#define REPLAY_TRUST_H

/* Reject a bundle that fails runbundle verify: its events may not be
 * what was recorded, so no comparison of them can be called identical.
 * CLI_EXIT_ERROR for a damaged or unreadable bundle. */
int replay_check_intact(const char *path);

#endif
