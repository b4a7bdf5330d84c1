/*
 * output.h - printing a comparison for the replay and diff commands.
 */
#ifndef REPLAY_OUTPUT_H
#define REPLAY_OUTPUT_H

#include <stdbool.h>

#include "replay/replay.h"

/* Print cmp on stdout, as text or as one JSON object with the members
 * of extra added (extra, which may be NULL, is consumed), and return the
 * exit status it stands for: CLI_EXIT_OK for identical or volatile
 * differences only, CLI_EXIT_FAIL for a divergence, CLI_EXIT_ERROR when
 * the report could not be written. */
int replay_print_comparison(const struct replay_comparison *cmp, bool json,
			    cJSON *extra);

/*
 * Compare run b with run a, what they printed included
 * (replay_check_output()), and print the report as
 * replay_print_comparison() does, the text ending with the first
 * divergence explained in one line. extra (consumed, may be NULL) adds
 * members to the JSON. Returns the exit status, or CLI_EXIT_ERROR
 * after printing the error.
 */
int replay_compare_and_print(const struct replay_run *a,
			     const struct replay_run *b, bool json,
			     cJSON *extra);

/* Print obj (consumed) on stdout as JSON. */
void replay_print_json(cJSON *obj);

#endif
