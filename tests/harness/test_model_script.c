/*
 * test_model_script.c - unit tests of the scripted model: every wire
 * format, streaming and not, checked byte for byte and parsed back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <pthread.h>
#include <zlib.h>

#include "harness/error.h"
#include "harness/model_script.h"

/* One parsed server-sent event. */
struct event {
	char name[64];		/* "" when the event has no event: line */
	char *data;
	cJSON *json;		/* NULL for "[DONE]" */
};

struct stream {
	struct event events[128];
	size_t count;
};

static struct harness_script *parse(const char *text)
{
	struct harness_script *script =
		harness_script_parse(text, strlen(text), "test.json");

	if (!script)
		fail_msg("script rejected: %s", harness_error());
	return script;
}

/* Add the members that the request of path's API requires, when body
 * (a JSON object) lacks them: these tests are about the responses. */
static char *complete_body(const char *path, const char *body)
{
	cJSON *json = cJSON_Parse(body);
	char *text;

	if (!cJSON_IsObject(json)) {
		cJSON_Delete(json);
		return strdup(body);
	}
	if (!cJSON_HasObjectItem(json, "model"))
		cJSON_AddStringToObject(json, "model", "m");
	if (strstr(path, "/responses") == NULL &&
	    !cJSON_HasObjectItem(json, "messages"))
		cJSON_AddArrayToObject(json, "messages");
	if (strstr(path, "/messages") &&
	    !cJSON_HasObjectItem(json, "max_tokens"))
		cJSON_AddNumberToObject(json, "max_tokens", 100);
	text = cJSON_PrintUnformatted(json);
	cJSON_Delete(json);
	return text;
}

static struct harness_response respond(struct harness_script *script,
				       const char *path, const char *body,
				       enum harness_outcome *outcome)
{
	struct harness_request request = { 0 };
	struct harness_response response = { 0 };
	char *full = complete_body(path, body);

	assert_non_null(full);
	request.method = "POST";
	request.path = (char *)path;
	request.body = (unsigned char *)full;
	request.body_len = strlen(full);
	assert_int_equal(harness_script_respond(script, &request, &response,
						outcome), 0);
	free(full);
	return response;
}

static char *joined(const struct harness_response *response)
{
	size_t len = harness_response_body_len(response), at = 0;
	char *text = malloc(len + 1);

	assert_non_null(text);
	for (size_t i = 0; i < response->n_chunks; i++) {
		memcpy(text + at, response->chunks[i].data,
		       response->chunks[i].len);
		at += response->chunks[i].len;
	}
	text[at] = '\0';
	return text;
}

/* Parse every chunk as exactly one event: an optional "event: NAME"
 * line, one "data: ..." line, and the blank line that ends it. */
static void parse_stream(const struct harness_response *response,
			 struct stream *stream)
{
	memset(stream, 0, sizeof(*stream));
	assert_true(response->n_chunks <= 128);
	for (size_t i = 0; i < response->n_chunks; i++) {
		struct event *e = &stream->events[stream->count++];
		char *chunk = strndup((char *)response->chunks[i].data,
				      response->chunks[i].len);
		char *p = chunk, *end;

		assert_non_null(chunk);
		if (strncmp(p, "event: ", 7) == 0) {
			end = strchr(p, '\n');
			assert_non_null(end);
			assert_true((size_t)(end - p - 7) < sizeof(e->name));
			memcpy(e->name, p + 7, (size_t)(end - p - 7));
			p = end + 1;
		}
		assert_true(strncmp(p, "data: ", 6) == 0);
		p += 6;
		end = strstr(p, "\n\n");
		assert_non_null(end);
		assert_string_equal(end, "\n\n");
		assert_null(memchr(p, '\n', (size_t)(end - p)));
		e->data = strndup(p, (size_t)(end - p));
		if (strcmp(e->data, "[DONE]") != 0) {
			e->json = cJSON_Parse(e->data);
			assert_non_null(e->json);
		}
		free(chunk);
	}
}

static void release_stream(struct stream *stream)
{
	for (size_t i = 0; i < stream->count; i++) {
		free(stream->events[i].data);
		cJSON_Delete(stream->events[i].json);
	}
}

/* The value at a path of members and indexes, as in "a.0.b". */
static const cJSON *at(const cJSON *json, const char *path)
{
	char copy[256];
	char *save = NULL;

	snprintf(copy, sizeof(copy), "%s", path);
	for (char *step = strtok_r(copy, ".", &save); step && json;
	     step = strtok_r(NULL, ".", &save)) {
		if (*step >= '0' && *step <= '9')
			json = cJSON_GetArrayItem(json, atoi(step));
		else
			json = cJSON_GetObjectItemCaseSensitive(json, step);
	}
	return json;
}

static const char *string_at(const cJSON *json, const char *path)
{
	const cJSON *item = at(json, path);

	if (!cJSON_IsString(item))
		fail_msg("no string at %s", path);
	return item->valuestring;
}

static double number_at(const cJSON *json, const char *path)
{
	const cJSON *item = at(json, path);

	if (!cJSON_IsNumber(item))
		fail_msg("no number at %s", path);
	return item->valuedouble;
}

static const char *header(const struct harness_response *response,
			  const char *name)
{
	return harness_headers_get(&response->headers, name);
}

static const char chat_text_stream[] =
	"data: {\"id\":\"chatcmpl-script-1\",\"object\":"
	"\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"m\","
	"\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
	"\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n"
	"data: {\"id\":\"chatcmpl-script-1\",\"object\":"
	"\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"m\","
	"\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi t\"},"
	"\"logprobs\":null,\"finish_reason\":null}]}\n\n"
	"data: {\"id\":\"chatcmpl-script-1\",\"object\":"
	"\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"m\","
	"\"choices\":[{\"index\":0,\"delta\":{\"content\":\"here\"},"
	"\"logprobs\":null,\"finish_reason\":null}]}\n\n"
	"data: {\"id\":\"chatcmpl-script-1\",\"object\":"
	"\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"m\","
	"\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,"
	"\"finish_reason\":\"stop\"}]}\n\n"
	"data: [DONE]\n\n";

static void chat_stream_exact_bytes(void **state)
{
	struct harness_script *script =
		parse("{\"delta_bytes\":4,\"turns\":"
		      "[{\"text\":\"Hi there\"}]}");
	enum harness_outcome outcome;
	struct harness_response r = respond(script, "/v1/chat/completions",
					    "{\"model\":\"m\",\"stream\":true}",
					    &outcome);
	char *text = joined(&r);

	(void)state;
	assert_int_equal(outcome, HARNESS_COMPLETE);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.n_chunks, 5);
	assert_string_equal(header(&r, "Content-Type"),
			    "text/event-stream; charset=utf-8");
	assert_string_equal(text, chat_text_stream);
	free(text);
	harness_response_release(&r);
	harness_script_free(script);
}

static void chat_stream_tool_calls_and_usage(void **state)
{
	struct harness_script *script = parse(
		"{\"delta_bytes\":5,\"turns\":[{\"tool_calls\":["
		"{\"name\":\"bash\",\"arguments\":{\"cmd\":\"ls -la /tmp\"}},"
		"{\"name\":\"read\",\"arguments\":{\"path\":\"a.c\"},"
		"\"id\":\"call_fixed\"}],"
		"\"usage\":{\"input_tokens\":12,\"output_tokens\":3}}]}");
	enum harness_outcome outcome;
	struct harness_response r = respond(
		script, "/v1/chat/completions",
		"{\"model\":\"gpt\",\"stream\":true,"
		"\"stream_options\":{\"include_usage\":true}}",
		&outcome);
	struct stream s;
	char args[2][128] = { "", "" };
	size_t last;
	const cJSON *first;

	(void)state;
	parse_stream(&r, &s);
	last = s.count - 1;
	assert_string_equal(s.events[last].data, "[DONE]");
	assert_null(s.events[last].json);

	first = s.events[0].json;
	assert_string_equal(string_at(first, "choices.0.delta.role"),
			    "assistant");
	assert_true(cJSON_IsNull(at(first, "choices.0.delta.content")));
	assert_int_equal(number_at(first,
				   "choices.0.delta.tool_calls.0.index"), 0);
	assert_string_equal(string_at(first,
				      "choices.0.delta.tool_calls.0.id"),
			    "call_script_1_0");
	assert_string_equal(
		string_at(first, "choices.0.delta.tool_calls.0.function.name"),
		"bash");

	for (size_t i = 0; i + 2 < last; i++) {
		const cJSON *e = s.events[i].json;
		const cJSON *call = at(e, "choices.0.delta.tool_calls.0");
		int index = (int)number_at(call, "index");

		assert_string_equal(string_at(e, "object"),
				    "chat.completion.chunk");
		assert_string_equal(string_at(e, "id"), "chatcmpl-script-1");
		assert_true(cJSON_IsNull(at(e, "usage")));
		assert_true(cJSON_IsNull(at(e, "choices.0.finish_reason")));
		assert_true(index == 0 || index == 1);
		strcat(args[index], string_at(call, "function.arguments"));
		if (at(call, "id") && index == 1)
			assert_string_equal(string_at(call, "id"),
					    "call_fixed");
	}
	assert_string_equal(args[0], "{\"cmd\":\"ls -la /tmp\"}");
	assert_string_equal(args[1], "{\"path\":\"a.c\"}");

	assert_string_equal(string_at(s.events[last - 2].json,
				      "choices.0.finish_reason"),
			    "tool_calls");
	assert_int_equal(cJSON_GetArraySize(at(s.events[last - 1].json,
					       "choices")), 0);
	assert_int_equal(number_at(s.events[last - 1].json,
				   "usage.prompt_tokens"), 12);
	assert_int_equal(number_at(s.events[last - 1].json,
				   "usage.completion_tokens"), 3);
	assert_int_equal(number_at(s.events[last - 1].json,
				   "usage.total_tokens"), 15);
	release_stream(&s);
	harness_response_release(&r);
	harness_script_free(script);
}

static void chat_body_exact_bytes(void **state)
{
	struct harness_script *script = parse(
		"[{\"text\":\"Done.\"},{\"tool_calls\":[{\"name\":\"ls\","
		"\"arguments\":\"{\\\"d\\\": \\\"/\\\"}\"}]}]");
	enum harness_outcome outcome;
	struct harness_response r1 = respond(script, "/v1/chat/completions",
					     "{\"model\":\"m\"}", &outcome);
	struct harness_response r2 = respond(script, "/v1/chat/completions",
					     "{\"model\":\"m\","
					     "\"stream\":false}",
					     &outcome);
	char *t1 = joined(&r1), *t2 = joined(&r2);

	(void)state;
	assert_int_equal(r1.n_chunks, 1);
	assert_string_equal(header(&r1, "Content-Type"), "application/json");
	assert_string_equal(
		t1, "{\"id\":\"chatcmpl-script-1\",\"object\":"
		    "\"chat.completion\",\"created\":1700000000,\"model\":"
		    "\"m\",\"choices\":[{\"index\":0,\"message\":{\"role\":"
		    "\"assistant\",\"content\":\"Done.\",\"refusal\":null},"
		    "\"logprobs\":null,\"finish_reason\":\"stop\"}],"
		    "\"usage\":{\"prompt_tokens\":0,\"completion_tokens\":2,"
		    "\"total_tokens\":2}}");
	assert_string_equal(
		t2, "{\"id\":\"chatcmpl-script-2\",\"object\":"
		    "\"chat.completion\",\"created\":1700000001,\"model\":"
		    "\"m\",\"choices\":[{\"index\":0,\"message\":{\"role\":"
		    "\"assistant\",\"content\":null,\"refusal\":null,"
		    "\"tool_calls\":[{\"id\":\"call_script_2_0\",\"type\":"
		    "\"function\",\"function\":{\"name\":\"ls\",\"arguments\":"
		    "\"{\\\"d\\\":\\\"/\\\"}\"}}]},\"logprobs\":null,"
		    "\"finish_reason\":\"tool_calls\"}],\"usage\":"
		    "{\"prompt_tokens\":0,\"completion_tokens\":3,"
		    "\"total_tokens\":3}}");
	free(t1);
	free(t2);
	harness_response_release(&r1);
	harness_response_release(&r2);
	harness_script_free(script);
}

static const char *const responses_events[] = {
	"response.created",
	"response.in_progress",
	"response.output_item.added",
	"response.content_part.added",
	"response.output_text.delta",
	"response.output_text.delta",
	"response.output_text.done",
	"response.content_part.done",
	"response.output_item.done",
	"response.output_item.added",
	"response.function_call_arguments.delta",
	"response.function_call_arguments.delta",
	"response.function_call_arguments.delta",
	"response.function_call_arguments.done",
	"response.output_item.done",
	"response.completed",
};

static void responses_stream_events(void **state)
{
	struct harness_script *script = parse(
		"{\"delta_bytes\":4,\"model\":\"scripted\",\"turns\":["
		"{\"text\":\"Let me\",\"tool_calls\":[{\"name\":\"ls\","
		"\"arguments\":{\"d\":\"/\"}}]}]}");
	enum harness_outcome outcome;
	struct harness_response r = respond(script, "/v1/responses",
					    "{\"model\":\"gpt\","
					    "\"stream\":true}",
					    &outcome);
	struct stream s;
	char text[64] = "", args[64] = "";
	const cJSON *done;
	size_t n = sizeof(responses_events) / sizeof(responses_events[0]);

	(void)state;
	parse_stream(&r, &s);
	assert_int_equal(s.count, n);
	for (size_t i = 0; i < n; i++) {
		const cJSON *e = s.events[i].json;

		assert_string_equal(s.events[i].name, responses_events[i]);
		assert_non_null(e);
		assert_string_equal(string_at(e, "type"), responses_events[i]);
		assert_int_equal(number_at(e, "sequence_number"), i);
		if (strcmp(s.events[i].name, "response.output_text.delta") == 0)
			strcat(text, string_at(e, "delta"));
		if (strcmp(s.events[i].name,
			   "response.function_call_arguments.delta") == 0) {
			assert_string_equal(string_at(e, "item_id"),
					    "fc_script_1_0");
			assert_int_equal(number_at(e, "output_index"), 1);
			strcat(args, string_at(e, "delta"));
		}
	}
	assert_string_equal(text, "Let me");
	assert_string_equal(args, "{\"d\":\"/\"}");

	assert_string_equal(string_at(s.events[0].json, "response.status"),
			    "in_progress");
	assert_string_equal(string_at(s.events[0].json, "response.model"),
			    "scripted");
	assert_string_equal(string_at(s.events[2].json, "item.type"),
			    "message");
	assert_string_equal(string_at(s.events[3].json, "part.type"),
			    "output_text");
	assert_string_equal(string_at(s.events[9].json, "item.call_id"),
			    "call_script_1_0");
	assert_string_equal(string_at(s.events[9].json, "item.arguments"),
			    "");
	assert_string_equal(string_at(s.events[13].json, "arguments"),
			    "{\"d\":\"/\"}");
	done = s.events[n - 1].json;
	assert_string_equal(string_at(done, "response.id"), "resp_script_1");
	assert_string_equal(string_at(done, "response.status"), "completed");
	assert_string_equal(string_at(done, "response.output.0.content.0.text"),
			    "Let me");
	assert_string_equal(string_at(done, "response.output.1.name"), "ls");
	assert_int_equal(number_at(done, "response.usage.output_tokens"), 5);
	assert_int_equal(number_at(done, "response.usage.total_tokens"), 5);
	for (size_t i = 0; i < s.count; i++)
		assert_string_not_equal(s.events[i].data, "[DONE]");
	release_stream(&s);
	harness_response_release(&r);
	harness_script_free(script);
}

static const char responses_call_stream[] =
	"event: response.created\n"
	"data: {\"type\":\"response.created\",\"sequence_number\":0,"
	"\"response\":{\"id\":\"resp_script_1\","
	"\"object\":\"response\",\"created_at\":1700000000,"
	"\"status\":\"in_progress\",\"error\":null,"
	"\"incomplete_details\":null,\"model\":\"m\",\"output\":[],"
	"\"parallel_tool_calls\":true,\"previous_response_id\":null,"
	"\"usage\":null}}\n\n"
	"event: response.in_progress\n"
	"data: {\"type\":\"response.in_progress\","
	"\"sequence_number\":1,\"response\":{\"id\":\"resp_script_1\","
	"\"object\":\"response\",\"created_at\":1700000000,"
	"\"status\":\"in_progress\",\"error\":null,"
	"\"incomplete_details\":null,\"model\":\"m\",\"output\":[],"
	"\"parallel_tool_calls\":true,\"previous_response_id\":null,"
	"\"usage\":null}}\n\n"
	"event: response.output_item.added\n"
	"data: {\"type\":\"response.output_item.added\","
	"\"sequence_number\":2,\"output_index\":0,"
	"\"item\":{\"id\":\"fc_script_1_0\",\"type\":\"function_call\","
	"\"status\":\"in_progress\",\"arguments\":\"\","
	"\"call_id\":\"call_script_1_0\",\"name\":\"ls\"}}\n\n"
	"event: response.function_call_arguments.delta\n"
	"data: {\"type\":\"response.function_call_arguments.delta\","
	"\"sequence_number\":3,\"item_id\":\"fc_script_1_0\","
	"\"output_index\":0,\"delta\":\"{\\\"d\\\"\"}\n\n"
	"event: response.function_call_arguments.delta\n"
	"data: {\"type\":\"response.function_call_arguments.delta\","
	"\"sequence_number\":4,\"item_id\":\"fc_script_1_0\","
	"\"output_index\":0,\"delta\":\":\\\"/\\\"\"}\n\n"
	"event: response.function_call_arguments.delta\n"
	"data: {\"type\":\"response.function_call_arguments.delta\","
	"\"sequence_number\":5,\"item_id\":\"fc_script_1_0\","
	"\"output_index\":0,\"delta\":\"}\"}\n\n"
	"event: response.function_call_arguments.done\n"
	"data: {\"type\":\"response.function_call_arguments.done\","
	"\"sequence_number\":6,\"item_id\":\"fc_script_1_0\","
	"\"output_index\":0,\"name\":\"ls\","
	"\"arguments\":\"{\\\"d\\\":\\\"/\\\"}\"}\n\n"
	"event: response.output_item.done\n"
	"data: {\"type\":\"response.output_item.done\","
	"\"sequence_number\":7,\"output_index\":0,"
	"\"item\":{\"id\":\"fc_script_1_0\",\"type\":\"function_call\","
	"\"status\":\"completed\","
	"\"arguments\":\"{\\\"d\\\":\\\"/\\\"}\","
	"\"call_id\":\"call_script_1_0\",\"name\":\"ls\"}}\n\n"
	"event: response.completed\n"
	"data: {\"type\":\"response.completed\",\"sequence_number\":8,"
	"\"response\":{\"id\":\"resp_script_1\","
	"\"object\":\"response\",\"created_at\":1700000000,"
	"\"status\":\"completed\",\"error\":null,"
	"\"incomplete_details\":null,\"model\":\"m\","
	"\"output\":[{\"id\":\"fc_script_1_0\","
	"\"type\":\"function_call\",\"status\":\"completed\","
	"\"arguments\":\"{\\\"d\\\":\\\"/\\\"}\","
	"\"call_id\":\"call_script_1_0\",\"name\":\"ls\"}],"
	"\"parallel_tool_calls\":true,\"previous_response_id\":null,"
	"\"usage\":{\"input_tokens\":0,"
	"\"input_tokens_details\":{\"cached_tokens\":0},"
	"\"output_tokens\":3,"
	"\"output_tokens_details\":{\"reasoning_tokens\":0},"
	"\"total_tokens\":3}}}\n\n";

static void responses_stream_exact_bytes(void **state)
{
	struct harness_script *script = parse(
		"{\"delta_bytes\":4,\"turns\":[{\"tool_calls\":[{\"name\":"
		"\"ls\",\"arguments\":{\"d\":\"/\"}}]}]}");
	enum harness_outcome outcome;
	struct harness_response r = respond(script, "/v1/responses",
					    "{\"model\":\"m\","
					    "\"stream\":true}",
					    &outcome);
	char *text = joined(&r);

	(void)state;
	assert_int_equal(r.n_chunks, 9);
	assert_string_equal(text, responses_call_stream);
	free(text);
	harness_response_release(&r);
	harness_script_free(script);
}

static void responses_body_exact_bytes(void **state)
{
	struct harness_script *script =
		parse("[{\"text\":\"ok\",\"usage\":{\"input_tokens\":9,"
		      "\"output_tokens\":1}}]");
	enum harness_outcome outcome;
	struct harness_response r = respond(script, "/v1/responses",
					    "{\"model\":\"m\"}", &outcome);
	char *text = joined(&r);

	(void)state;
	assert_string_equal(
		text,
		"{\"id\":\"resp_script_1\",\"object\":\"response\","
		"\"created_at\":1700000000,\"status\":\"completed\","
		"\"error\":null,\"incomplete_details\":null,\"model\":\"m\","
		"\"output\":[{\"id\":\"msg_script_1\",\"type\":\"message\","
		"\"status\":\"completed\",\"role\":\"assistant\",\"content\":"
		"[{\"type\":\"output_text\",\"annotations\":[],\"text\":"
		"\"ok\"}]}],\"parallel_tool_calls\":true,"
		"\"previous_response_id\":null,\"usage\":{\"input_tokens\":9,"
		"\"input_tokens_details\":{\"cached_tokens\":0},"
		"\"output_tokens\":1,\"output_tokens_details\":"
		"{\"reasoning_tokens\":0},\"total_tokens\":10}}");
	free(text);
	harness_response_release(&r);
	harness_script_free(script);
}

static const char messages_text_stream[] =
	"event: message_start\n"
	"data: {\"type\":\"message_start\",\"message\":{\"id\":"
	"\"msg_script_1\",\"type\":\"message\",\"role\":\"assistant\","
	"\"model\":\"m\",\"content\":[],\"stop_reason\":null,"
	"\"stop_sequence\":null,\"usage\":{\"input_tokens\":7,"
	"\"output_tokens\":1}}}\n\n"
	"event: content_block_start\n"
	"data: {\"type\":\"content_block_start\",\"index\":0,"
	"\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
	"event: ping\n"
	"data: {\"type\":\"ping\"}\n\n"
	"event: content_block_delta\n"
	"data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
	"{\"type\":\"text_delta\",\"text\":\"Hi t\"}}\n\n"
	"event: content_block_delta\n"
	"data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
	"{\"type\":\"text_delta\",\"text\":\"here\"}}\n\n"
	"event: content_block_stop\n"
	"data: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
	"event: message_delta\n"
	"data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
	"\"end_turn\",\"stop_sequence\":null},\"usage\":"
	"{\"output_tokens\":2}}\n\n"
	"event: message_stop\n"
	"data: {\"type\":\"message_stop\"}\n\n";

static void messages_stream_exact_bytes(void **state)
{
	struct harness_script *script =
		parse("{\"delta_bytes\":4,\"turns\":[{\"text\":\"Hi there\","
		      "\"usage\":{\"input_tokens\":7,\"output_tokens\":2}}]}");
	enum harness_outcome outcome;
	struct harness_response r = respond(script, "/v1/messages",
					    "{\"model\":\"m\",\"stream\":true}",
					    &outcome);
	char *text = joined(&r);

	(void)state;
	assert_int_equal(r.n_chunks, 8);
	assert_string_equal(text, messages_text_stream);
	free(text);
	harness_response_release(&r);
	harness_script_free(script);
}

static const char *const messages_events[] = {
	"message_start",       "content_block_start", "ping",
	"content_block_delta", "content_block_stop",  "content_block_start",
	"content_block_delta", "content_block_delta", "content_block_stop",
	"content_block_start", "content_block_delta", "content_block_stop",
	"message_delta",       "message_stop",
};

static void messages_stream_tool_use(void **state)
{
	struct harness_script *script = parse(
		"{\"delta_bytes\":6,\"turns\":[{\"text\":\"Run.\","
		"\"tool_calls\":[{\"name\":\"bash\",\"arguments\":"
		"{\"cmd\":\"ls\"}},{\"name\":\"noop\"}]}]}");
	enum harness_outcome outcome;
	struct harness_response r = respond(script, "/v1/messages",
					    "{\"model\":\"c\",\"stream\":true}",
					    &outcome);
	struct stream s;
	char input[2][64] = { "", "" };
	size_t n = sizeof(messages_events) / sizeof(messages_events[0]);
	cJSON *parsed;

	(void)state;
	parse_stream(&r, &s);
	assert_int_equal(s.count, n);
	for (size_t i = 0; i < n; i++) {
		const cJSON *e = s.events[i].json;

		assert_string_equal(s.events[i].name, messages_events[i]);
		assert_string_equal(string_at(e, "type"), messages_events[i]);
		assert_null(at(e, "sequence_number"));
		if (strcmp(s.events[i].name, "content_block_delta") == 0 &&
		    number_at(e, "index") > 0) {
			int block = (int)number_at(e, "index") - 1;

			assert_string_equal(string_at(e, "delta.type"),
					    "input_json_delta");
			strcat(input[block],
			       string_at(e, "delta.partial_json"));
		}
	}
	assert_string_equal(string_at(s.events[3].json, "delta.type"),
			    "text_delta");
	assert_string_equal(string_at(s.events[5].json, "content_block.type"),
			    "tool_use");
	assert_string_equal(string_at(s.events[5].json, "content_block.id"),
			    "toolu_script_1_0");
	assert_true(cJSON_IsObject(at(s.events[5].json,
				      "content_block.input")));
	assert_string_equal(string_at(s.events[9].json, "content_block.name"),
			    "noop");
	parsed = cJSON_Parse(input[0]);
	assert_string_equal(string_at(parsed, "cmd"), "ls");
	cJSON_Delete(parsed);
	assert_string_equal(input[1], "{}");
	assert_string_equal(string_at(s.events[12].json, "delta.stop_reason"),
			    "tool_use");
	assert_true(cJSON_IsNumber(at(s.events[12].json,
				      "usage.output_tokens")));
	release_stream(&s);
	harness_response_release(&r);
	harness_script_free(script);
}

static void messages_body_exact_bytes(void **state)
{
	struct harness_script *script = parse(
		"[{\"tool_calls\":[{\"name\":\"a\",\"arguments\":{}},"
		"{\"name\":\"b\",\"arguments\":{\"x\":[1,2]}}]}]");
	enum harness_outcome outcome;
	struct harness_response r = respond(script, "/v1/messages",
					    "{\"model\":\"claude\"}", &outcome);
	char *text = joined(&r);

	(void)state;
	assert_string_equal(
		text,
		"{\"id\":\"msg_script_1\",\"type\":\"message\",\"role\":"
		"\"assistant\",\"model\":\"claude\",\"content\":[{\"type\":"
		"\"tool_use\",\"id\":\"toolu_script_1_0\",\"name\":\"a\","
		"\"input\":{}},{\"type\":\"tool_use\",\"id\":"
		"\"toolu_script_1_1\",\"name\":\"b\",\"input\":{\"x\":"
		"[1,2]}}],\"stop_reason\":\"tool_use\",\"stop_sequence\":"
		"null,\"usage\":{\"input_tokens\":0,\"output_tokens\":4}}");
	free(text);
	harness_response_release(&r);
	harness_script_free(script);
}

static void out_of_turns_in_each_shape(void **state)
{
	static const char *const paths[] = { "/v1/chat/completions",
					     "/v1/responses", "/v1/messages" };

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		struct harness_script *script = parse("[{\"text\":\"x\"}]");
		enum harness_outcome outcome;
		struct harness_response r1 = respond(script, paths[i],
						     "{\"stream\":true}",
						     &outcome);
		struct harness_response r2 = respond(script, paths[i],
						     "{\"stream\":true}",
						     &outcome);
		char *text = joined(&r2);
		cJSON *body = cJSON_Parse(text);

		assert_int_equal(outcome, HARNESS_NO_SCRIPT_TURN);
		assert_int_equal(r2.status, 400);
		assert_int_equal(r2.n_chunks, 1);
		assert_string_equal(header(&r2, "Content-Type"),
				    "application/json");
		assert_non_null(body);
		assert_non_null(strstr(string_at(body, "error.message"),
				       "no turn left"));
		if (i == 2) {
			assert_string_equal(string_at(body, "type"), "error");
			assert_string_equal(string_at(body, "error.type"),
					    "invalid_request_error");
		} else {
			assert_string_equal(string_at(body, "error.code"),
					    "no_script_turn");
			assert_true(cJSON_IsNull(at(body, "error.param")));
		}
		assert_int_equal(harness_script_served(script), 1);
		cJSON_Delete(body);
		free(text);
		harness_response_release(&r1);
		harness_response_release(&r2);
		harness_script_free(script);
	}
}

struct responder {
	struct harness_script *script;
	char id[64];
	int status;
};

static void *respond_once(void *arg)
{
	struct responder *r = arg;
	struct harness_request request = { 0 };
	struct harness_response response = { 0 };
	enum harness_outcome outcome;
	char *text;
	cJSON *body;

	request.method = "POST";
	request.path = "/v1/responses";
	request.body = (unsigned char *)"{\"model\":\"m\"}";
	request.body_len = strlen((const char *)request.body);
	if (harness_script_respond(r->script, &request, &response,
				   &outcome) == 0) {
		r->status = response.status;
		text = joined(&response);
		body = cJSON_Parse(text);
		if (cJSON_IsString(cJSON_GetObjectItem(body, "id")))
			snprintf(r->id, sizeof(r->id), "%s",
				 cJSON_GetObjectItem(body, "id")->valuestring);
		cJSON_Delete(body);
		free(text);
	}
	harness_response_release(&response);
	return NULL;
}

/* Concurrent requests each take a different turn, and the ones past the
 * end get the error. */
static void concurrent_requests_take_distinct_turns(void **state)
{
	struct harness_script *script =
		parse("[{\"text\":\"1\"},{\"text\":\"2\"},{\"text\":\"3\"},"
		      "{\"text\":\"4\"},{\"text\":\"5\"},{\"text\":\"6\"}]");
	struct responder responders[8];
	pthread_t threads[8];
	int seen[7] = { 0 }, errors = 0;

	(void)state;
	for (int i = 0; i < 8; i++) {
		responders[i] = (struct responder){ script, "", 0 };
		assert_int_equal(pthread_create(&threads[i], NULL, respond_once,
						&responders[i]), 0);
	}
	for (int i = 0; i < 8; i++)
		pthread_join(threads[i], NULL);
	for (int i = 0; i < 8; i++) {
		int turn = 0;

		if (responders[i].status == 400) {
			errors++;
			continue;
		}
		assert_int_equal(responders[i].status, 200);
		assert_int_equal(sscanf(responders[i].id, "resp_script_%d",
					&turn), 1);
		assert_true(turn >= 1 && turn <= 6);
		seen[turn]++;
	}
	assert_int_equal(errors, 2);
	for (int t = 1; t <= 6; t++)
		assert_int_equal(seen[t], 1);
	assert_int_equal(harness_script_served(script), 6);
	harness_script_free(script);
}

static void bad_requests_consume_no_turn(void **state)
{
	struct harness_script *script = parse("[{\"text\":\"x\"}]");
	enum harness_outcome outcome;
	struct harness_request request = { 0 };
	struct harness_response r = respond(script, "/v1/models", "{}",
					    &outcome);

	(void)state;
	assert_int_equal(r.status, 404);
	assert_int_equal(outcome, HARNESS_COMPLETE);
	harness_response_release(&r);

	r = respond(script, "/v1/messages", "{\"messages\": [", &outcome);
	assert_int_equal(r.status, 400);
	harness_response_release(&r);

	r = respond(script, "/v1/messages", "[1]", &outcome);
	assert_int_equal(r.status, 400);
	harness_response_release(&r);

	request.method = "GET";
	request.path = "/v1/responses";
	assert_int_equal(harness_script_respond(script, &request, &r,
						&outcome), 0);
	assert_int_equal(r.status, 405);
	harness_response_release(&r);

	assert_int_equal(harness_script_served(script), 0);
	r = respond(script, "/v1/messages", "{}", &outcome);
	assert_int_equal(r.status, 200);
	assert_int_equal(harness_script_served(script), 1);
	harness_response_release(&r);
	harness_script_free(script);
}

static void responses_are_deterministic(void **state)
{
	static const char text[] =
		"{\"turns\":[{\"text\":\"one\"},{\"tool_calls\":[{\"name\":"
		"\"t\",\"arguments\":{\"a\":1}}]}]}";
	static const char *const paths[] = { "/v1/chat/completions",
					     "/v1/responses", "/v1/messages" };

	(void)state;
	for (size_t p = 0; p < 3; p++) {
		struct harness_script *a = parse(text), *b = parse(text);

		for (int turn = 0; turn < 2; turn++) {
			enum harness_outcome outcome;
			struct harness_response ra = respond(
				a, paths[p], "{\"stream\":true}", &outcome);
			struct harness_response rb = respond(
				b, paths[p], "{\"stream\":true}", &outcome);
			char *ta = joined(&ra), *tb = joined(&rb);

			assert_string_equal(ta, tb);
			assert_int_equal(ra.n_chunks, rb.n_chunks);
			free(ta);
			free(tb);
			harness_response_release(&ra);
			harness_response_release(&rb);
		}
		harness_script_free(a);
		harness_script_free(b);
	}
}

static void deltas_keep_utf8_whole(void **state)
{
	/* Each of these characters is 2, 3 or 4 bytes long. */
	struct harness_script *script = parse(
		"{\"delta_bytes\":1,\"turns\":[{\"text\":\"\xc3\xa9\xe2\x82"
		"\xac\xf0\x9f\x98\x80" "a\"}]}");
	enum harness_outcome outcome;
	struct harness_response r = respond(script, "/v1/messages",
					    "{\"stream\":true}", &outcome);
	struct stream s;
	char text[32] = "";
	size_t deltas = 0;

	(void)state;
	parse_stream(&r, &s);
	for (size_t i = 0; i < s.count; i++) {
		if (strcmp(s.events[i].name, "content_block_delta") != 0)
			continue;
		deltas++;
		strcat(text, string_at(s.events[i].json, "delta.text"));
	}
	assert_int_equal(deltas, 4);
	assert_string_equal(text, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80" "a");
	release_stream(&s);
	harness_response_release(&r);
	harness_script_free(script);
}

static void gzip_request_body_is_decoded(void **state)
{
	static const char body[] =
		"{\"model\":\"zipped\",\"messages\":[],\"stream\":false}";
	struct harness_script *script = parse("[{\"text\":\"x\"}]");
	unsigned char packed[256];
	struct harness_request request = { 0 };
	struct harness_response r = { 0 };
	enum harness_outcome outcome;
	z_stream z;
	char *text;

	(void)state;
	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8,
				      Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (unsigned char *)body;
	z.avail_in = sizeof(body) - 1;
	z.next_out = packed;
	z.avail_out = sizeof(packed);
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	request.body_len = z.total_out;
	deflateEnd(&z);

	request.method = "POST";
	request.path = "/v1/chat/completions";
	request.body = packed;
	assert_int_equal(harness_headers_add(&request.headers,
					     "Content-Encoding", "gzip"), 0);
	assert_int_equal(harness_script_respond(script, &request, &r,
						&outcome), 0);
	text = joined(&r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(text, "\"model\":\"zipped\""));
	free(text);
	harness_headers_release(&request.headers);
	harness_response_release(&r);
	harness_script_free(script);
}

static void invalid_scripts_are_rejected(void **state)
{
	static const struct {
		const char *text;
		const char *expected;
	} cases[] = {
		{ "", "invalid model script" },
		{ "{\"turns\": [", "invalid model script" },
		{ "[]", "non-empty array" },
		{ "{}", "non-empty array" },
		{ "[{}]", "needs \"text\" or \"tool_calls\"" },
		{ "[{\"txt\":\"a\"}]", "unknown member \"txt\"" },
		{ "[{\"text\":5}]", "\"text\" must be a string" },
		{ "[\"hello\"]", "a turn must be an object" },
		{ "[{\"tool_calls\":[]}]", "non-empty array" },
		{ "[{\"tool_calls\":[{\"arguments\":{}}]}]",
		  "needs a \"name\"" },
		{ "[{\"tool_calls\":[{\"name\":\"a\",\"arguments\":[1]}]}]",
		  "must be an object or a string of JSON" },
		{ "[{\"tool_calls\":[{\"name\":\"a\",\"arguments\":\"{x\"}]}]",
		  "string is not a JSON object" },
		{ "[{\"tool_calls\":[{\"name\":\"a\",\"arguments\":\"[1]\"}]}]",
		  "string is not a JSON object" },
		{ "[{\"tool_calls\":[{\"name\":\"a\",\"id\":\"\"}]}]",
		  "\"id\" must be a non-empty string" },
		{ "{\"model\":\"\",\"turns\":[{\"text\":\"a\"}]}",
		  "\"model\"" },
		{ "{\"created\":\"now\",\"turns\":[{\"text\":\"a\"}]}",
		  "must be Unix seconds" },
		{ "[{\"text\":\"a\",\"usage\":[]}]", "must be an object" },
		{ "[{\"text\":\"a\",\"usage\":{\"input_tokens\":-1}}]",
		  "whole numbers" },
		{ "[{\"text\":\"a\",\"usage\":{\"input_tokens\":1.5}}]",
		  "whole numbers" },
		{ "{\"delta_bytes\":0,\"turns\":[{\"text\":\"a\"}]}",
		  "delta_bytes" },
		{ "{\"modle\":\"x\",\"turns\":[{\"text\":\"a\"}]}",
		  "unknown member \"modle\"" },
		{ "[{\"text\":\"a\",\"text\":\"b\"}]",
		  "'bad.json': [0].text: duplicate key \"text\"" },
		{ "{\"turns\":[{\"text\":\"a\"}],\"turns\":[]}",
		  "'bad.json': turns: duplicate key \"turns\"" },
		{ "{\"turns\":[{\"text\":\"a\"},{\"tool_calls\":[{"
		  "\"name\":\"f\",\"arguments\":{\"q\":{\"my-key\":1,"
		  "\"x\":2,\"my-key\":3}}}]}]}",
		  "turns[1].tool_calls[0].arguments.q[\"my-key\"]: duplicate "
		  "key \"my-key\"" },
		{ "[{\"tool_calls\":[{\"name\":\"f\",\"arguments\":"
		  "\"{\\\"a\\\":1,\\\"a\\\":2}\"}]}]",
		  "'bad.json': [0].tool_calls[0].arguments.a: duplicate key "
		  "\"a\"" },
		{ "{\"turns\":[{\"text\":\"a\"},{\"tool_calls\":[{"
		  "\"name\":\"f\"},{\"name\":\"g\",\"arguments\":"
		  "\"{\\\"city\\\":1,\\\"city\\\":2}\"}]}]}",
		  "'bad.json': turns[1].tool_calls[1].arguments.city: "
		  "duplicate key \"city\"" },
		{ "[{\"tool_calls\":[{\"name\":\"f\",\"arguments\":"
		  "\"{\\\"my-key\\\":1,\\\"my-key\\\":2}\"}]}]",
		  "'bad.json': [0].tool_calls[0].arguments[\"my-key\"]: "
		  "duplicate key \"my-key\"" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct harness_script *script = harness_script_parse(
			cases[i].text, strlen(cases[i].text), "bad.json");

		if (script)
			fail_msg("accepted: %s", cases[i].text);
		if (!strstr(harness_error(), cases[i].expected))
			fail_msg("case %zu: message '%s' lacks '%s'", i,
				 harness_error(), cases[i].expected);
		assert_non_null(strstr(harness_error(), "bad.json"));
	}
}

/* Objects over 32 members are checked by sorting their keys, and the first
 * repeated member in document order is the one reported. */
static void duplicate_in_large_object(void **state)
{
	char text[2048] = "[{\"tool_calls\":[{\"name\":\"f\",\"arguments\":{";
	size_t len = strlen(text);
	struct harness_script *script;

	(void)state;
	for (int i = 0; i < 40; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"\"k%d\":%d,", i, i);
	len += (size_t)snprintf(text + len, sizeof(text) - len,
				"\"k39\":1,\"k7\":2}}]}]");
	assert_null(harness_script_parse(text, len, "large.json"));
	assert_non_null(strstr(harness_error(),
			       "[0].tool_calls[0].arguments.k39: duplicate "
			       "key \"k39\""));

	/* Forty distinct keys pass. */
	len = strlen(text) - strlen("\"k39\":1,\"k7\":2}}]}]");
	len += (size_t)snprintf(text + len, sizeof(text) - len,
				"\"k40\":1}}]}]");
	script = harness_script_parse(text, len, "large.json");
	assert_non_null(script);
	harness_script_free(script);
}

static void deep_script_is_rejected(void **state)
{
	size_t depth = 5000;
	char *text = malloc(depth * 2 + 1);

	(void)state;
	memset(text, '[', depth);
	memset(text + depth, ']', depth);
	text[depth * 2] = '\0';
	assert_null(harness_script_parse(text, depth * 2, "deep.json"));
	assert_non_null(strstr(harness_error(), "deep.json"));
	free(text);
}

static void load_reads_file(void **state)
{
	char path[] = "/tmp/test_model_script_XXXXXX";
	int fd = mkstemp(path);
	static const char text[] = "{\"turns\":[{\"text\":\"from a file\"}]}";
	struct harness_script *script;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1),
			 (ssize_t)sizeof(text) - 1);
	close(fd);
	script = harness_script_load(path);
	assert_non_null(script);
	assert_int_equal(harness_script_turns(script), 1);
	harness_script_free(script);
	unlink(path);

	assert_null(harness_script_load(path));
	assert_non_null(strstr(harness_error(), "cannot open model script"));
	assert_null(harness_script_load("/tmp"));
	assert_non_null(strstr(harness_error(), "not a regular file"));
}

static uint32_t next_random(uint32_t *state)
{
	*state = *state * 1103515245u + 12345u;
	return *state >> 8;
}

/* Mutated scripts and request bodies get an error or a response, never
 * a crash. */
static void mutated_input_never_crashes(void **state)
{
	static const char script_text[] =
		"{\"delta_bytes\":3,\"turns\":[{\"text\":\"h\\u00e9llo\","
		"\"tool_calls\":[{\"name\":\"t\",\"arguments\":{\"a\":[1]}}],"
		"\"usage\":{\"input_tokens\":1}}]}";
	static const char body[] =
		"{\"model\":\"m\",\"stream\":true,"
		"\"stream_options\":{\"include_usage\":true}}";
	static const char *const paths[] = { "/v1/chat/completions",
					     "/v1/responses", "/v1/messages" };
	uint32_t seed = 99;
	char mutated[sizeof(script_text)];

	(void)state;
	for (int i = 0; i < 3000; i++) {
		struct harness_script *script;
		struct harness_request request = { 0 };
		struct harness_response response = { 0 };
		enum harness_outcome outcome;
		char request_body[sizeof(body)];
		size_t len = sizeof(script_text) - 1;

		memcpy(mutated, script_text, sizeof(script_text));
		mutated[next_random(&seed) % len] =
			(char)(next_random(&seed) % 256);
		script = harness_script_parse(mutated, len, "fuzz.json");
		if (!script) {
			assert_true(strlen(harness_error()) > 0);
			continue;
		}
		memcpy(request_body, body, sizeof(body));
		if (i % 2)
			request_body[next_random(&seed) % (sizeof(body) - 1)] =
				(char)(next_random(&seed) % 256);
		request.method = "POST";
		request.path = (char *)paths[i % 3];
		request.body = (unsigned char *)request_body;
		request.body_len = sizeof(body) - 1;
		assert_int_equal(harness_script_respond(script, &request,
							&response, &outcome),
				 0);
		assert_true(response.status == 200 || response.status == 400);
		assert_true(response.n_chunks >= 1);
		harness_response_release(&response);
		harness_script_free(script);
	}
}

static void api_is_chosen_by_path(void **state)
{
	(void)state;
	assert_int_equal(harness_api_from_path("/v1/chat/completions"),
			 HARNESS_API_CHAT);
	assert_int_equal(harness_api_from_path("/openai/v1/responses"),
			 HARNESS_API_RESPONSES);
	assert_int_equal(harness_api_from_path("/v1/messages"),
			 HARNESS_API_MESSAGES);
	assert_int_equal(harness_api_from_path("/v1/messages/count_tokens"),
			 HARNESS_API_UNKNOWN);
	assert_int_equal(harness_api_from_path("/v1/responses/resp_1"),
			 HARNESS_API_UNKNOWN);
	assert_int_equal(harness_api_from_path(NULL), HARNESS_API_UNKNOWN);
	assert_string_equal(harness_api_name(HARNESS_API_RESPONSES),
			    "responses");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(chat_stream_exact_bytes),
		cmocka_unit_test(chat_stream_tool_calls_and_usage),
		cmocka_unit_test(chat_body_exact_bytes),
		cmocka_unit_test(responses_stream_events),
		cmocka_unit_test(responses_stream_exact_bytes),
		cmocka_unit_test(responses_body_exact_bytes),
		cmocka_unit_test(messages_stream_exact_bytes),
		cmocka_unit_test(messages_stream_tool_use),
		cmocka_unit_test(messages_body_exact_bytes),
		cmocka_unit_test(out_of_turns_in_each_shape),
		cmocka_unit_test(concurrent_requests_take_distinct_turns),
		cmocka_unit_test(bad_requests_consume_no_turn),
		cmocka_unit_test(responses_are_deterministic),
		cmocka_unit_test(deltas_keep_utf8_whole),
		cmocka_unit_test(gzip_request_body_is_decoded),
		cmocka_unit_test(invalid_scripts_are_rejected),
		cmocka_unit_test(duplicate_in_large_object),
		cmocka_unit_test(deep_script_is_rejected),
		cmocka_unit_test(load_reads_file),
		cmocka_unit_test(mutated_input_never_crashes),
		cmocka_unit_test(api_is_chosen_by_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
