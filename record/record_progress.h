/*
 * record_progress.h - the progress line of a long snapshot.
 *
 * The line goes to stderr only when stderr is a terminal, and only after
 * the snapshot has run for RUNBUNDLE_PROGRESS_DELAY seconds (1 when the
 * variable is unset or not a number, like git's GIT_PROGRESS_DELAY). It
 * is updated at most four times a second. It is one line, rewritten
 * after a carriage return, cut to the terminal's width, and cleared when
 * the snapshot ends, so the next output starts on a clean line.
 *
 * Not thread-safe: one struct record_progress per snapshot, used by the
 * thread that takes it.
 */
#ifndef RECORD_RECORD_PROGRESS_H
#define RECORD_RECORD_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "bundle/snapshot.h"

struct record_progress {
	const char *what; /* what is snapshotted, for the line;
			   * borrowed */
	int64_t start_ns; /* CLOCK_MONOTONIC */
	int64_t next_ns;  /* no line before this time */
	bool tty;
	bool shown; /* a line is on the terminal */
};

/* Start timing a snapshot of what ("the workspace", a path). */
void record_progress_begin(struct record_progress *progress, const char *what);

/* Show the counts so far, when the line is due. */
void record_progress_update(struct record_progress *progress,
			    const struct bundle_snapshot_stats *stats);

/* Clear the line, if one was shown. */
void record_progress_end(struct record_progress *progress);

#endif
