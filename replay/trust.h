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

#include <stdbool.h>
#include <stddef.h>

#include "replay/replay.h"

/*
 * Reject a bundle that fails runbundle verify: its events may not be
 * what was recorded, so no comparison of them can be called identical.
 * An unfinalized bundle (a recording killed with SIGKILL) is accepted
 * only with allow_incomplete, with a note, and never when it has no
 * event and no -wal beside it (inspect_wal_missing()). CLI_EXIT_ERROR
 * for a damaged, unreadable or rejected incomplete bundle.
 */
int replay_check_intact(const char *path, bool allow_incomplete);

/* Reject a run recorded with --sandbox none unless no_sandbox (replay
 * --sandbox none) accepts it, because its replay runs the recorded
 * command on this host as the user who replays. Reject no_sandbox for
 * a run recorded in the sandbox, which replays in the same one.
 * CLI_EXIT_USAGE when rejected. */
int replay_check_sandbox(const struct replay_run *run, bool no_sandbox);

/*
 * Check the upstreams (NAME=URL) of replay --on-mismatch forward, which
 * sends the key in NAME_API_KEY from this environment upstream. The
 * bundle's author chose its URLs, so each recorded name must be given
 * again on the command line, and no other name. Print where each key
 * goes. CLI_EXIT_USAGE when rejected.
 */
int replay_check_upstreams(const struct replay_run *run,
			   const char *const *upstreams, size_t n);

/*
 * Print what the recorded policy grants beyond runbundle's default
 * policy: host paths bound read-only, default hidden paths left
 * visible, a HOME seed, network destinations, nested user namespaces
 * and environment variables passed. A replay runs the recording's
 * command under that policy, which the bundle's author wrote. Unless
 * trusted (replay --trust-policy), a policy that shows the agent more
 * of this host (paths, destinations, user namespaces) is rejected with
 * CLI_EXIT_USAGE. CLI_EXIT_ERROR when the policy cannot be read.
 */
int replay_note_policy(const struct replay_run *run, bool trusted);

#endif
