/*
 * exchange_json.h - the JSON form of an exchange, byte-exact both ways.
 *
 * One exchange is one JSON object (one line in a JSON Lines file):
 *
 *   {"seq": 1, "upstream": "openai", "started_unix_us": ...,
 *    "duration_us": ..., "outcome": "complete", "failure": null,
 *    "request": {"method": "POST", "path": "/v1/chat/completions",
 *                "query": null, "headers": [["Name", "value"], ...],
 *                "body": "<base64>"},
 *    "response": {"status": 200, "headers": [...],
 *                 "chunks": [{"offset_us": 812, "data": "<base64>"}]}}
 *
 * Bodies and chunks are base64 (RFC 4648, padded), so any bytes survive.
 * Header names and values, the path and the query are JSON strings, or
 * {"base64": "..."} when they are not valid UTF-8 (json_bytes.h).
 */
#ifndef HARNESS_EXCHANGE_JSON_H
#define HARNESS_EXCHANGE_JSON_H

#include <stddef.h>

#include "harness/exchange.h"

struct cJSON;

/* Create the [[name, value], ...] array of headers, or return NULL when
 * out of memory. The caller owns the array. */
struct cJSON *harness_headers_json(const struct harness_headers *headers);

/* The exchange as one line of JSON without a newline, or NULL with a
 * message in harness_error(). The caller frees the string. */
char *harness_exchange_to_json(const struct harness_exchange *ex);

/* Parse text into *ex (zeroed first). Returns 0, or -1 with a message in
 * harness_error() naming the invalid field. On failure *ex holds nothing
 * to release. */
int harness_exchange_from_json(const char *text, struct harness_exchange *ex);

/* The same, but text is a malloc()ed string that is freed as soon as it
 * is parsed, which lowers the peak for a long response. */
int harness_exchange_take_json(char *text, struct harness_exchange *ex);

/* Parse an outcome name from harness_outcome_name(). Returns 0 or -1. */
int harness_outcome_parse(const char *name, enum harness_outcome *outcome);

/*
 * Load every exchange of a JSON Lines file, sorted by seq. Returns 0 with
 * the array in *out (release it with harness_exchanges_free()), or -1
 * with a message naming the file and line.
 */
int harness_exchanges_load(const char *path, struct harness_exchange **out,
			   size_t *count);

void harness_exchanges_free(struct harness_exchange *exchanges, size_t count);

#endif
