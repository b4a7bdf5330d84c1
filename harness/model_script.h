/*
 * model_script.h - the scripted model: an offline upstream that responds
 * to each request with the next turn of a script, in the wire format of
 * the request.
 *
 * A script is a JSON file (docs/model-script.md) with an ordered list of
 * turns; each turn is a text reply, one or more tool calls, or both, with
 * optional usage numbers. The API is chosen by the request path:
 *   .../chat/completions   OpenAI Chat Completions
 *   .../responses          OpenAI Responses
 *   .../messages           Anthropic Messages
 * A request whose body has "stream": true gets a server-sent event stream
 * in that API's shape, one event per chunk; any other request gets one
 * JSON body.
 *
 * Invariants: turns are served in order, one per successful request, and
 * never twice. Every id and timestamp in a response is derived from the
 * turn number and the script, never from the clock or a random source,
 * so a replay of a scripted run is byte for byte the same. A script is
 * safe to use from several threads at once.
 *
 * Errors in the request (unknown path, invalid JSON) and running out of
 * turns are not failures of the call: they produce an error response in
 * the API's error shape and set the outcome. Functions return -1 only
 * when the script is invalid or memory runs out, with the message in
 * harness_error().
 */
#ifndef HARNESS_MODEL_SCRIPT_H
#define HARNESS_MODEL_SCRIPT_H

#include <stddef.h>

#include "harness/exchange.h"

/* The largest script file read, in bytes. */
#define HARNESS_SCRIPT_MAX_BYTES ((size_t)64 << 20)

enum harness_api {
	HARNESS_API_UNKNOWN,
	HARNESS_API_CHAT,		/* OpenAI Chat Completions */
	HARNESS_API_RESPONSES,		/* OpenAI Responses */
	HARNESS_API_MESSAGES,		/* Anthropic Messages */
};

struct harness_script;

/* Read and check the script at path, which must be a regular file of at
 * most HARNESS_SCRIPT_MAX_BYTES: a FIFO, device or directory is rejected
 * without blocking. Free it with harness_script_free(). */
struct harness_script *harness_script_load(const char *path);

/* Check a script given as len bytes of JSON; name is used in messages. */
struct harness_script *harness_script_parse(const char *text, size_t len,
					    const char *name);

void harness_script_free(struct harness_script *script);

/* How many turns the script has, and how many it has served. */
size_t harness_script_turns(const struct harness_script *script);
size_t harness_script_served(const struct harness_script *script);

/* The API a request path is for. */
enum harness_api harness_api_from_path(const char *path);

/* The stable name of an API: "chat", "responses", "messages". */
const char *harness_api_name(enum harness_api api);

/* Build the response to request in *response, which must be zeroed (the
 * caller releases it with harness_response_release()). Each chunk is one
 * server-sent event, or the whole JSON body, at offset 0. *outcome is
 * HARNESS_COMPLETE, or HARNESS_NO_SCRIPT_TURN when the turns ran out.
 * The response is then an error with status 400, because the SDKs of
 * these APIs do not retry a 400 and the agent stops at once. A request
 * the script cannot serve gets an error response too and consumes no
 * turn: 404 for an unknown path, 405 for a method other than POST, 400
 * for a body that is not a JSON object. Returns 0, or -1 when memory
 * runs out. */
int harness_script_respond(struct harness_script *script,
			   const struct harness_request *request,
			   struct harness_response *response,
			   enum harness_outcome *outcome);

#endif
