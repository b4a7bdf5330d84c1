/*
 * compare_internal.h - what the parts of the step-by-step comparison
 * share (compare.c, compare_procs.c). Errors are reported through
 * replay_set_error().
 */
#ifndef REPLAY_COMPARE_INTERNAL_H
#define REPLAY_COMPARE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "harness/match.h"
#include "harness/normalize.h"
#include "replay/replay.h"

/* A variable whose values differ in more than volatile parts. */
struct replay_env_var {
	char *name;
	char *recorded, *other; /* its NAME=VALUE, NULL when absent */
};

/* The difference between two environments, named by their objects'
 * ids. */
struct replay_env_change {
	char a[65], b[65];
	struct replay_env_var *vars; /* in the order of the recording's */
	size_t n_vars;
	bool volatile_only;	     /* they differ in volatile parts only */
};

/* The environments compared last. A run has a few environments, shared
 * by most of its processes, so a handful of pairs covers most. */
#define REPLAY_ENV_MEMO 32

struct cmp_state {
	const struct replay_run *a, *b; /* b is &b_view in replay_compare() */
	const struct replay_run *b_run; /* the run that b_view copies */
	struct replay_run b_view;	/* replay_gateway_view() */
	struct harness_normalizer *normalizer;
	struct harness_matcher *matcher; /* pairs and diffs requests as
					  * the gateway does */
	size_t *served; /* for each step of b, the step of a whose request
			 * the gateway's matching pairs with its own, or 0 */
	struct replay_comparison *out;
	struct replay_file_diff *prev; /* the last step's file diffs */
	size_t n_prev;
	const struct replay_proc **pairs; /* b's process for each of a's */
	bool *b_paired;			  /* b's processes that have one */
	struct replay_env_change env_memo[REPLAY_ENV_MEMO];
	size_t env_memo_next;		  /* the entry to fill next */
};

/* Compare the processes that started or ended in step sc->step of the
 * comparison, whose final step is n, adding their differences to sc.
 * Returns 0, or -1 with the error set. */
int replay_compare_procs(struct cmp_state *st, struct replay_step_cmp *sc,
			 size_t n);

/* Free what replay_compare_procs() kept in st. */
void replay_compare_procs_release(struct cmp_state *st);

#endif
