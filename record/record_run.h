/*
 * record_run.h - start the agent, trace it to its end, and handle the
 * signals that stop a recording.
 */
#ifndef RECORD_RECORD_RUN_H
#define RECORD_RECORD_RUN_H

#include "record/record.h"

/*
 * Block SIGINT, SIGTERM and SIGHUP in the calling thread (and so in
 * every thread it creates later) and install the handler that forwards
 * them to the agent. Call it first, from the main thread.
 */
void record_signals_block(void);

/*
 * The agent's environment: this process's, without the variables whose
 * names match harness_default_secret_names, with each "NAME=VALUE" of
 * extra (NULL-terminated, may be NULL) set. The array is malloc'd, the
 * strings are borrowed: free only the array.
 */
char **record_agent_env(char *const *extra);

/*
 * Run the agent without the sandbox: in its own session, in the
 * workspace, under the tracer, its output pumped into the session.
 * Fills *result, also on failure. Returns 0, or -1 when the session
 * failed.
 */
int record_run_direct(struct record_session *session, char **env,
		      struct record_result *result);

#endif
