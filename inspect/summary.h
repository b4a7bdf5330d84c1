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
 * A part that cannot be read (a damaged object, an exchange that does
 * not parse) is left out of the numbers and named in "errors", so that
 * the rest of a damaged bundle is still summarized. Such an exchange is
 * counted in model.unreadable. A failed diff leaves the counts of
 * "files" null and its message in files.error.
 *
 * Errors: NULL with the message in inspect_error() when memory runs
 * out. The caller frees the result with cJSON_Delete().
 */
#ifndef INSPECT_SUMMARY_H
#define INSPECT_SUMMARY_H

#include <cjson/cJSON.h>

#include "inspect/describe.h" /* inspect_violation_text() */
#include "inspect/integrity.h"
#include "inspect/view.h"

cJSON *inspect_summary(const struct inspect_view *view, const char *path);

/*
 * Verify the bundle at path as runbundle verify does, and add the result
 * to summary as "verify": {"damaged", "n_problems", "verified_events",
 * "problems"} with the first 20 of the problems' messages, then
 * "incomplete" (not finalized), "wal_missing" and "ok", whether
 * runbundle verify with the --allow-incomplete of flags (enum
 * inspect_check_flags) exits 0. Adds "wal_missing" to summary too.
 * Returns ok (0 or 1), or -1 with a message in inspect_error() when the
 * bundle cannot be verified at all.
 */
int inspect_summary_verify(cJSON *summary, const char *path,
			   const struct inspect_bundle_state *b, int flags);

#endif
