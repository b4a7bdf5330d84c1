/*
 * replay.h - a recorded run read back from its bundle as steps, and the
 * step-by-step comparison of two runs.
 *
 * A run has n_steps steps. Step k (from 1) is what happened from the
 * previous model request (or the start) up to and including model
 * request k: the processes started in that time, the workspace snapshot
 * taken before request k, and request k itself. The last step, "final",
 * runs from the last request to the end and has no request: its snapshot
 * is the final one and its result the agent's exit status.
 *
 * Processes are named by their position in the tree: the agent is "0",
 * its third child "0.2", that child's first child "0.2.0", counted in
 * the order the processes started. Each process of one run is compared
 * with its counterpart in the other, which pair.h finds by what it ran
 * before where it started. So neither pids nor the start order of
 * concurrent siblings make a difference.
 *
 * Invariants:
 *  1. A run owns everything it points to; free it with replay_run_free().
 *  2. Loading never writes to the bundle, and works on unfinalized
 *     bundles: a run that did not end has no exit status (ended false).
 *
 * Errors: functions return NULL or -1 and store a message that
 * replay_error() returns, with a hint in replay_error_hint() when the fix
 * is known. Nothing here prints.
 */
#ifndef REPLAY_REPLAY_H
#define REPLAY_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "bundle/bundle.h"
#include "harness/exchange.h"
#include "harness/jsondiff.h"

/* One process of the tree, as its last exec left it. */
struct replay_proc {
	char *position;	   /* "0.2.1", see above */
	int64_t index;	   /* the tracer's index */
	int64_t parent;	   /* index, -1 for the agent */
	size_t step;	   /* the step it started in, from 1 */
	size_t end_step;   /* the step it ended in; 0 while running */
	char *command;	   /* argv joined with spaces, for people */
	cJSON *argv;	   /* array of strings, or NULL when unknown */
	uint64_t exec_seq; /* the event of its last exec, 0 for none */
	char *exe_sha256;  /* of the executable, from the fingerprint,
			    * or NULL */
	char *exe_path;
	char *script_sha256; /* of the #! file that the executable ran,
			      * from the exec's object, or NULL */
	char *script_path;
	char *cwd;	   /* at its last exec, or NULL when the bundle
			    * has none (older bundles, a cwd that is not
			    * UTF-8) */
	char env_ref[65];  /* the hex id of the environment object of its
			    * last exec, "" when it has none */
	char *exec_error;  /* the errno name of the last exec when it
			    * failed and none had succeeded ("ENOENT"),
			    * else NULL */
	char *end;	   /* "exited", "signaled", "killed", "lost" or
			    * NULL while running */
	int exit_code;	   /* 0..255, 128 + signal when signaled */
	size_t n_children; /* so far, to name the next child */
};

struct replay_step {
	bool has_exchange; /* every step but the final one */
	struct harness_exchange exchange;
	bool has_root;	       /* the snapshot was found */
	struct bundle_id root; /* the workspace before the request */
	struct bundle *objects; /* where root's objects are: NULL for the
				 * run's own bundle */
};

/* One "output" event: a piece of what the agent printed. */
struct replay_output_piece {
	int stream;		/* 0 stdout, 1 stderr */
	struct bundle_id blob;	/* its bytes */
};

struct replay_run {
	struct bundle *bundle; /* open read-only */
	char *path;
	cJSON *record;		  /* the "record" event's data */
	cJSON *fingerprint;	  /* the last fingerprint (with the
				   * executables), or NULL */
	cJSON *description;	  /* the sandbox's, or NULL */
	cJSON *agent_exec;	  /* the agent's last exec after
				   * replay_run_agent_env(), or NULL */
	struct bundle_id initial; /* the initial workspace */
	bool has_initial;
	uint64_t initial_snapshot; /* its snapshot event, or 0 */
	bool has_home;
	struct bundle_id home;	   /* the HOME seed */
	struct replay_step *steps; /* n_steps, the final one last */
	size_t n_steps;
	struct replay_proc *procs; /* in order of start */
	size_t n_procs;
	bool procs_sorted;	   /* procs are in index order, which
				    * replay_run_load() leaves them in */
	int64_t max_index;	   /* the highest index in procs */
	struct replay_output_piece *output; /* in the order printed */
	size_t n_output;
	bool ended;	  /* the bundle has its "end" event */
	bool finalized;	  /* and a root digest */
	int exit_code;	  /* meaningful only when ended */
	int interrupts;	  /* signals runbundle received while the agent
			   * ran, from the "end" event */
	bool timed_out;	  /* the policy's timeout ended the run */
	char *stopped_by; /* "INT" when a signal ended the run before
			   * the agent started, else NULL */

	/* Matching rules from the command line ("regex:..." or "path:..."),
	 * applied beside the recorded policy's when this run is the
	 * recording; owned by the caller. */
	const char *const *match_rules;
	size_t n_match_rules;

	/* A difference in the content of a .git/index alone counts as
	 * volatile unless this is set (docs/matching.md). */
	bool strict_git_index;

	/* A difference in what the agent printed diverges when this is
	 * set (--compare-output); otherwise it is only noted. */
	bool compare_output;
};

/* Open path read-only and load the run. NULL on failure. */
struct replay_run *replay_run_load(const char *path);
void replay_run_free(struct replay_run *run);

/* Take the executables' hashes from fingerprint (not consumed) instead
 * of the bundle's last one, for a run whose bundle is still being
 * written. Returns 0 or -1. */
int replay_run_use_fingerprint(struct replay_run *run,
			       const cJSON *fingerprint);

/*
 * Find the agent's environment, as the tracer's list of [name, value]
 * pairs (value null for a secret), from its last successful exec. *env
 * is owned by run, and NULL when the agent ran no program. The first
 * call reads that exec's objects. Returns 0, or -1 when they cannot be
 * read.
 */
int replay_run_agent_env(struct replay_run *run, const cJSON **env);

/* The last exec of p as the tracer's JSON (argv, env, cwd, exe), which
 * the caller frees; NULL when p ran no program or on failure. */
cJSON *replay_run_exec(const struct replay_run *run,
		       const struct replay_proc *p);

/* The environment of p's last exec, as replay_run_agent_env() gives
 * the agent's, which the caller frees; NULL when p has none, or with
 * the error set when it cannot be read. */
cJSON *replay_run_env(const struct replay_run *run,
		      const struct replay_proc *p);

/* Return the address ("127.0.0.1:PORT") of the gateway that served the
 * run, from RUNBUNDLE_GATEWAY_URL in the agent's environment, or NULL
 * when the run has none or it cannot be read. The caller frees it. */
char *replay_run_gateway(const struct replay_run *run);

/*
 * Fill *view with run b as replay_compare() compares it with run a: a
 * shallow copy of b, whose processes have the address of b's gateway
 * replaced by a's in their argv and command line. Without the sandbox
 * each run's gateway listens on a port of its own, which the agent
 * passes on to curl, say, and that is no difference between the runs.
 * When both addresses are the same or unknown, view->procs is b's.
 * Release it with replay_gateway_view_release() while b lives. Returns
 * 0, or -1 when memory runs out.
 */
int replay_gateway_view(const struct replay_run *a, const struct replay_run *b,
			struct replay_run *view);
void replay_gateway_view_release(struct replay_run *view,
				 const struct replay_run *b);

/* The process at position, or NULL. */
const struct replay_proc *replay_run_find(const struct replay_run *run,
					  const char *position);

/* The process with the tracer's index, or NULL. */
const struct replay_proc *replay_run_by_index(const struct replay_run *run,
					      int64_t index);

/* How a process ended, for people and for grouping: "exit 0",
 * "signaled by SIGKILL", "no end". */
void replay_proc_status(const struct replay_proc *p, char *buf, size_t len);

/* The recorded exchanges as an array for the gateway's replay mode:
 * pointers into run, valid while it lives. *n gets the count. */
struct harness_exchange *replay_run_exchanges(struct replay_run *run,
					      size_t *n);

enum replay_verdict {
	REPLAY_IDENTICAL = 0,
	REPLAY_VOLATILE = 1, /* volatile differences only */
	REPLAY_DIVERGED = 2,
};

/* One process that differs: missing, extra, other argv, exit status or
 * binary. Strings are owned by the comparison. */
struct replay_proc_diff {
	char *position;
	char *command; /* the recorded one, else the other */
	char *what;    /* "exit status 1, recorded 0" */
	size_t from;   /* for another argv: the byte of both commands
			* where the explanation's excerpts start, so that
			* they show where the commands differ */
	cJSON *json;   /* the same as an object */
};

/* One workspace path that differs at a step. */
struct replay_file_diff {
	char *path;
	char *what;   /* "content", "added", "deleted", "mode" */
	size_t since; /* the first step where it differed */
};

/*
 * The command behind the first divergent path of a step's request. A
 * tool result in the request names the tool call it replies to (Chat
 * Completions "tool_call_id", Responses "call_id", Anthropic
 * "tool_use_id"). The recorded response that made that call, and the
 * call's arguments, give the step and the command. Without such an id
 * the command is a guess: the one of the step whose command line the
 * recorded value quotes, else whose exit status differs, else the last
 * one before the request. tie is NULL for a guess.
 */
struct replay_cause {
	bool found;
	char *path;	    /* the request's JSON path */
	const char *tie;    /* "tool_call_id", "call_id", "tool_use_id" */
	char *call_id;	    /* NULL for a guess */
	size_t step;	    /* the step the command ran in */
	char *position;
	char *command;
	char *recorded;	    /* its recorded status, "exit 0" */
	char *other;	    /* its status in the other run */
};

struct replay_step_cmp {
	size_t step;
	struct replay_cause cause; /* when the request diverged */
	bool final;
	enum replay_verdict verdict;
	char *request_note;	     /* a request missing on one side, other
				      * method or path; NULL when none */
	struct harness_diff request; /* the body's differences */
	size_t reordered; /* the recording's step whose request this one
			   * matches, when the requests came in another
			   * order; 0 when none */
	struct replay_proc_diff *procs;
	size_t n_procs;
	size_t volatile_procs; /* argv differing in volatile values only */
	struct replay_file_diff *files;
	size_t n_files;
	size_t volatile_files; /* .git/index content only, see above */
	char **uncompared;     /* paths that the recording's snapshot could
				* not read, so no difference there counts */
	size_t n_uncompared;
	bool exit_differs; /* final step only */
	int exit_a, exit_b;
	bool ended_a, ended_b; /* whether exit_a and exit_b are known */
};

struct replay_comparison {
	enum replay_verdict verdict;
	size_t first; /* the first divergent step, 0 for none */
	struct replay_step_cmp *steps; /* one per step of the longer run */
	size_t n_steps;
	size_t *pairs;	/* for each of a's procs, the index of its
			 * counterpart in b's procs (pair.h), or SIZE_MAX */
	bool timed_out_a, timed_out_b; /* whether the policy's timeout
					* ended run a, run b */
};

/*
 * Compare run b (a replay, or another run) with run a (the recording),
 * step by step: the request, the processes of the step, the workspace,
 * and for the final step the exit status. Request differences that the
 * gateway's built-in normalizers explain are volatile. Returns 0 and
 * fills *out, which the caller releases with replay_comparison_release(),
 * or -1.
 */
int replay_compare(const struct replay_run *a, const struct replay_run *b,
		   struct replay_comparison *out);
void replay_comparison_release(struct replay_comparison *cmp);

/* Return the step of cmp with the most entries that the recording or
 * the replay could not read, which lists them all, as every step has
 * them once they exist; NULL when there are none. The step is cmp's. */
const struct replay_step_cmp *
replay_most_uncompared(const struct replay_comparison *cmp);

/* The paths that a note on uncompared entries lists at most. */
#define REPLAY_UNCOMPARED_LISTED 5

/* Append to sc->files the paths that differ between tree ra of run a
 * and tree rb of run b (sc->step numbers them). Returns 0 or -1. */
int replay_compare_trees(const struct replay_run *a, const struct bundle_id *ra,
			 const struct replay_run *b, const struct bundle_id *rb,
			 struct replay_step_cmp *sc);

/* A request's body as JSON, decoded first when it is compressed; NULL
 * when it is not JSON. The caller frees it. */
cJSON *replay_request_json(const struct harness_request *r);

/* Fill sc->cause for the first divergent path of sc->request, x and y
 * being the step in run a and in run b, and pairs[i] b's process paired
 * with a->procs[i] (pair.h). Returns 0 (cause.found false when no
 * command is behind it), or -1. */
int replay_find_cause(const struct replay_run *a, const struct replay_run *b,
		      const struct replay_proc *const *pairs,
		      const struct replay_step *x, const struct replay_step *y,
		      struct replay_step_cmp *sc);
void replay_cause_release(struct replay_cause *cause);

/* Release what one step's comparison holds. */
void replay_step_cmp_release(struct replay_step_cmp *sc);

/* The one-paragraph explanation of the first divergence, as in
 * "step 5: the request differs at messages[4].content; `pytest -q`
 * exited 1, recorded 0; tests/test_io.py has differed since step 4".
 * NULL when nothing diverged. The caller frees it. */
char *replay_explain(const struct replay_comparison *cmp);

/* The whole comparison as text, for people, into a new string. */
char *replay_comparison_text(const struct replay_comparison *cmp);

/* One step's comparison as JSON, as in the "differences" list of
 * replay_comparison_json(). The caller owns it. */
cJSON *replay_step_json(const struct replay_step_cmp *sc);

/* The comparison as JSON (docs/replay.md). The caller owns it. */
cJSON *replay_comparison_json(const struct replay_comparison *cmp);

/* "identical", "volatile-only", "diverged". */
const char *replay_verdict_name(enum replay_verdict verdict);

/* The maximum bytes of a command that an explanation quotes. */
#define REPLAY_COMMAND_MAX 72

/* Return how many bytes of command an explanation shows: up to its
 * first line end and at most max, cut on a character boundary. *cut is
 * set when that is less than the whole command. */
size_t replay_command_shown(const char *command, size_t max, bool *cut);

/* Return the part of command that an explanation quotes, in backquotes
 * and cleaned as replay_clean() cleans it. From byte 0 it is the part
 * that replay_command_shown() returns. From byte from it is at most max
 * bytes from there, on character boundaries, with "..." on each side
 * where the command goes on. NULL when memory runs out. The caller
 * frees it. */
char *replay_command_excerpt(const char *command, size_t from, size_t max);

/* Return a copy of the first len bytes of text for a terminal, with
 * each control character, bidirectional override and byte of invalid
 * UTF-8 replaced by '?' (cli_sanitize()). NULL when memory runs out. The
 * caller frees it. */
char *replay_clean(const char *text, size_t len);

/* Return a copy of json with every string and member name cleaned as
 * replay_clean() cleans text, for notes printed from recorded JSON.
 * NULL when memory runs out. The caller owns it. */
cJSON *replay_clean_json(const cJSON *json);

const char *replay_error(void);
const char *replay_error_hint(void);
void replay_set_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
void replay_set_hint(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

#endif
