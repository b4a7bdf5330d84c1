/*
 * repeat.h - many replays of one run, for flakiness: --repeat N [-j J]
 * replays the whole run, --step K re-runs the commands of one step.
 */
#ifndef REPLAY_REPEAT_H
#define REPLAY_REPEAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record/record.h"
#include "replay/session.h"

/* The command line of runbundle replay. */
/* The most --match-rule options one command takes. */
#define REPLAY_MAX_MATCH_RULES 64

/* The value of replay_args.step for "--step final", which names the
 * last step before the bundle is read. */
#define REPLAY_STEP_FINAL SIZE_MAX

struct replay_args {
	const char *bundle;
	const char *output; /* the bundle, or with --repeat a directory
			     * for replay-N.rb */
	bool json;
	bool allow_incomplete;	/* replay an unfinalized recording */
	bool strict_git_index;	/* a .git/index difference diverges */
	bool compare_output;	/* an output difference diverges */
	bool trust_policy;	/* run a recorded policy that shows the
				 * agent more of this host */
	bool no_sandbox;	/* --sandbox none: replay a run recorded
				 * without the sandbox */
	unsigned repeat; /* 0: one replay, compared in full */
	unsigned jobs;	 /* replays at once */
	size_t step;	 /* 0: the whole run, REPLAY_STEP_FINAL the last */
	struct replay_options opts;
	const char *match_rules[REPLAY_MAX_MATCH_RULES]; /* --match-rule */
	size_t n_match_rules;
	const char *upstreams[RECORD_MAX_UPSTREAMS]; /* --upstream */
	size_t n_upstreams;
};

/* Check that dir, the -o of --repeat or --step, is an empty
 * directory. Returns 0, or -1 after printing the error and the fix. */
int replay_check_empty(const char *dir);

/* Run the replays that args asks for, print the statistics (as JSON
 * with --json, host being the host's differences) and return the exit
 * status: 0 when every replay matched the recording, 1 when one
 * diverged, 3 when a replay could not run, 128 + the signal when a
 * SIGINT, SIGTERM or SIGHUP stopped the batch (then the replays that it
 * cut short count neither as diverged nor as failed). */
int replay_repeat(struct replay_run *run, struct replay_args *args,
		  const cJSON *host);

#endif
