/*
 * record_run.h - start the agent, trace it to its end, and handle the
 * signals that stop a recording.
 */
#ifndef RECORD_RECORD_RUN_H
#define RECORD_RECORD_RUN_H

#include <signal.h>

#include "harness/tracer.h"
#include "record/record.h"

/*
 * Block SIGINT, SIGTERM and SIGHUP in the calling thread (and so in
 * every thread it creates later) and install the handler that forwards
 * them to the agent. A signal that this process ignored at its start
 * is left ignored (record_signals_set()). Call it first, from the main
 * thread.
 */
void record_signals_block(void);

/*
 * Store in *set those of SIGINT, SIGTERM and SIGHUP whose disposition
 * was not SIG_IGN at the first call, the signals that runbundle takes
 * and passes on. record_detach() makes the first call.
 */
void record_signals_set(sigset_t *set);

/*
 * Move the recording into a new session, which has no controlling
 * terminal, and leave the calling process behind in the caller's
 * session to pass SIGINT, SIGTERM and SIGHUP on and to end with the
 * recorder's status (record_detach.c says why). Call it before
 * record_signals_block() and before any thread starts. Returns in the
 * recorder only. When the fork fails, it returns in the same process,
 * and record_detached stays false.
 */
void record_detach(void);

/* Whether record_detach() moved this process into a new session. */
extern bool record_detached;

/* The process left behind by record_detach(), which passes signals on
 * with sigqueue(), or 0. */
extern pid_t record_relay_pid;

/*
 * Return whether SIGINT, SIGTERM or SIGHUP, with info as SA_SIGINFO
 * gives it, is a second copy of a signal already counted. That is the
 * relay's copy of a signal sent to both processes, or the same signal
 * again within 100 ms. Async-signal-safe, for one thread at a time.
 */
bool record_signal_is_copy(int sig, const siginfo_t *info);

/*
 * Take the SIGINT, SIGTERM and SIGHUP that are pending, before the agent
 * started: the first is stored in session->stop_signal, and a second one
 * kills session->kill_pid and exits with CLI_EXIT_RUNBUNDLE, leaving the
 * bundle incomplete. Call it from the main thread, where they are
 * blocked. Returns session->stop_signal.
 */
int record_signals_poll(struct record_session *session);

/*
 * Take the SIGINT, SIGTERM and SIGHUP that are pending once the agent
 * has started, counting each in the "end" event's interrupts. Call it
 * from the main thread, where they are blocked. Returns how many came
 * since runbundle started.
 */
int record_signals_take(void);

/*
 * Take the pending stop signals during the final snapshot of a
 * recording, counting each. The tree is gone by then, so the first one
 * only gets a note that the snapshot goes on. A second one exits with
 * CLI_EXIT_RUNBUNDLE at once, leaving the bundle incomplete, because a
 * snapshot cannot be cut short and still stored. A replay only counts
 * them: it compares once the agent has ended (docs/replay.md).
 */
void record_signals_poll_ending(struct record_session *session);

/*
 * The agent's environment: this process's, without the variables whose
 * names match a pattern of secret (NULL-terminated), with each
 * "NAME=VALUE" of extra (NULL-terminated, may be NULL) set. The array
 * is malloc'd, the strings are borrowed: free only the array.
 */
char **record_agent_env(char *const *extra, const char *const *secret);

struct record_gateway;
struct record_output;

/* The agent's stdin (the terminal, or /dev/null) and the pipes of its
 * stdout and stderr. */
struct record_stdio {
	int in;
	int out[2];
	int err[2];
	struct record_output *output;
};

/* Open the agent's ends and ours. Returns 0, or -1 with the session
 * failed. */
int record_stdio_open(struct record_session *session,
		      struct record_stdio *io);

/* Once the agent has its ends: close them here and start the output
 * pump on ours. Returns 0, or -1 with the session failed. */
int record_stdio_pump(struct record_session *session,
		      struct record_stdio *io);

/* Wait for the pump to read both pipes to their end, and close all. */
void record_stdio_close(struct record_stdio *io);

/* Fill session->forbidden with the dynamic loaders that the tracer
 * kills as programs, when the policy has an exec allowlist and the run
 * a sandbox (record_loaders.c). Returns 0, or -1 with the session
 * failed. */
int record_forbid_loaders(struct record_session *session);

/* Make session->tracer with the session's callbacks. NULL with the
 * session failed. */
struct harness_tracer *record_tracer_new(struct record_session *session,
					 harness_untraced_fn on_untraced);

/* Warn on stderr, naming their pids, about the processes that did not
 * stop when the tracer interrupted them at the end of the run, and those
 * that did not exit after its kill. */
void record_warn_unstopped(const struct harness_tracer *tracer);

/*
 * Seize pid, which is stopped for the tracer, and trace it and all it
 * starts to the end, with SIGINT, SIGTERM and SIGHUP forwarded. Fills
 * the wait status in *result. Returns 0, or -1 when pid could not be
 * seized (it is still stopped then: the caller kills it).
 */
int record_trace_agent(struct record_session *session, pid_t pid,
		       struct record_result *result);

/* Fill the exit code, the end time and the interrupts of *result. */
void record_result_close(struct record_result *result);

/* record_fail_locked() for callers that do not hold the lock. */
void record_fail(struct record_session *session, const char *message,
		 const char *hint);

/*
 * Run the agent without the sandbox: in its own session, in the
 * workspace, under the tracer, with the gateway (NULL for none) on a
 * free loopback port. The agent's process is forked first, then
 * record_session_start() takes the initial state. Fills *result, also
 * on failure; result->stop_signal says when a signal ended the run
 * before the agent started. Returns 0, or -1 when the session failed.
 */
int record_run_direct(struct record_session *session,
		      struct record_gateway *gateway,
		      struct record_result *result);

/* The same in the sandbox that the policy describes (record_sandbox.c):
 * the sandbox is launched first, and the agent waits in it for the
 * tracer while the initial state is taken. */
int record_run_sandbox(struct record_session *session,
		       struct record_gateway *gateway,
		       struct record_result *result);

#endif
