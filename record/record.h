/*
 * record.h - one recording session: the bundle being written, and what
 * feeds it while the agent runs.
 *
 * A session goes through these states:
 *
 *   open: the bundle is created, the "record" event names the command
 *	and the fingerprint is collected. No thread runs yet, so the
 *	caller forks the agent's process (or the sandbox's helper) now.
 *   starting: the agent's process waits for the tracer. The first
 *	"fingerprint" event describes the machine, the initial snapshots
 *	of the workspace (and the HOME seed) are taken, and the writer
 *	thread starts. A SIGINT, SIGTERM or SIGHUP here ends the session
 *	before the agent runs.
 *   running: the agent runs. The tracer (main thread), the output pump
 *	(one thread) and the gateway (its own threads) append events.
 *   ending: the agent has ended. The final snapshot, the final
 *	fingerprint (with every executable that ran) and the "end" event
 *	are appended, then the bundle is finalized.
 *
 * Invariants:
 *  1. Every write to the bundle holds session->lock, so the bundle is
 *     used by one thread at a time, and an event is committed together
 *     with the objects it references (bundle.h, invariant 2).
 *  2. The first write that fails marks the session failed, keeps its
 *     message, and stops the agent; later writes are skipped. What was
 *     committed before stays committed, and the bundle stays
 *     unfinalized: verifiable up to its last event.
 *  3. Nothing in a session prints, except the snapshot progress line on
 *     a terminal and the messages of record_signals_poll() and
 *     record_signals_poll_ending() about a signal that stops runbundle
 *     or has to wait; cmd_record.c prints the result.
 *  4. Every fork happens while the main thread is the only thread: a
 *     child forked beside other threads may inherit a lock that one of
 *     them held, and the allocator of GCC 12's sanitizers has no fork
 *     handlers to release it.
 *
 * docs/record.md lists the event kinds and their fields.
 */
#ifndef RECORD_RECORD_H
#define RECORD_RECORD_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "bundle/bundle.h"
#include "sandbox/sandbox.h"
#include "harness/redact.h"
#include "harness/tracer.h"

#define RECORD_MAX_LABELS 64
#define RECORD_MAX_UPSTREAMS 8

/* The command line's options; the strings belong to argv. */
struct record_config {
	const char *output;		/* bundle path */
	const char *workspace;		/* absolute, resolved */
	const char *policy_path;	/* NULL: the built-in policy */
	const char *model_script;	/* NULL unless --model-script */
	struct harness_script *script;	/* that script, loaded by the
					 * caller, which frees it after
					 * record() */
	const char *upstreams[RECORD_MAX_UPSTREAMS];	/* "NAME=URL" */
	size_t n_upstreams;
	const char *labels[RECORD_MAX_LABELS];		/* "KEY=VALUE" */
	size_t n_labels;
	size_t max_response_body;	/* 0: the gateway's default */
	bool no_sandbox;		/* --sandbox none */
	const struct sandbox_policy *policy;	/* loaded, never NULL */
	char **argv;			/* the agent's command */

	/* Set by a replay (replay/); zero when recording. */
	const char *const *make_parts;	/* sandbox_config.make_parts */
	size_t n_make_parts;
	const char *workspace_inside;	/* recorded path of the workspace
					 * in the sandbox; NULL: workspace */
	char *const *env;		/* environment to filter; NULL:
					 * environ */
	bool set_ids;			/* uid and gid inside the sandbox */
	uid_t uid;
	gid_t gid;
	const struct sandbox_inherit *inherit;	/* sandbox_config's */
	const struct harness_exchange *replay;	/* serve these, owned by
						 * the caller */
	size_t n_replay;
	bool replay_fast;		/* ignore the recorded pacing */
	int on_divergence;		/* enum harness_divergence_action */
	bool replaying;			/* the run is a replay */
};

/* The numbers of the closing summary line. */
struct record_counts {
	uint64_t model_calls;
	uint64_t processes;
	uint64_t files_changed;	/* paths changed from initial to final */
	uint64_t violations;
	uint64_t snapshots;
};

struct record_output;
struct record_gateway;
struct record_pending;
struct harness_exchange;
struct harness_tracer;
struct harness_script;
struct sandbox_policy;

struct record_session {
	const struct record_config *config;
	struct bundle *bundle;
	pthread_mutex_t lock;		/* guards the bundle and every
					 * field below but the queue's */

	int64_t start_us;		/* wall clock, Unix microseconds */
	bool failed;
	/* The first failure, shown to the user. It has the room of the
	 * libraries' messages (error.c.in), which can name long paths. */
	char failure[16384];
	char failure_hint[4096];

	cJSON *fingerprint;		/* grows with each executable */
	struct harness_secrets secrets;	/* upstream keys, masked in the
					 * stored output; fixed once the
					 * agent runs */
	const char **secret_names;	/* the default patterns and the
					 * policy's env.secrets, whose
					 * values no event may hold */
	char **excludes;		/* the policy's snapshot excludes */
	size_t n_excludes;
	char **unreadable;		/* paths already warned about as
					 * unreadable, so each is named once */
	size_t n_unreadable;
	const char *const *created_dirs;	/* made in the workspace by
					 * the sandbox for the run, so its
					 * snapshots leave them out while
					 * empty; NULL when none */
	size_t n_created_dirs;
	struct harness_file_id *forbidden;	/* the dynamic loaders that
					 * the tracer kills as programs
					 * (record_loaders.c); NULL when none */
	size_t n_forbidden;
	uint64_t initial_seq;		/* the initial workspace snapshot */
	struct bundle_id initial_root;
	struct bundle_id last_root;	/* the latest workspace snapshot */
	struct record_counts counts;	/* guarded by qlock */
	bool agent_ran;			/* the first process's exec worked */
	int agent_exec_error;		/* else the errno that its execs gave:
					 * EACCES over ENOENT, as execvp */
	enum harness_refusal agent_refusal;	/* with that EACCES: the
					 * file's own mode refused it */
	char agent_interpreter[256];	/* with ENOENT: the missing "#!"
					 * interpreter of an existing script */

	/* The last JSON bytes stored, and their id: an exec's
	 * environment is mostly the one before (record.c). */
	void *last_json;
	size_t last_json_len;
	struct bundle_id last_json_id;

	/* The write queue (record_queue.c), guarded by qlock. */
	pthread_mutex_t qlock;
	pthread_cond_t qcond;
	pthread_cond_t qroom;		/* signalled as queued bytes go */
	struct record_pending *queue_head, *queue_tail;
	size_t queued_bytes;		/* bytes of the queued events */
	pthread_t writer;
	bool writer_running, writer_stop;

	/* Set once the agent runs; read by other threads and by the
	 * signal handler to stop it. */
	struct harness_tracer *tracer;
	volatile sig_atomic_t stop_requested;
	int stop_signal;		/* the first signal that arrived while
					 * starting, or 0 */
	bool starting;			/* the state "starting": the snapshot
					 * progress polls for signals */
	bool ending;			/* the final snapshot is under way,
					 * polling for signals too */
	int ending_signals;		/* the signals taken while ending */
	pid_t kill_pid;			/* killed on a second interrupt: the
					 * sandbox helper, or -pgid */
	struct sandbox_child *sandbox;	/* released on a second interrupt
					 * before the agent started, so that
					 * its made parts go, or NULL */
};

/* How the agent ended, for the "end" event and the exit status. */
struct record_result {
	int wait_status;	/* as from waitpid, when started */
	bool started;
	int exit_code;		/* 0..255, 128 + signal when killed */
	int interrupts;		/* SIGINT and SIGTERM received */
	int agent_interrupts;	/* those of them while the agent ran */
	int stop_signal;	/* ended by this signal before the agent
				 * started, or 0 */
	bool timed_out;		/* the policy's wall-clock limit */
	int64_t end_us;
};

/* Create the bundle, write the "record" event and collect the
 * fingerprint, starting no thread. Returns 0, or -1 with the failure in
 * session->failure, after removing a bundle that it created. The session
 * must be closed either way. */
int record_session_open(struct record_session *session,
			const struct record_config *config);

/*
 * Take the initial state, once the agent's process exists and waits for
 * the tracer, and start the writer thread. Returns 0, or -1 when the
 * session failed. A signal that arrived meanwhile is in
 * session->stop_signal: the agent must not run then.
 */
int record_session_start(struct record_session *session);

/* Take the final state (unless the agent never started), append the
 * "end" event and finalize. Returns 0, or -1 with the failure in
 * session->failure. */
int record_session_finish(struct record_session *session,
			  const struct record_result *result,
			  struct bundle_id *root);

/* Close the bundle (finalized or not) and free the session. */
void record_session_close(struct record_session *session);

/* Warn on stderr when a reader kept bundle_finalize() from leaving the
 * bundle at path as one file (bundle_wal_kept()). */
void record_note_wal(const struct bundle *bundle, const char *path);

/*
 * Append an event with data (not consumed) and, when object is not
 * NULL, that JSON document stored as an object and referenced, plus any
 * of extra_refs, all in one transaction. Thread-safe. Returns 0, or -1
 * when the session failed (now or before). seq may be NULL.
 */
int record_event(struct record_session *session, const char *kind,
		 const cJSON *data, const cJSON *object,
		 const struct bundle_id *extra_refs, size_t n_extra,
		 uint64_t *seq);

/*
 * Queue an event for the writer thread, without waiting for the disk.
 * Takes ownership of data, object (stored as a JSON object) and bytes
 * (malloc'd, stored as an object of bytes_kind), any of which may be
 * NULL, also on failure. Thread-safe. Returns 0, or -1 when the session
 * has failed.
 */
int record_submit(struct record_session *session, const char *kind,
		  cJSON *data, cJSON *object, enum bundle_kind bytes_kind,
		  void *bytes, size_t len);

/*
 * As record_submit(), but first wait while the queue contains more bytes
 * than the writer should have to catch up with. For a thread that can
 * wait (it must not hold session->lock): the output pump, which would
 * otherwise buffer an agent's whole output in memory.
 */
int record_submit_wait(struct record_session *session, const char *kind,
		       cJSON *data, cJSON *object,
		       enum bundle_kind bytes_kind, void *bytes, size_t len);

/* Write every queued event now, in one transaction. Call with
 * session->lock held. */
void record_flush_locked(struct record_session *session);

/* Start and stop the writer thread; stopping writes what is queued. */
int record_writer_start(struct record_session *session);
void record_writer_stop(struct record_session *session);

/* Store the objects of one event and append it, inside a transaction
 * the caller opened. Returns 0, or -1 with bundle_error() set. */
int record_put_event(struct record_session *session, const char *kind,
		     const cJSON *data, const cJSON *object,
		     enum bundle_kind bytes_kind, const void *bytes,
		     size_t len, const struct bundle_id *extra,
		     size_t n_extra, uint64_t *seq);

/* Roll the open transaction back and forget what it stored. Call with
 * session->lock held. */
void record_rollback_locked(struct record_session *session);

/* Add n to one of the counts; thread-safe. */
void record_count(struct record_session *session, uint64_t *counter,
		  uint64_t n);

/* record_event(), with the caller holding session->lock. */
int record_event_locked(struct record_session *session, const char *kind,
			const cJSON *data, const cJSON *object,
			const struct bundle_id *extra_refs, size_t n_extra,
			uint64_t *seq);

/* Mark the session failed with a message (the first one wins) and
 * stop the agent. Call with session->lock held. */
void record_fail_locked(struct record_session *session, const char *message,
			const char *hint);

/* Wall clock in Unix microseconds. */
int64_t record_now_us(void);

/* Set *at to ms milliseconds from now on CLOCK_REALTIME, the clock of
 * pthread_cond_timedwait() and pthread_timedjoin_np(). */
void record_deadline_ms(struct timespec *at, long ms);

/*
 * Snapshot the workspace into the bundle as one "snapshot" event
 * followed by a "workspace" event that says why it was taken ("at":
 * "initial", "request" or "final"), for which exchange (0 for none) and
 * what changed since the previous one. Thread-safe. Returns 0 or -1
 * (the session has failed).
 */
int record_snapshot_workspace(struct record_session *session, const char *at,
			      uint64_t exchange);

/* Snapshot the HOME seed directory once, before the agent starts. */
int record_snapshot_home(struct record_session *session, const char *dir);

/* Output pump: the agent's stdout and stderr, shown live and stored as
 * "output" events. */
struct record_output *record_output_start(struct record_session *session,
					  int fds[2]);
/* Read to EOF on both pipes, store what is left, and free. */
void record_output_finish(struct record_output *output);

/* Process events from the tracer. */
struct harness_trace_event;
int record_on_trace(const struct harness_trace_event *event, void *arg);

/* Add every executable that ran to the fingerprint. */
int record_add_executables(struct record_session *session);

#endif
