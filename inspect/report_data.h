/*
 * report_data.h - everything "runbundle report" shows, gathered from a
 * bundle into one JSON document that the page's script renders.
 *
 * The document: "summary" (inspect/summary.h), "fingerprint" and
 * "sandbox" (the objects their events reference, or null), "violations"
 * (source and text of each) and "steps", one per step of the view, each
 * with "index", "at", "time", "complete", "exchanges" (request messages,
 * answer text and tool calls, status, duration, tokens), "commands"
 * (argv, exit, duration, path_lookup), "violations", "changes" and
 * "diff" (the unified diff of what the step's commands changed: from
 * this step's snapshot to the next one's).
 *
 * Invariants: every string in it comes from the untrusted bundle and is
 * only data; nothing is pre-escaped, so the writer must escape it for
 * where it goes. Large parts are cut to bounded sizes and flagged
 * ("truncated"), so a hostile bundle cannot make the page unusable. A
 * part that cannot be read becomes an "error" string in its place and
 * never stops the report.
 *
 * Memory and errors: returns a new document (cJSON_Delete), or NULL
 * with the message in inspect_error() when memory runs out.
 */
#ifndef INSPECT_REPORT_DATA_H
#define INSPECT_REPORT_DATA_H

#include <cjson/cJSON.h>

#include "inspect/view.h"

/* Bounds of the page, in bytes. */
#define REPORT_DIFF_MAX (256 * 1024)
#define REPORT_TEXT_MAX (64 * 1024)

cJSON *inspect_report_data(const struct inspect_view *view,
			   const char *path);

#endif
