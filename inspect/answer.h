/*
 * answer.h - what the model answered in one recorded exchange: its text,
 * its tool calls, the model's name and the token usage, taken from the
 * bodies in any of the three API shapes that agents use.
 *
 *  - OpenAI Chat Completions ("/chat/completions"): choices[0].message,
 *    usage.prompt_tokens and usage.completion_tokens;
 *  - OpenAI Responses ("/responses"): output[] items of type "message"
 *    and "function_call", usage.input_tokens and usage.output_tokens;
 *  - Anthropic Messages ("/messages"): content[] blocks of type "text"
 *    and "tool_use", usage.input_tokens and usage.output_tokens.
 *
 * A streamed response (server-sent events) is reassembled from its
 * deltas in the order they arrived. A compressed body is decoded first
 * (harness/decode.h). The request path picks the shape; when it names
 * none, the response's own fields decide.
 *
 * Invariants: parsing never fails on a body it does not understand: the
 * answer is then empty with api "unknown", so a hostile or damaged body
 * shows as such and never stops a command. It fails only when memory
 * runs out or a compressed body does not decode.
 *
 * Memory: every string in struct inspect_answer is owned by it and
 * released by inspect_answer_release().
 */
#ifndef INSPECT_ANSWER_H
#define INSPECT_ANSWER_H

#include <stddef.h>
#include <stdint.h>

#include "harness/exchange.h"

struct inspect_tool_call {
	char *id;	 /* may be NULL */
	char *name;	 /* never NULL once parsed ("" when absent) */
	char *arguments; /* the JSON text of the arguments, as sent */
};

struct inspect_answer {
	const char *api;      /* "chat", "responses", "messages", "unknown" */
	int streamed;
	char *model;	      /* from the response, else the request; or NULL */
	int has_usage;
	int64_t input_tokens; /* -1 when not reported */
	int64_t output_tokens;
	char *text;	      /* the text answer, "" when none */
	struct inspect_tool_call *calls;
	size_t n_calls;
	size_t calls_alloc;
};

/* Parse the answer of ex into *answer (zeroed first). Returns 0, or -1
 * with a message in inspect_error(); *answer holds nothing then. */
int inspect_answer_parse(const struct harness_exchange *ex,
			 struct inspect_answer *answer);

/* Parse a response body alone (decoded), for a known api or NULL to
 * guess, and the request's body for the model's name (may be NULL). */
int inspect_answer_parse_body(const char *api, const void *body, size_t len,
			      const void *request, size_t request_len,
			      struct inspect_answer *answer);

void inspect_answer_release(struct inspect_answer *answer);

/* The API shape that a request path names, or "unknown". */
const char *inspect_answer_api(const char *path);

#endif
