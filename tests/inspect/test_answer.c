/*
 * test_answer.c - unit tests of the answer extraction: the three API
 * shapes, plain and streamed, compressed bodies, and bodies in no known
 * shape.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "harness/exchange.h"
#include "inspect/answer.h"
#include "inspect/error.h"

/* The test links with --wrap=realloc, so the reallocations of the code
 * under test are counted here. Those of shared libraries are not. */
void *__real_realloc(void *ptr, size_t size);
void *__wrap_realloc(void *ptr, size_t size);
static size_t reallocs;

void *__wrap_realloc(void *ptr, size_t size)
{
	reallocs++;
	return __real_realloc(ptr, size);
}

static void parse(const char *api, const char *body, struct inspect_answer *a)
{
	if (inspect_answer_parse_body(api, body, strlen(body), NULL, 0, a) < 0)
		fail_msg("parse failed: %s", inspect_error());
}

static void chat_plain(void **state)
{
	struct inspect_answer a;

	(void)state;
	parse("chat",
	      "{\"object\": \"chat.completion\", \"model\": \"gpt\","
	      "\"choices\": [{\"message\": {\"content\": \"hi\", "
	      "\"tool_calls\":"
	      "[{\"id\": \"c1\", \"function\": {\"name\": \"ls\", "
	      "\"arguments\":"
	      "\"{\\\"d\\\":1}\"}}]}}], \"usage\": {\"prompt_tokens\": 7,"
	      "\"completion_tokens\": 3}}",
	      &a);
	assert_string_equal(a.text, "hi");
	assert_string_equal(a.model, "gpt");
	assert_int_equal(a.n_calls, 1);
	assert_string_equal(a.calls[0].name, "ls");
	assert_string_equal(a.calls[0].arguments, "{\"d\":1}");
	assert_string_equal(a.calls[0].id, "c1");
	assert_int_equal(a.input_tokens, 7);
	assert_int_equal(a.output_tokens, 3);
	assert_false(a.streamed);
	inspect_answer_release(&a);
}

static void chat_stream_two_calls(void **state)
{
	struct inspect_answer a;

	(void)state;
	parse("chat",
	      "data: {\"choices\": [{\"delta\": {\"content\": \"He\"}}]}\n\n"
	      "data: {\"choices\": [{\"delta\": {\"content\": \"llo\"}}]}\n\n"
	      "data: {\"choices\": [{\"delta\": {\"tool_calls\": [{\"index\": "
	      "0,\"id\": \"a\", \"function\": {\"name\": \"f\", \"arguments\":"
	      "\"{\\\"x\\\"\"}}]}}]}\n\n"
	      "data: {\"choices\": [{\"delta\": {\"tool_calls\": [{\"index\": "
	      "1,\"id\": \"b\", \"function\": {\"name\": \"g\", \"arguments\":"
	      "\"{}\"}}]}}]}\n\n"
	      "data: {\"choices\": [{\"delta\": {\"tool_calls\": [{\"index\": "
	      "0,\"function\": {\"arguments\": \":1}\"}}]}}]}\n\n"
	      "data: {\"choices\": [], \"usage\": {\"prompt_tokens\": 5,"
	      "\"completion_tokens\": 2}}\n\n"
	      "data: [DONE]\n\n",
	      &a);
	assert_true(a.streamed);
	assert_string_equal(a.text, "Hello");
	assert_int_equal(a.n_calls, 2);
	assert_string_equal(a.calls[0].arguments, "{\"x\":1}");
	assert_string_equal(a.calls[1].name, "g");
	assert_int_equal(a.input_tokens, 5);
	inspect_answer_release(&a);
}

static void responses_stream(void **state)
{
	struct inspect_answer a;

	(void)state;
	parse(NULL,
	      "event: response.created\n"
	      "data: {\"type\": \"response.created\", \"response\":"
	      "{\"model\": \"o\", \"usage\": null}}\n\n"
	      "event: response.output_text.delta\n"
	      "data: {\"type\": \"response.output_text.delta\", \"delta\": "
	      "\"ok\"}"
	      "\n\nevent: response.output_item.added\n"
	      "data: {\"type\": \"response.output_item.added\", \"item\":"
	      "{\"type\": \"function_call\", \"name\": \"run\", \"call_id\":"
	      "\"k\"}}\n\n"
	      "data: {\"type\": \"response.function_call_arguments.delta\","
	      "\"delta\": \"{\\\"a\\\":\"}\n\n"
	      "data: {\"type\": \"response.function_call_arguments.delta\","
	      "\"delta\": \"2}\"}\n\n"
	      "data: {\"type\": \"response.completed\", \"response\": "
	      "{\"model\":"
	      "\"o\", \"usage\": {\"input_tokens\": 9, \"output_tokens\": 4}}}"
	      "\n\n",
	      &a);
	assert_string_equal(a.api, "responses");
	assert_string_equal(a.text, "ok");
	assert_int_equal(a.n_calls, 1);
	assert_string_equal(a.calls[0].name, "run");
	assert_string_equal(a.calls[0].id, "k");
	assert_string_equal(a.calls[0].arguments, "{\"a\":2}");
	assert_int_equal(a.output_tokens, 4);
	inspect_answer_release(&a);
}

static void messages_plain_and_stream(void **state)
{
	struct inspect_answer a;

	(void)state;
	parse("messages", "{\"type\": \"message\", \"model\": \"claude\","
	      "\"content\": [{\"type\": \"text\", \"text\": \"t\"},"
	      "{\"type\": \"tool_use\", \"id\": \"u\", \"name\": \"edit\","
	      "\"input\": {\"p\": \"a b\"}}], \"usage\": {\"input_tokens\": 1,"
	      "\"output_tokens\": 2}}", &a);
	assert_string_equal(a.text, "t");
	assert_string_equal(a.calls[0].arguments, "{\"p\":\"a b\"}");
	inspect_answer_release(&a);
	parse("messages",
	      "event: message_start\ndata: {\"type\": \"message_start\","
	      "\"message\": {\"model\": \"claude\", \"usage\":"
	      "{\"input_tokens\": 11, \"output_tokens\": 1}}}\n\n"
	      "data: {\"type\": \"content_block_start\", \"index\": 0,"
	      "\"content_block\": {\"type\": \"tool_use\", \"id\": \"u\","
	      "\"name\": \"edit\", \"input\": {}}}\n\n"
	      "data: {\"type\": \"content_block_delta\", \"index\": 0, "
	      "\"delta\":"
	      "{\"type\": \"input_json_delta\", \"partial_json\": "
	      "\"{\\\"p\\\"\"}}"
	      "\n\ndata: {\"type\": \"content_block_delta\", \"index\": 0,"
	      "\"delta\": {\"type\": \"input_json_delta\", \"partial_json\":"
	      "\": 1}\"}}\n\n"
	      "data: {\"type\": \"message_delta\", \"usage\":"
	      "{\"output_tokens\": 6}}\n\n",
	      &a);
	assert_string_equal(a.model, "claude");
	assert_string_equal(a.calls[0].arguments, "{\"p\": 1}");
	assert_int_equal(a.input_tokens, 11);
	assert_int_equal(a.output_tokens, 6);
	inspect_answer_release(&a);
}

static void unknown_body_is_empty(void **state)
{
	struct inspect_answer a;

	(void)state;
	parse(NULL, "<html>502</html>", &a);
	assert_string_equal(a.api, "unknown");
	assert_string_equal(a.text, "");
	assert_int_equal(a.n_calls, 0);
	assert_int_equal(a.input_tokens, -1);
	assert_null(a.model);
	inspect_answer_release(&a);
}

static void gzip_response_is_decoded(void **state)
{
	const char *body = "{\"object\": \"chat.completion\", \"choices\":"
			   "[{\"message\": {\"content\": \"zipped\"}}]}";
	unsigned char packed[512];
	struct harness_exchange ex = { 0 };
	struct inspect_answer a;
	z_stream z = { 0 };

	(void)state;
	assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 31, 8,
				      Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (unsigned char *)body;
	z.avail_in = (uInt)strlen(body);
	z.next_out = packed;
	z.avail_out = sizeof(packed);
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	ex.request.path = "/v1/chat/completions";
	assert_int_equal(harness_headers_add(&ex.response.headers,
					     "Content-Encoding", "gzip"), 0);
	assert_int_equal(harness_response_add_chunk(&ex.response, packed,
						    z.total_out, 0), 0);
	deflateEnd(&z);
	assert_int_equal(inspect_answer_parse(&ex, &a), 0);
	assert_string_equal(a.text, "zipped");
	inspect_answer_release(&a);
	harness_response_release(&ex.response);
}

/* A long streamed answer comes as one small delta per event. Growing
 * the text by the size of each delta copied the whole text every time,
 * so reading it took time quadratic in its length. Here the text and a
 * tool call's arguments grow in turns, and a second call that moves the
 * array of calls arrives midway. */
#define DELTAS 4000

static void chat_stream_many_deltas(void **state)
{
	static const char text_event[] =
		"data: {\"choices\": [{\"delta\": {\"content\": "
		"\"ab\"}}]}\n\n";
	static const char args_event[] =
		"data: {\"choices\": [{\"delta\": {\"tool_calls\": "
		"[{\"index\": 0, \"function\": {\"arguments\": "
		"\"x\"}}]}}]}\n\n";
	static const char first_call[] =
		"data: {\"choices\": [{\"delta\": {\"tool_calls\": "
		"[{\"index\": 0, \"id\": \"a\", \"function\": "
		"{\"name\": \"f\"}}]}}]}\n\n";
	static const char second_call[] =
		"data: {\"choices\": [{\"delta\": {\"tool_calls\": "
		"[{\"index\": 1, \"id\": \"b\", \"function\": "
		"{\"name\": \"g\", \"arguments\": \"{}\"}}]}}]}\n\n";
	size_t size = sizeof(first_call) + sizeof(second_call) +
		      DELTAS * (sizeof(text_event) + sizeof(args_event)) + 1;
	char *body = malloc(size), *at = body;
	struct inspect_answer a;

	(void)state;
	assert_non_null(body);
	at += sprintf(at, "%s", first_call);
	for (int i = 0; i < DELTAS; i++) {
		if (i == DELTAS / 2)
			at += sprintf(at, "%s", second_call);
		at += sprintf(at, "%s%s", text_event, args_event);
	}
	reallocs = 0;
	parse("chat", body, &a);
	free(body);
	assert_int_equal(strlen(a.text), 2 * DELTAS);
	assert_int_equal(strspn(a.text, "ab"), 2 * DELTAS);
	assert_int_equal(a.n_calls, 2);
	assert_int_equal(strlen(a.calls[0].arguments), DELTAS);
	assert_string_equal(a.calls[1].arguments, "{}");
	/* A buffer that doubles its capacity grows about a dozen times for
	 * these lengths. */
	if (reallocs > 100)
		fail_msg("%zu reallocations for %d deltas", reallocs,
			 2 * DELTAS);
	inspect_answer_release(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(chat_plain),
		cmocka_unit_test(chat_stream_two_calls),
		cmocka_unit_test(responses_stream),
		cmocka_unit_test(messages_plain_and_stream),
		cmocka_unit_test(unknown_body_is_empty),
		cmocka_unit_test(gzip_response_is_decoded),
		cmocka_unit_test(chat_stream_many_deltas),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
