/*
 * printed.h - what the agent printed, compared between two runs: each
 * stream's bytes, from the runs' "output" events, and the first line
 * where they differ.
 *
 * Errors: functions return -1 with the message in replay_error().
 * Nothing here prints but replay_output_note() and replay_check_output(),
 * its caller.
 */
#ifndef REPLAY_PRINTED_H
#define REPLAY_PRINTED_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "replay/replay.h"

/* The maximum length of the quote of a differing line, for each run,
 * not counting the "..." marks. */
#define REPLAY_OUTPUT_QUOTED 80

/* One stream of two runs. */
struct replay_stream_cmp {
	bool differs;
	uint64_t bytes_a, bytes_b; /* what each run printed in all */
	/* The position of the first difference, from 1: the line, and
	 * the byte in that line. Meaningful only when differs. */
	uint64_t line, column;
	/* That line of each run, for a terminal: up to
	 * REPLAY_OUTPUT_QUOTED characters around the difference, with "..."
	 * where the line goes on, each byte that is not printable text as
	 * \xHH and a backslash as \\. NULL when that run's output ends
	 * before the line. */
	char *excerpt_a, *excerpt_b;
	/* That run's output ends in the line, with no newline after it. */
	bool unended_a, unended_b;
};

struct replay_output_cmp {
	struct replay_stream_cmp streams[2]; /* stdout, stderr */
};

/* Whether the last piece that run printed ends without a newline, so
 * that a note printed after it would continue its line. */
bool replay_output_unended(const struct replay_run *run);

/* "stdout" or "stderr". */
const char *replay_stream_name(int stream);

/* Compare what run b printed with what run a printed, stream by stream,
 * one stored piece at a time. Returns 0 and fills *out, which the
 * caller releases with replay_output_release(), or -1. */
int replay_compare_output(const struct replay_run *a,
			  const struct replay_run *b,
			  struct replay_output_cmp *out);
void replay_output_release(struct replay_output_cmp *cmp);

/* Whether a stream differs. */
bool replay_output_differs(const struct replay_output_cmp *cmp);

/* Return a one-line explanation of the first stream that differs, as in
 * "the agent's stderr differs at line 3, byte 1: recorded 'a', replayed
 * 'b'",
 * into a new string; NULL when nothing differs or memory runs out. */
char *replay_output_explain(const struct replay_output_cmp *cmp);

/* Print a note on f for each stream that differs. counted is whether
 * the difference is a divergence (--compare-output). */
void replay_output_note(FILE *f, const struct replay_output_cmp *cmp,
			bool counted);

/* The comparison as the "output" member of replay's JSON report. */
cJSON *replay_output_json(const struct replay_output_cmp *cmp, bool counted);

/*
 * Compare what b printed with what a printed, print a note on stderr for
 * each stream that differs, and add the "output" member to extra. The
 * difference is a divergence only when a->compare_output is set
 * (--compare-output), because printed text often carries times and
 * paths: then cmp's verdict becomes diverged, and when cmp has no first
 * divergence of its own *why is set to a new one-line explanation, else
 * to NULL. Returns 0, or -1 with the error set.
 */
int replay_check_output(const struct replay_run *a,
			const struct replay_run *b,
			struct replay_comparison *cmp, cJSON *extra, char **why);

#endif
