/*
 * model_script_wire.c - a script turn in the wire formats of OpenAI Chat
 * Completions, OpenAI Responses and Anthropic Messages.
 *
 * Streams are server-sent events, one event per response chunk:
 *  - Chat Completions: "data: {chat.completion.chunk}" frames (the role
 *    first, then content or tool_calls deltas, then one with
 *    finish_reason, then the usage chunk when stream_options requests
 *    it) and a final "data: [DONE]".
 *  - Responses: "event: TYPE" and "data: {...}" with a sequence_number
 *    from 0, from response.created to response.completed, no [DONE].
 *  - Messages: message_start, a ping, each content block's start,
 *    deltas (text_delta or input_json_delta) and stop, message_delta with
 *    stop_reason and usage, message_stop.
 * Text and tool arguments are cut into deltas of at most delta_bytes,
 * never inside a UTF-8 sequence.
 *
 * NOTE: a cJSON call that fails for want of memory leaves a member out
 * instead of failing the response; only the final print is checked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/error.h"
#include "harness/model_script_internal.h"

#define ID_MAX 96

struct emitter {
	const struct script_context *context;
	struct harness_response *response;
	long sequence;		/* Responses sequence_number */
	int failed;
};

static int out_of_memory(void)
{
	harness_set_error("cannot build scripted response: 'model script': "
			  "out of memory");
	return -1;
}

static const char *model_name(const struct script_context *context)
{
	const cJSON *model = cJSON_GetObjectItemCaseSensitive(context->body,
							      "model");

	if (context->script && context->script->model)
		return context->script->model;
	if (cJSON_IsString(model) && *model->valuestring)
		return model->valuestring;
	return "runbundle-script";
}

static double created_at(const struct script_context *context)
{
	return (double)(context->script->created +
			(int64_t)context->turn_number - 1);
}

/* Append one chunk: "event: NAME\n" when name is given, then
 * "data: TEXT\n\n". */
static void emit_text(struct emitter *e, const char *name, const char *text)
{
	char *chunk;
	int len;

	if (e->failed)
		return;
	if (name)
		len = asprintf(&chunk, "event: %s\ndata: %s\n\n", name, text);
	else
		len = asprintf(&chunk, "data: %s\n\n", text);
	if (len < 0) {
		e->failed = 1;
		return;
	}
	if (harness_response_add_chunk(e->response, chunk, (size_t)len, 0) < 0)
		e->failed = 1;
	free(chunk);
}

/* Emit object as one event and free it. */
static void emit(struct emitter *e, const char *name, cJSON *object)
{
	char *text = object ? cJSON_PrintUnformatted(object) : NULL;

	if (!text)
		e->failed = 1;
	else
		emit_text(e, name, text);
	free(text);
	cJSON_Delete(object);
}

/* A Responses event of type with its sequence number, or an Anthropic
 * event of type. */
static cJSON *event_new(struct emitter *e, const char *type)
{
	cJSON *event = cJSON_CreateObject();

	cJSON_AddStringToObject(event, "type", type);
	if (e->context->api == HARNESS_API_RESPONSES)
		cJSON_AddNumberToObject(event, "sequence_number",
					(double)e->sequence++);
	return event;
}

/* The length of the next delta of text, at most max bytes and never
 * inside a UTF-8 sequence (but at least one whole sequence). */
static size_t piece_len(const char *text, size_t len, size_t max)
{
	size_t n = len < max ? len : max;

	while (n > 0 && n < len && ((unsigned char)text[n] & 0xc0) == 0x80)
		n--;
	if (n == 0) {
		n = 1;
		while (n < len && ((unsigned char)text[n] & 0xc0) == 0x80)
			n++;
	}
	return n;
}

/* Cut the next delta off *text, which has *len bytes left. Returns a
 * copy the caller frees, or "" with e->failed set when memory runs out. */
static char *next_piece(struct emitter *e, const char **text, size_t *len)
{
	size_t n = piece_len(*text, *len, e->context->script->delta_bytes);
	char *piece = strndup(*text, n);

	*text += n;
	*len -= n;
	if (!piece) {
		e->failed = 1;
		return strdup("");
	}
	return piece;
}

static int set_headers(struct harness_response *response, bool stream)
{
	if (stream)
		return harness_headers_add(&response->headers, "Content-Type",
					   "text/event-stream; "
					   "charset=utf-8") ||
		       harness_headers_add(&response->headers,
					   "Cache-Control", "no-cache");
	return harness_headers_add(&response->headers, "Content-Type",
				   "application/json");
}

static long output_tokens(const struct script_turn *turn)
{
	size_t bytes = turn->text ? strlen(turn->text) : 0;

	if (turn->output_tokens >= 0)
		return turn->output_tokens;
	for (size_t i = 0; i < turn->n_calls; i++)
		bytes += strlen(turn->calls[i].name) +
			 strlen(turn->calls[i].arguments);
	/* About four bytes a token, as the tokenizers of these APIs
	 * average on English text; only the order of magnitude matters. */
	return (long)((bytes + 3) / 4);
}

static long input_tokens(const struct script_turn *turn)
{
	return turn->input_tokens >= 0 ? turn->input_tokens : 0;
}

static void call_id(const struct script_context *context,
		    const struct script_turn *turn, size_t i,
		    const char *prefix, char id[ID_MAX])
{
	if (turn->calls[i].id)
		snprintf(id, ID_MAX, "%s", turn->calls[i].id);
	else
		snprintf(id, ID_MAX, "%s_script_%zu_%zu", prefix,
			 context->turn_number, i);
}

static void turn_id(const struct script_context *context,
		    const char *prefix, char id[ID_MAX])
{
	snprintf(id, ID_MAX, "%s%zu", prefix, context->turn_number);
}

static int finish(struct emitter *e, int rc)
{
	if (rc < 0 || e->failed)
		return out_of_memory();
	return 0;
}

static int emit_body(struct harness_response *response, cJSON *body)
{
	char *text = body ? cJSON_PrintUnformatted(body) : NULL;
	int rc = -1;

	cJSON_Delete(body);
	if (text && set_headers(response, false) == 0)
		rc = harness_response_add_chunk(response, text, strlen(text),
						0);
	free(text);
	return rc < 0 ? out_of_memory() : 0;
}

/* --- OpenAI Chat Completions --------------------------------------- */

static cJSON *chat_usage(const struct script_turn *turn)
{
	cJSON *usage = cJSON_CreateObject();

	cJSON_AddNumberToObject(usage, "prompt_tokens", input_tokens(turn));
	cJSON_AddNumberToObject(usage, "completion_tokens",
				output_tokens(turn));
	cJSON_AddNumberToObject(usage, "total_tokens",
				input_tokens(turn) + output_tokens(turn));
	return usage;
}

static cJSON *chat_tool_call(const struct script_context *context,
			     const struct script_turn *turn, size_t i,
			     const char *arguments, bool with_index)
{
	cJSON *call = cJSON_CreateObject();
	cJSON *function;
	char id[ID_MAX];

	call_id(context, turn, i, "call", id);
	if (with_index)
		cJSON_AddNumberToObject(call, "index", (double)i);
	cJSON_AddStringToObject(call, "id", id);
	cJSON_AddStringToObject(call, "type", "function");
	function = cJSON_AddObjectToObject(call, "function");
	cJSON_AddStringToObject(function, "name", turn->calls[i].name);
	cJSON_AddStringToObject(function, "arguments", arguments);
	return call;
}

static const char *chat_finish_reason(const struct script_turn *turn)
{
	return turn->n_calls ? "tool_calls" : "stop";
}

static int chat_body(const struct script_context *context,
		     const struct script_turn *turn,
		     struct harness_response *response)
{
	cJSON *body = cJSON_CreateObject();
	cJSON *choice, *message, *calls;
	char id[ID_MAX];

	turn_id(context, "chatcmpl-script-", id);
	cJSON_AddStringToObject(body, "id", id);
	cJSON_AddStringToObject(body, "object", "chat.completion");
	cJSON_AddNumberToObject(body, "created", created_at(context));
	cJSON_AddStringToObject(body, "model", model_name(context));
	choice = cJSON_CreateObject();
	cJSON_AddItemToArray(cJSON_AddArrayToObject(body, "choices"), choice);
	cJSON_AddNumberToObject(choice, "index", 0);
	message = cJSON_AddObjectToObject(choice, "message");
	cJSON_AddStringToObject(message, "role", "assistant");
	if (turn->text)
		cJSON_AddStringToObject(message, "content", turn->text);
	else
		cJSON_AddNullToObject(message, "content");
	cJSON_AddNullToObject(message, "refusal");
	if (turn->n_calls) {
		calls = cJSON_AddArrayToObject(message, "tool_calls");
		for (size_t i = 0; i < turn->n_calls; i++)
			cJSON_AddItemToArray(
				calls, chat_tool_call(context, turn, i,
						      turn->calls[i].arguments,
						      false));
	}
	cJSON_AddNullToObject(choice, "logprobs");
	cJSON_AddStringToObject(choice, "finish_reason",
				chat_finish_reason(turn));
	cJSON_AddItemToObject(body, "usage", chat_usage(turn));
	return emit_body(response, body);
}

/* A chat.completion.chunk with one choice holding delta (taken over). */
static cJSON *chat_chunk(const struct script_context *context, cJSON *delta,
			 const char *finish_reason)
{
	cJSON *chunk = cJSON_CreateObject();
	cJSON *choice = cJSON_CreateObject();
	char id[ID_MAX];

	turn_id(context, "chatcmpl-script-", id);
	cJSON_AddStringToObject(chunk, "id", id);
	cJSON_AddStringToObject(chunk, "object", "chat.completion.chunk");
	cJSON_AddNumberToObject(chunk, "created", created_at(context));
	cJSON_AddStringToObject(chunk, "model", model_name(context));
	cJSON_AddItemToArray(cJSON_AddArrayToObject(chunk, "choices"),
			     choice);
	cJSON_AddNumberToObject(choice, "index", 0);
	cJSON_AddItemToObject(choice, "delta", delta);
	cJSON_AddNullToObject(choice, "logprobs");
	if (finish_reason)
		cJSON_AddStringToObject(choice, "finish_reason",
					finish_reason);
	else
		cJSON_AddNullToObject(choice, "finish_reason");
	if (context->include_usage)
		cJSON_AddNullToObject(chunk, "usage");
	return chunk;
}

static void chat_stream_text(struct emitter *e,
			     const struct script_turn *turn)
{
	const char *text = turn->text;
	size_t len = strlen(text);
	cJSON *delta = cJSON_CreateObject();

	cJSON_AddStringToObject(delta, "role", "assistant");
	cJSON_AddStringToObject(delta, "content", "");
	emit(e, NULL, chat_chunk(e->context, delta, NULL));

	while (len > 0) {
		char *piece = next_piece(e, &text, &len);

		delta = cJSON_CreateObject();
		cJSON_AddStringToObject(delta, "content", piece ? piece : "");
		emit(e, NULL, chat_chunk(e->context, delta, NULL));
		free(piece);
	}
}

/* A delta with one tool_calls element; the first of a call carries its
 * id, type and name. */
static cJSON *chat_call_delta(const struct script_context *context,
			      const struct script_turn *turn, size_t i,
			      const char *piece, bool first)
{
	cJSON *delta = cJSON_CreateObject();
	cJSON *calls, *call, *function;

	if (first && i == 0 && !turn->text) {
		cJSON_AddStringToObject(delta, "role", "assistant");
		cJSON_AddNullToObject(delta, "content");
	}
	calls = cJSON_AddArrayToObject(delta, "tool_calls");
	if (first) {
		call = chat_tool_call(context, turn, i, "", true);
	} else {
		call = cJSON_CreateObject();
		cJSON_AddNumberToObject(call, "index", (double)i);
		function = cJSON_AddObjectToObject(call, "function");
		cJSON_AddStringToObject(function, "arguments", piece);
	}
	cJSON_AddItemToArray(calls, call);
	return delta;
}

static void chat_stream_calls(struct emitter *e,
			      const struct script_turn *turn)
{
	for (size_t i = 0; i < turn->n_calls; i++) {
		const char *args = turn->calls[i].arguments;
		size_t len = strlen(args);

		emit(e, NULL,
		     chat_chunk(e->context,
				chat_call_delta(e->context, turn, i, "", true),
				NULL));
		while (len > 0) {
			char *piece = next_piece(e, &args, &len);
			cJSON *delta = chat_call_delta(e->context, turn, i,
						       piece ? piece : "",
						       false);

			emit(e, NULL, chat_chunk(e->context, delta, NULL));
			free(piece);
		}
	}
}

static int chat_stream(const struct script_context *context,
		       const struct script_turn *turn,
		       struct harness_response *response)
{
	struct emitter e = { context, response, 0, 0 };

	if (set_headers(response, true) < 0)
		return out_of_memory();
	if (turn->text)
		chat_stream_text(&e, turn);
	chat_stream_calls(&e, turn);
	emit(&e, NULL, chat_chunk(context, cJSON_CreateObject(),
				  chat_finish_reason(turn)));

	if (context->include_usage) {
		cJSON *chunk = chat_chunk(context, cJSON_CreateObject(), NULL);

		/* The usage chunk has no choices, and its usage replaces
		 * the null every other chunk carries. */
		cJSON_ReplaceItemInObjectCaseSensitive(
			chunk, "choices", cJSON_CreateArray());
		cJSON_ReplaceItemInObjectCaseSensitive(chunk, "usage",
						       chat_usage(turn));
		emit(&e, NULL, chunk);
	}
	emit_text(&e, NULL, "[DONE]");
	return finish(&e, 0);
}

/* --- OpenAI Responses ---------------------------------------------- */

static cJSON *responses_usage(const struct script_turn *turn)
{
	cJSON *usage = cJSON_CreateObject();

	cJSON_AddNumberToObject(usage, "input_tokens", input_tokens(turn));
	cJSON_AddNumberToObject(
		cJSON_AddObjectToObject(usage, "input_tokens_details"),
		"cached_tokens", 0);
	cJSON_AddNumberToObject(usage, "output_tokens", output_tokens(turn));
	cJSON_AddNumberToObject(
		cJSON_AddObjectToObject(usage, "output_tokens_details"),
		"reasoning_tokens", 0);
	cJSON_AddNumberToObject(usage, "total_tokens",
				input_tokens(turn) + output_tokens(turn));
	return usage;
}

static cJSON *output_text_part(const char *text)
{
	cJSON *part = cJSON_CreateObject();

	cJSON_AddStringToObject(part, "type", "output_text");
	cJSON_AddArrayToObject(part, "annotations");
	cJSON_AddStringToObject(part, "text", text);
	return part;
}

static cJSON *message_item(const struct script_context *context,
			   const struct script_turn *turn, bool done)
{
	cJSON *item = cJSON_CreateObject();
	cJSON *content;
	char id[ID_MAX];

	turn_id(context, "msg_script_", id);
	cJSON_AddStringToObject(item, "id", id);
	cJSON_AddStringToObject(item, "type", "message");
	cJSON_AddStringToObject(item, "status",
				done ? "completed" : "in_progress");
	cJSON_AddStringToObject(item, "role", "assistant");
	content = cJSON_AddArrayToObject(item, "content");
	if (done)
		cJSON_AddItemToArray(content, output_text_part(turn->text));
	return item;
}

static cJSON *function_item(const struct script_context *context,
			    const struct script_turn *turn, size_t i,
			    bool done)
{
	cJSON *item = cJSON_CreateObject();
	char id[ID_MAX];

	snprintf(id, ID_MAX, "fc_script_%zu_%zu", context->turn_number, i);
	cJSON_AddStringToObject(item, "id", id);
	cJSON_AddStringToObject(item, "type", "function_call");
	cJSON_AddStringToObject(item, "status",
				done ? "completed" : "in_progress");
	cJSON_AddStringToObject(item, "arguments",
				done ? turn->calls[i].arguments : "");
	call_id(context, turn, i, "call", id);
	cJSON_AddStringToObject(item, "call_id", id);
	cJSON_AddStringToObject(item, "name", turn->calls[i].name);
	return item;
}

/* The response object; complete adds the output and usage. */
static cJSON *response_object(const struct script_context *context,
			      const struct script_turn *turn, bool complete)
{
	cJSON *response = cJSON_CreateObject();
	cJSON *output;
	char id[ID_MAX];

	turn_id(context, "resp_script_", id);
	cJSON_AddStringToObject(response, "id", id);
	cJSON_AddStringToObject(response, "object", "response");
	cJSON_AddNumberToObject(response, "created_at", created_at(context));
	cJSON_AddStringToObject(response, "status",
				complete ? "completed" : "in_progress");
	cJSON_AddNullToObject(response, "error");
	cJSON_AddNullToObject(response, "incomplete_details");
	cJSON_AddStringToObject(response, "model", model_name(context));
	output = cJSON_AddArrayToObject(response, "output");
	if (complete && turn->text)
		cJSON_AddItemToArray(output, message_item(context, turn, true));
	for (size_t i = 0; complete && i < turn->n_calls; i++)
		cJSON_AddItemToArray(output,
				     function_item(context, turn, i, true));
	cJSON_AddBoolToObject(response, "parallel_tool_calls", 1);
	cJSON_AddNullToObject(response, "previous_response_id");
	if (complete)
		cJSON_AddItemToObject(response, "usage",
				      responses_usage(turn));
	else
		cJSON_AddNullToObject(response, "usage");
	return response;
}

static int responses_body(const struct script_context *context,
			  const struct script_turn *turn,
			  struct harness_response *response)
{
	return emit_body(response, response_object(context, turn, true));
}

static void responses_lifecycle(struct emitter *e, const char *type,
				const struct script_turn *turn, bool complete)
{
	cJSON *event = event_new(e, type);

	cJSON_AddItemToObject(event, "response",
			      response_object(e->context, turn, complete));
	emit(e, type, event);
}

static cJSON *item_event(struct emitter *e, const char *type,
			 size_t output_index)
{
	cJSON *event = event_new(e, type);

	cJSON_AddNumberToObject(event, "output_index", (double)output_index);
	return event;
}

/* An event about the text part of the message item. */
static cJSON *part_event(struct emitter *e, const char *type)
{
	cJSON *event = event_new(e, type);
	char id[ID_MAX];

	turn_id(e->context, "msg_script_", id);
	cJSON_AddStringToObject(event, "item_id", id);
	cJSON_AddNumberToObject(event, "output_index", 0);
	cJSON_AddNumberToObject(event, "content_index", 0);
	return event;
}

static void responses_stream_text(struct emitter *e,
				  const struct script_turn *turn)
{
	const char *text = turn->text;
	size_t len = strlen(text);
	cJSON *event = item_event(e, "response.output_item.added", 0);

	cJSON_AddItemToObject(event, "item",
			      message_item(e->context, turn, false));
	emit(e, "response.output_item.added", event);

	event = part_event(e, "response.content_part.added");
	cJSON_AddItemToObject(event, "part", output_text_part(""));
	emit(e, "response.content_part.added", event);

	while (len > 0) {
		char *piece = next_piece(e, &text, &len);

		event = part_event(e, "response.output_text.delta");
		cJSON_AddStringToObject(event, "delta", piece ? piece : "");
		emit(e, "response.output_text.delta", event);
		free(piece);
	}

	event = part_event(e, "response.output_text.done");
	cJSON_AddStringToObject(event, "text", turn->text);
	emit(e, "response.output_text.done", event);

	event = part_event(e, "response.content_part.done");
	cJSON_AddItemToObject(event, "part", output_text_part(turn->text));
	emit(e, "response.content_part.done", event);

	event = item_event(e, "response.output_item.done", 0);
	cJSON_AddItemToObject(event, "item",
			      message_item(e->context, turn, true));
	emit(e, "response.output_item.done", event);
}

static cJSON *arguments_event(struct emitter *e, const char *type, size_t i,
			      size_t output_index)
{
	cJSON *event = event_new(e, type);
	char id[ID_MAX];

	snprintf(id, ID_MAX, "fc_script_%zu_%zu", e->context->turn_number, i);
	cJSON_AddStringToObject(event, "item_id", id);
	cJSON_AddNumberToObject(event, "output_index", (double)output_index);
	return event;
}

static void responses_stream_call(struct emitter *e,
				  const struct script_turn *turn, size_t i,
				  size_t output_index)
{
	const char *args = turn->calls[i].arguments;
	size_t len = strlen(args);
	cJSON *event = item_event(e, "response.output_item.added",
				  output_index);

	cJSON_AddItemToObject(event, "item",
			      function_item(e->context, turn, i, false));
	emit(e, "response.output_item.added", event);

	while (len > 0) {
		char *piece = next_piece(e, &args, &len);

		event = arguments_event(e,
					"response.function_call_arguments."
					"delta", i, output_index);
		cJSON_AddStringToObject(event, "delta", piece ? piece : "");
		emit(e, "response.function_call_arguments.delta", event);
		free(piece);
	}

	event = arguments_event(e, "response.function_call_arguments.done", i,
				output_index);
	cJSON_AddStringToObject(event, "name", turn->calls[i].name);
	cJSON_AddStringToObject(event, "arguments", turn->calls[i].arguments);
	emit(e, "response.function_call_arguments.done", event);

	event = item_event(e, "response.output_item.done", output_index);
	cJSON_AddItemToObject(event, "item",
			      function_item(e->context, turn, i, true));
	emit(e, "response.output_item.done", event);
}

static int responses_stream(const struct script_context *context,
			    const struct script_turn *turn,
			    struct harness_response *response)
{
	struct emitter e = { context, response, 0, 0 };
	size_t output_index = 0;

	if (set_headers(response, true) < 0)
		return out_of_memory();
	responses_lifecycle(&e, "response.created", turn, false);
	responses_lifecycle(&e, "response.in_progress", turn, false);
	if (turn->text) {
		responses_stream_text(&e, turn);
		output_index++;
	}
	for (size_t i = 0; i < turn->n_calls; i++)
		responses_stream_call(&e, turn, i, output_index++);
	responses_lifecycle(&e, "response.completed", turn, true);
	return finish(&e, 0);
}

/* --- Anthropic Messages -------------------------------------------- */

static const char *stop_reason(const struct script_turn *turn)
{
	return turn->n_calls ? "tool_use" : "end_turn";
}

static cJSON *tool_use_block(const struct script_context *context,
			     const struct script_turn *turn, size_t i,
			     bool with_input)
{
	cJSON *block = cJSON_CreateObject();
	char id[ID_MAX];

	call_id(context, turn, i, "toolu", id);
	cJSON_AddStringToObject(block, "type", "tool_use");
	cJSON_AddStringToObject(block, "id", id);
	cJSON_AddStringToObject(block, "name", turn->calls[i].name);
	if (with_input)
		cJSON_AddItemToObject(block, "input",
				      cJSON_Parse(turn->calls[i].arguments));
	else
		cJSON_AddObjectToObject(block, "input");
	return block;
}

static cJSON *text_block(const char *text)
{
	cJSON *block = cJSON_CreateObject();

	cJSON_AddStringToObject(block, "type", "text");
	cJSON_AddStringToObject(block, "text", text);
	return block;
}

/* The message object; complete adds the content and the stop reason. */
static cJSON *message_object(const struct script_context *context,
			     const struct script_turn *turn, bool complete)
{
	cJSON *message = cJSON_CreateObject();
	cJSON *content, *usage;
	char id[ID_MAX];

	turn_id(context, "msg_script_", id);
	cJSON_AddStringToObject(message, "id", id);
	cJSON_AddStringToObject(message, "type", "message");
	cJSON_AddStringToObject(message, "role", "assistant");
	cJSON_AddStringToObject(message, "model", model_name(context));
	content = cJSON_AddArrayToObject(message, "content");
	if (complete && turn->text)
		cJSON_AddItemToArray(content, text_block(turn->text));
	for (size_t i = 0; complete && i < turn->n_calls; i++)
		cJSON_AddItemToArray(content,
				     tool_use_block(context, turn, i, true));
	if (complete)
		cJSON_AddStringToObject(message, "stop_reason",
					stop_reason(turn));
	else
		cJSON_AddNullToObject(message, "stop_reason");
	cJSON_AddNullToObject(message, "stop_sequence");
	usage = cJSON_AddObjectToObject(message, "usage");
	cJSON_AddNumberToObject(usage, "input_tokens", input_tokens(turn));
	/* message_start reports the one token generated so far. */
	cJSON_AddNumberToObject(usage, "output_tokens",
				complete ? output_tokens(turn) : 1);
	return message;
}

static int messages_body(const struct script_context *context,
			 const struct script_turn *turn,
			 struct harness_response *response)
{
	return emit_body(response, message_object(context, turn, true));
}

static void block_start(struct emitter *e, size_t index, cJSON *block)
{
	cJSON *event = event_new(e, "content_block_start");

	cJSON_AddNumberToObject(event, "index", (double)index);
	cJSON_AddItemToObject(event, "content_block", block);
	emit(e, "content_block_start", event);
}

static void block_delta(struct emitter *e, size_t index, const char *type,
			const char *member, const char *piece)
{
	cJSON *event = event_new(e, "content_block_delta");
	cJSON *delta;

	cJSON_AddNumberToObject(event, "index", (double)index);
	delta = cJSON_AddObjectToObject(event, "delta");
	cJSON_AddStringToObject(delta, "type", type);
	cJSON_AddStringToObject(delta, member, piece);
	emit(e, "content_block_delta", event);
}

static void block_stop(struct emitter *e, size_t index)
{
	cJSON *event = event_new(e, "content_block_stop");

	cJSON_AddNumberToObject(event, "index", (double)index);
	emit(e, "content_block_stop", event);
}

/* Emit the deltas of one block, cut from text. */
static void block_deltas(struct emitter *e, size_t index, const char *type,
			 const char *member, const char *text)
{
	size_t len = strlen(text);

	while (len > 0) {
		char *piece = next_piece(e, &text, &len);

		block_delta(e, index, type, member, piece ? piece : "");
		free(piece);
	}
}

static int messages_stream(const struct script_context *context,
			   const struct script_turn *turn,
			   struct harness_response *response)
{
	struct emitter e = { context, response, 0, 0 };
	size_t index = 0;
	cJSON *event, *delta, *usage;

	if (set_headers(response, true) < 0)
		return out_of_memory();
	event = event_new(&e, "message_start");
	cJSON_AddItemToObject(event, "message",
			      message_object(context, turn, false));
	emit(&e, "message_start", event);

	if (turn->text) {
		block_start(&e, index, text_block(""));
		emit(&e, "ping", event_new(&e, "ping"));
		block_deltas(&e, index, "text_delta", "text", turn->text);
		block_stop(&e, index++);
	}
	for (size_t i = 0; i < turn->n_calls; i++) {
		block_start(&e, index, tool_use_block(context, turn, i, false));
		if (index == 0)
			emit(&e, "ping", event_new(&e, "ping"));
		block_deltas(&e, index, "input_json_delta", "partial_json",
			     turn->calls[i].arguments);
		block_stop(&e, index++);
	}

	event = event_new(&e, "message_delta");
	delta = cJSON_AddObjectToObject(event, "delta");
	cJSON_AddStringToObject(delta, "stop_reason", stop_reason(turn));
	cJSON_AddNullToObject(delta, "stop_sequence");
	usage = cJSON_AddObjectToObject(event, "usage");
	cJSON_AddNumberToObject(usage, "output_tokens", output_tokens(turn));
	emit(&e, "message_delta", event);
	emit(&e, "message_stop", event_new(&e, "message_stop"));
	return finish(&e, 0);
}

/* --- Dispatch ------------------------------------------------------- */

int script_build(const struct script_context *context,
		 const struct script_turn *turn,
		 struct harness_response *response)
{
	struct script_context local = *context;
	const cJSON *options = cJSON_GetObjectItemCaseSensitive(
		context->body, "stream_options");

	local.include_usage = cJSON_IsTrue(
		cJSON_GetObjectItemCaseSensitive(options, "include_usage"));
	response->status = 200;

	switch (context->api) {
	case HARNESS_API_CHAT:
		return local.stream ? chat_stream(&local, turn, response)
				    : chat_body(&local, turn, response);
	case HARNESS_API_RESPONSES:
		return local.stream ? responses_stream(&local, turn, response)
				    : responses_body(&local, turn, response);
	case HARNESS_API_MESSAGES:
		return local.stream ? messages_stream(&local, turn, response)
				    : messages_body(&local, turn, response);
	case HARNESS_API_UNKNOWN:
		break;
	}
	harness_set_error("cannot build scripted response: '%s': unknown "
			  "API", harness_api_name(context->api));
	return -1;
}

int script_error(const struct script_context *context,
		 struct harness_response *response, int status,
		 const char *type, const char *code, const char *message)
{
	return script_error_param(context, response, status, type, code,
				  NULL, message);
}

int script_error_param(const struct script_context *context,
		       struct harness_response *response, int status,
		       const char *type, const char *code, const char *param,
		       const char *message)
{
	cJSON *body = cJSON_CreateObject();
	cJSON *error;

	response->status = status;
	if (context->api == HARNESS_API_MESSAGES) {
		cJSON_AddStringToObject(body, "type", "error");
		error = cJSON_AddObjectToObject(body, "error");
		cJSON_AddStringToObject(error, "type", type);
		cJSON_AddStringToObject(error, "message", message);
	} else {
		error = cJSON_AddObjectToObject(body, "error");
		cJSON_AddStringToObject(error, "message", message);
		cJSON_AddStringToObject(error, "type", type);
		if (param)
			cJSON_AddStringToObject(error, "param", param);
		else
			cJSON_AddNullToObject(error, "param");
		cJSON_AddStringToObject(error, "code", code);
	}
	return emit_body(response, body);
}
