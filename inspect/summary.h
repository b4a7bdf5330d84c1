/*
 * summary.h - the summary of a run as one JSON object: what "runbundle
 * inspect --json" prints (docs/inspect.md has the schema), for any
 * command that needs the same numbers (gate, report).
 *
 * Model tokens come from the usage fields of the responses (answer.h);
 * files changed and lines added and removed from the diff between the
 * first and the last step (patch.h). A bundle with missing parts (no
 * "end" event, no snapshot, no fingerprint) gets nulls and zeros there,
 * never a failure.
 *
 * Errors: NULL with the message in inspect_error() when an object the
 * summary needs cannot be read. The caller frees the result with
 * cJSON_Delete().
 */
#ifndef INSPECT_SUMMARY_H
#define INSPECT_SUMMARY_H

#include <cjson/cJSON.h>

#include "inspect/describe.h" /* inspect_violation_text() */
#include "inspect/view.h"

cJSON *inspect_summary(const struct inspect_view *view, const char *path);

/*
 * Verify the bundle at path as runbundle verify does: {"damaged",
 * "n_problems", "verified_events", "problems"} with the first 20 of the
 * problems' messages. The caller frees it. NULL with a message in
 * inspect_error() when the bundle cannot be verified at all.
 */
cJSON *inspect_verify_json(const char *path);

#endif
