/*
 * session.h - one replay of a recorded run: the recorded workspace
 * rebuilt in a fresh directory, the agent run again through record/'s
 * session with the gateway serving the recorded responses, and the
 * replay's own bundle written.
 *
 * Errors: functions return -1 (or NULL) with the message in
 * replay_error(). Nothing here prints, except what the agent prints.
 */
#ifndef REPLAY_SESSION_H
#define REPLAY_SESSION_H

#include <stdbool.h>

#include "replay/replay.h"

/* The value given back for a variable whose value was a secret, which
 * the recording never stored. */
#define REPLAY_SECRET_PLACEHOLDER "runbundle-placeholder-secret"

struct replay_options {
	const char *output; /* the replay's bundle, which must not exist */
	bool fast;	    /* --timing fast */
	int on_mismatch;    /* enum harness_divergence_action */
	bool keep;	    /* leave the work directory */
	char *const *argv;  /* NULL: the recorded command; else run this
			     * instead (the re-run of one step) */
	const cJSON *env;   /* NULL: the agent's recorded environment;
			     * else the tracer's env list of an exec */
	const struct bundle_id *start; /* NULL: the initial workspace */
	bool no_gateway;	       /* serve no model exchanges */
	/* The upstreams that --on-mismatch forward reaches, "NAME=URL"
	 * from the command line, one for each recorded name. Without
	 * them the recorded URLs stay, because only a forward contacts
	 * an upstream. */
	const char *const *upstreams;
	size_t n_upstreams;
	/* --policy FILE: run under this policy instead of the recorded
	 * one, so that a bundle from elsewhere gets no wider sandbox than
	 * the replayer chose; NULL: the recorded policy. */
	const char *policy;
};

/* The recorded workspace, whose executables come from the bundle. */
struct replay_host_map {
	const char *inside; /* the recorded path */
	/* The agent gets its recorded environment, so this host's locale
	 * and TZ variables do not reach it. */
	bool recorded_env;
};

/* The result of one replay. */
struct replay_outcome {
	char workdir[4096];   /* the work directory, when kept */
	char workspace[4200]; /* the workspace in it */
	bool kept;
	int signal;	      /* the SIGINT, SIGTERM or SIGHUP that cut the
			       * replay short, or 0 */
	bool started;	      /* the agent's process was started */
	bool not_run;	      /* the agent's program could not be run */
	char why[1024];	      /* for not_run: what failed */
};

/*
 * Replay run with the options in opts, writing opts->output. Returns 0
 * when the replay ran to its end and its bundle was finalized (whatever the
 * agent did), and when a signal cut it short (outcome->signal), or -1.
 * An agent whose program could not be run (for example, not found on
 * this host) is -1 too, with outcome->not_run set and the bundle finalized.
 * Neither an interrupted replay nor one whose agent could not run is
 * compared: its bundle gets one "divergence" event of verdict "unknown"
 * that says why.
 */
int replay_session_run(struct replay_run *run,
		       const struct replay_options *opts,
		       struct replay_outcome *outcome);

/* Return whether the policy of run's replays has a limit that needs a
 * cgroup. That policy is own (--policy), or else the recorded one. */
bool replay_policy_needs_cgroup(struct replay_run *run, const char *own);

/* Every difference between the recorded fingerprint and this host that
 * could change behaviour, as harness_fingerprint_compare() lists them,
 * with the executables the run executed hashed here. NULL on failure. */
cJSON *replay_host_differences(const cJSON *recorded,
			       const struct replay_host_map *map);

struct record_session;

/*
 * Compare the replay that session s is writing with the recording a,
 * once the agent has ended (with exit_code) and before the session
 * finishes, and store one "divergence" event in the replay's bundle for
 * each step that diverged. When the comparison fails, one "divergence"
 * event of verdict "unknown" gives the reason. When the replay's agent
 * could not run its program and the recording's could, that is the
 * reason, and out->not_run and out->why are set. dir is a scratch
 * directory.
 * Returns 0, or -1 when no event could be stored.
 */
int replay_store_divergences(struct record_session *s,
			     const struct replay_run *a, int exit_code,
			     const char *dir, struct replay_outcome *out);

/* Store the one "divergence" event of verdict "unknown" whose error is
 * why, for a replay that is not compared. Returns 0 or -1. */
int replay_store_not_compared(struct record_session *s, const char *why);

/* Remove a directory tree; errors are ignored. */
void replay_remove_tree(const char *dir);

#endif
