/*
 * model_script_internal.h - what model_script.c and model_script_wire.c
 * share: the parsed script and the response builders.
 */
#ifndef HARNESS_MODEL_SCRIPT_INTERNAL_H
#define HARNESS_MODEL_SCRIPT_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "harness/model_script.h"

/* The "created" time of turn 1 when the script sets none: 2023-11-14,
 * a fixed value so that responses never depend on the clock. */
#define HARNESS_SCRIPT_CREATED 1700000000

/* The default maximum number of bytes in one stream delta. */
#define HARNESS_SCRIPT_DELTA_BYTES 16

struct script_call {
	char *name;
	char *id;		/* NULL: derived from the turn number */
	char *arguments;	/* compact JSON text */
};

struct script_turn {
	char *text;		/* NULL when the turn has only tool calls */
	struct script_call *calls;
	size_t n_calls;
	long input_tokens;	/* -1 when the script gives none */
	long output_tokens;
};

struct harness_script {
	char *name;
	char *model;		/* NULL: the request's model */
	int64_t created;
	size_t delta_bytes;
	struct script_turn *turns;
	size_t n_turns;
	size_t next;		/* turns served; guarded by lock */
	pthread_mutex_t lock;
};

/* The request being served. */
struct script_context {
	const struct harness_script *script;
	enum harness_api api;
	const cJSON *body;	/* the request body; NULL when invalid */
	size_t turn_number;	/* from 1 */
	bool stream;
	bool include_usage;	/* Chat Completions stream_options */
};

/* Build the response for turn into response. Returns 0 or -1. */
int script_build(const struct script_context *context,
		 const struct script_turn *turn,
		 struct harness_response *response);

/* Build an error response in the API's error shape (OpenAI's for an
 * unknown API). Returns 0 or -1. */
int script_error(const struct script_context *context,
		 struct harness_response *response, int status,
		 const char *type, const char *code, const char *message);

/* The same, naming the request member at fault in OpenAI's "param". */
int script_error_param(const struct script_context *context,
		       struct harness_response *response, int status,
		       const char *type, const char *code, const char *param,
		       const char *message);

/* Check the members of a request body (a JSON object) that the API of
 * api requires. Returns NULL when they are valid, or the name of the first
 * member at fault, with *code set to the API's error code and message
 * (of size bytes) to the API's wording. */
const char *script_check_request(enum harness_api api, const cJSON *body,
				 const char **code, char *message,
				 size_t size);

/* Reject a tree in which an object has a key twice (model_script_keys.c).
 * The message names the script, the JSON path of the second member and
 * the key. prefix is the path of root in the script, or NULL for the
 * whole script. */
int script_check_keys(const char *name, const char *prefix,
		      const cJSON *root);

#endif
