/*
 * answer.c - extract text, tool calls and usage from model API bodies,
 * plain or streamed, in the three API shapes of answer.h.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness/decode.h"
#include "harness/error.h"
#include "inspect/answer.h"
#include "inspect/error.h"
#include "inspect/view.h"

/* A streamed answer arrives as one delta per event, tens of thousands
 * for a long one. Finding the end with strlen() and growing by the exact
 * size made parsing quadratic in its length, so append() keeps the
 * length and capacity of the strings it grew last. An entry is used only
 * while both the field's address and its string match, because the
 * array of tool calls may move. */
#define GROWN_SLOTS 4

struct grown {
	char **dst;
	char *str;
	size_t len, capacity;
};

/* A failure to allocate sticks here and is reported once at the end, so
 * the walkers below stay free of error paths. */
struct builder {
	struct inspect_answer *a;
	int oom;
	struct grown grown[GROWN_SLOTS];
	size_t next_slot;
};

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

const char *inspect_answer_api(const char *path)
{
	if (!path)
		return "unknown";
	if (ends_with(path, "/chat/completions"))
		return "chat";
	if (ends_with(path, "/responses"))
		return "responses";
	if (ends_with(path, "/messages"))
		return "messages";
	return "unknown";
}

static struct grown *grown_slot(struct builder *b, char **dst)
{
	struct grown *slot = NULL;

	/* One entry per field, so that a string that set_str() freed and
	 * malloc() returned again at the same address is not taken for the
	 * old one. */
	for (size_t i = 0; i < GROWN_SLOTS && !slot; i++)
		if (b->grown[i].dst == dst)
			slot = &b->grown[i];
	if (slot && slot->str == *dst && *dst)
		return slot;
	if (!slot)
		slot = &b->grown[b->next_slot++ % GROWN_SLOTS];
	slot->dst = dst;
	slot->str = *dst;
	slot->len = *dst ? strlen(*dst) : 0;
	slot->capacity = *dst ? slot->len + 1 : 0;
	return slot;
}

static void append(struct builder *b, char **dst, const char *text)
{
	size_t add = strlen(text);
	struct grown *slot;

	if (!add && *dst)
		return;
	slot = grown_slot(b, dst);
	if (slot->len + add + 1 > slot->capacity) {
		size_t capacity = slot->capacity ? slot->capacity : 16;
		char *grown;

		while (capacity < slot->len + add + 1)
			capacity *= 2;
		grown = realloc(*dst, capacity);
		if (!grown) {
			b->oom = 1;
			return;
		}
		*dst = grown;
		slot->str = grown;
		slot->capacity = capacity;
	}
	memcpy(*dst + slot->len, text, add + 1);
	slot->len += add;
}

static void set_str(struct builder *b, char **dst, const char *text)
{
	if (!text)
		return;
	free(*dst);
	*dst = NULL;
	append(b, dst, text);
}

static struct inspect_tool_call *new_call(struct builder *b)
{
	struct inspect_answer *a = b->a;
	struct inspect_tool_call *call;

	if (a->n_calls == a->calls_alloc) {
		size_t n = a->calls_alloc ? a->calls_alloc * 2 : 4;
		void *grown = realloc(a->calls, n * sizeof(*a->calls));

		if (!grown) {
			b->oom = 1;
			return NULL;
		}
		a->calls = grown;
		a->calls_alloc = n;
	}
	call = &a->calls[a->n_calls++];
	memset(call, 0, sizeof(*call));
	append(b, &call->name, "");
	append(b, &call->arguments, "");
	return call;
}

static struct inspect_tool_call *last_call(struct builder *b)
{
	return b->a->n_calls ? &b->a->calls[b->a->n_calls - 1] : new_call(b);
}

static void usage(struct builder *b, const cJSON *u, const char *in,
		  const char *out)
{
	double v;

	if (!cJSON_IsObject(u))
		return;
	b->a->has_usage = 1;
	v = inspect_json_num(u, in, -1);
	if (v >= 0)
		b->a->input_tokens = (int64_t)v;
	v = inspect_json_num(u, out, -1);
	if (v >= 0)
		b->a->output_tokens = (int64_t)v;
}

static void add_call(struct builder *b, const char *id, const char *name,
		     const char *arguments)
{
	struct inspect_tool_call *call = new_call(b);

	if (!call)
		return;
	set_str(b, &call->id, id);
	set_str(b, &call->name, name);
	set_str(b, &call->arguments, arguments);
}

static void chat_message(struct builder *b, const cJSON *body)
{
	const cJSON *choice = cJSON_GetArrayItem(
		cJSON_GetObjectItemCaseSensitive(body, "choices"), 0);
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(choice, "message");
	const cJSON *call;
	const char *text = inspect_json_str(msg, "content");

	if (text)
		append(b, &b->a->text, text);
	cJSON_ArrayForEach(call, cJSON_GetObjectItemCaseSensitive(
					 msg, "tool_calls")) {
		const cJSON *fn = cJSON_GetObjectItemCaseSensitive(call,
								   "function");

		add_call(b, inspect_json_str(call, "id"),
			 inspect_json_str(fn, "name"),
			 inspect_json_str(fn, "arguments"));
	}
	usage(b, cJSON_GetObjectItemCaseSensitive(body, "usage"),
	      "prompt_tokens", "completion_tokens");
}

static void responses_item(struct builder *b, const cJSON *item)
{
	const char *type = inspect_json_str(item, "type");
	const cJSON *part;

	if (!type)
		return;
	if (strcmp(type, "function_call") == 0) {
		add_call(b, inspect_json_str(item, "call_id"),
			 inspect_json_str(item, "name"),
			 inspect_json_str(item, "arguments"));
		return;
	}
	if (strcmp(type, "message") != 0)
		return;
	cJSON_ArrayForEach(part, cJSON_GetObjectItemCaseSensitive(item,
								  "content")) {
		const char *ptype = inspect_json_str(part, "type");
		const char *text = inspect_json_str(part, "text");

		if (ptype && strcmp(ptype, "output_text") == 0 && text)
			append(b, &b->a->text, text);
	}
}

static void responses_body(struct builder *b, const cJSON *body)
{
	const cJSON *item;

	cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(body,
								  "output"))
		responses_item(b, item);
	usage(b, cJSON_GetObjectItemCaseSensitive(body, "usage"),
	      "input_tokens", "output_tokens");
}

static void messages_block(struct builder *b, const cJSON *block)
{
	const char *type = inspect_json_str(block, "type");
	const cJSON *input;
	char *args;

	if (!type)
		return;
	if (strcmp(type, "text") == 0 && inspect_json_str(block, "text")) {
		append(b, &b->a->text, inspect_json_str(block, "text"));
		return;
	}
	if (strcmp(type, "tool_use") != 0)
		return;
	input = cJSON_GetObjectItemCaseSensitive(block, "input");
	args = input ? cJSON_PrintUnformatted(input) : NULL;
	/* An empty object opens a streamed call whose input follows in
	 * input_json_delta events. */
	add_call(b, inspect_json_str(block, "id"),
		 inspect_json_str(block, "name"),
		 args && strcmp(args, "{}") != 0 ? args : "");
	free(args);
}

static void messages_body(struct builder *b, const cJSON *body)
{
	const cJSON *block;

	cJSON_ArrayForEach(block, cJSON_GetObjectItemCaseSensitive(body,
								   "content"))
		messages_block(b, block);
	usage(b, cJSON_GetObjectItemCaseSensitive(body, "usage"),
	      "input_tokens", "output_tokens");
}

static const char *guess_api(const cJSON *body)
{
	const char *object = inspect_json_str(body, "object");
	const char *type = inspect_json_str(body, "type");

	if (object && strncmp(object, "chat.completion", 15) == 0)
		return "chat";
	if (object && strcmp(object, "response") == 0)
		return "responses";
	if (type && (strcmp(type, "message") == 0 ||
		     strncmp(type, "message_", 8) == 0 ||
		     strncmp(type, "content_block", 13) == 0))
		return "messages";
	if (type && strncmp(type, "response.", 9) == 0)
		return "responses";
	return "unknown";
}

static void chat_chunk(struct builder *b, const cJSON *chunk)
{
	const cJSON *choice = cJSON_GetArrayItem(
		cJSON_GetObjectItemCaseSensitive(chunk, "choices"), 0);
	const cJSON *delta = cJSON_GetObjectItemCaseSensitive(choice, "delta");
	const cJSON *call;
	const char *text = inspect_json_str(delta, "content");

	if (text)
		append(b, &b->a->text, text);
	cJSON_ArrayForEach(call, cJSON_GetObjectItemCaseSensitive(
					 delta, "tool_calls")) {
		const cJSON *fn = cJSON_GetObjectItemCaseSensitive(call,
								   "function");
		double index = inspect_json_num(call, "index", -1);
		struct inspect_tool_call *c;

		/* A call's first delta has its id or name; later deltas
		 * of the same index carry pieces of the arguments. */
		if (index >= (double)b->a->n_calls || index < 0 ||
		    inspect_json_str(call, "id"))
			c = new_call(b);
		else
			c = &b->a->calls[(size_t)index];
		if (!c)
			return;
		set_str(b, &c->id, inspect_json_str(call, "id"));
		if (inspect_json_str(fn, "name"))
			set_str(b, &c->name, inspect_json_str(fn, "name"));
		if (inspect_json_str(fn, "arguments"))
			append(b, &c->arguments,
			       inspect_json_str(fn, "arguments"));
	}
	usage(b, cJSON_GetObjectItemCaseSensitive(chunk, "usage"),
	      "prompt_tokens", "completion_tokens");
}

static void responses_event(struct builder *b, const cJSON *ev)
{
	const char *type = inspect_json_str(ev, "type");
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(ev, "item");
	const cJSON *response = cJSON_GetObjectItemCaseSensitive(ev,
								  "response");
	const char *delta = inspect_json_str(ev, "delta");

	if (!type)
		return;
	if (strcmp(type, "response.output_text.delta") == 0 && delta) {
		append(b, &b->a->text, delta);
	} else if (strcmp(type, "response.output_item.added") == 0) {
		const char *itype = inspect_json_str(item, "type");

		if (itype && strcmp(itype, "function_call") == 0)
			add_call(b, inspect_json_str(item, "call_id"),
				 inspect_json_str(item, "name"), "");
	} else if (strcmp(type, "response.function_call_arguments.delta") ==
			   0 && delta) {
		struct inspect_tool_call *c = last_call(b);

		if (c)
			append(b, &c->arguments, delta);
	} else if (cJSON_IsObject(response)) {
		set_str(b, &b->a->model, inspect_json_str(response, "model"));
		usage(b, cJSON_GetObjectItemCaseSensitive(response, "usage"),
		      "input_tokens", "output_tokens");
	}
}

static void messages_event(struct builder *b, const cJSON *ev)
{
	const char *type = inspect_json_str(ev, "type");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(ev, "message");
	const cJSON *delta = cJSON_GetObjectItemCaseSensitive(ev, "delta");
	const char *dtype = inspect_json_str(delta, "type");

	if (!type)
		return;
	if (strcmp(type, "message_start") == 0) {
		set_str(b, &b->a->model, inspect_json_str(msg, "model"));
		usage(b, cJSON_GetObjectItemCaseSensitive(msg, "usage"),
		      "input_tokens", "output_tokens");
	} else if (strcmp(type, "content_block_start") == 0) {
		messages_block(b, cJSON_GetObjectItemCaseSensitive(
					  ev, "content_block"));
	} else if (strcmp(type, "content_block_delta") == 0 && dtype) {
		const char *text = inspect_json_str(delta, "text");
		const char *json = inspect_json_str(delta, "partial_json");
		struct inspect_tool_call *c;

		if (strcmp(dtype, "text_delta") == 0 && text)
			append(b, &b->a->text, text);
		if (strcmp(dtype, "input_json_delta") == 0 && json &&
		    (c = last_call(b)))
			append(b, &c->arguments, json);
	} else if (strcmp(type, "message_delta") == 0) {
		usage(b, cJSON_GetObjectItemCaseSensitive(ev, "usage"),
		      "input_tokens", "output_tokens");
	}
}

static void stream_event(struct builder *b, const cJSON *ev)
{
	if (strcmp(b->a->api, "unknown") == 0)
		b->a->api = guess_api(ev);
	if (!inspect_json_str(ev, "type") || strcmp(b->a->api, "chat") == 0)
		set_str(b, &b->a->model, inspect_json_str(ev, "model"));
	if (strcmp(b->a->api, "chat") == 0)
		chat_chunk(b, ev);
	else if (strcmp(b->a->api, "responses") == 0)
		responses_event(b, ev);
	else if (strcmp(b->a->api, "messages") == 0)
		messages_event(b, ev);
}

/* Server-sent events: each "data:" line of the body contains one JSON
 * document in all three APIs; "event:" lines repeat its type. */
static void stream_line(struct builder *b, const char *p, const char *eol)
{
	const char *data = p + 5;
	cJSON *ev;

	if (eol - p < 5 || memcmp(p, "data:", 5) != 0)
		return;
	while (data < eol && *data == ' ')
		data++;
	ev = cJSON_ParseWithLength(data, (size_t)(eol - data));
	if (ev)
		stream_event(b, ev);
	cJSON_Delete(ev);
}

/* A line that spans chunks, put together in a buffer of its own. */
struct carry {
	char *p;
	size_t len, capacity;
};

static void carry_add(struct builder *b, struct carry *c, const char *p,
		      size_t n)
{
	if (c->len + n > c->capacity) {
		size_t capacity = c->capacity ? c->capacity : 256;
		char *grown;

		while (capacity < c->len + n)
			capacity *= 2;
		grown = realloc(c->p, capacity);
		if (!grown) {
			b->oom = 1;
			return;
		}
		c->p = grown;
		c->capacity = capacity;
	}
	memcpy(c->p + c->len, p, n);
	c->len += n;
}

/* Parse the whole lines of one piece of a streamed body. A line that
 * goes on in the next piece is kept in c. */
static void stream_piece(struct builder *b, struct carry *c, const char *p,
			 size_t len)
{
	const char *end = p + len;

	while (p < end && !b->oom) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (!nl) {
			carry_add(b, c, p, (size_t)(end - p));
			return;
		}
		if (c->len) {
			carry_add(b, c, p, (size_t)(nl - p));
			if (!b->oom)
				stream_line(b, c->p, c->p + c->len);
			c->len = 0;
		} else {
			stream_line(b, p, nl);
		}
		p = nl + 1;
	}
}

/* Parse the last line, which no newline ends, and free c. */
static void stream_end(struct builder *b, struct carry *c)
{
	if (c->len && !b->oom)
		stream_line(b, c->p, c->p + c->len);
	free(c->p);
}

static void parse_stream(struct builder *b, const char *body, size_t len)
{
	struct carry c = {0};

	stream_piece(b, &c, body, len);
	stream_end(b, &c);
}

/* parse_stream() over the chunks as they are stored, so that a long
 * streamed body is not copied whole once more. */
static void parse_stream_chunks(struct builder *b,
				const struct harness_response *r)
{
	struct carry c = {0};

	for (size_t i = 0; i < r->n_chunks && !b->oom; i++)
		stream_piece(b, &c, (const char *)r->chunks[i].data,
			     r->chunks[i].len);
	stream_end(b, &c);
}

static void parse_plain(struct builder *b, const cJSON *body)
{
	if (strcmp(b->a->api, "unknown") == 0)
		b->a->api = guess_api(body);
	set_str(b, &b->a->model, inspect_json_str(body, "model"));
	if (strcmp(b->a->api, "chat") == 0)
		chat_message(b, body);
	else if (strcmp(b->a->api, "responses") == 0)
		responses_body(b, body);
	else if (strcmp(b->a->api, "messages") == 0)
		messages_body(b, body);
}

static int is_stream(const char *body, size_t len)
{
	while (len && (*body == '\n' || *body == '\r' || *body == ' ')) {
		body++;
		len--;
	}
	return (len >= 5 && memcmp(body, "data:", 5) == 0) ||
	       (len >= 6 && memcmp(body, "event:", 6) == 0) ||
	       (len >= 1 && *body == ':');
}

static void request_model(struct builder *b, const void *req, size_t len)
{
	cJSON *json;

	if (b->a->model || !req || !len)
		return;
	json = cJSON_ParseWithLength(req, len);
	set_str(b, &b->a->model, inspect_json_str(json, "model"));
	cJSON_Delete(json);
}

static void begin(struct builder *b, const char *api,
		  struct inspect_answer *answer)
{
	memset(b, 0, sizeof(*b));
	b->a = answer;
	memset(answer, 0, sizeof(*answer));
	answer->api = api ? api : "unknown";
	answer->input_tokens = -1;
	answer->output_tokens = -1;
}

static void parse_joined(struct builder *b, const void *body, size_t len)
{
	if (is_stream(body, len)) {
		b->a->streamed = 1;
		parse_stream(b, body, len);
	} else {
		cJSON *json = cJSON_ParseWithLength(body, len);

		if (json)
			parse_plain(b, json);
		cJSON_Delete(json);
	}
}

static int finish(struct builder *b, const void *request, size_t request_len)
{
	struct inspect_answer *answer = b->a;

	request_model(b, request, request_len);
	append(b, &answer->text, "");
	if (b->oom) {
		inspect_answer_release(answer);
		inspect_set_error("cannot read answer: out of memory");
		return -1;
	}
	return 0;
}

int inspect_answer_parse_body(const char *api, const void *body, size_t len,
			      const void *request, size_t request_len,
			      struct inspect_answer *answer)
{
	struct builder b;

	begin(&b, api, answer);
	parse_joined(&b, body, len);
	return finish(&b, request, request_len);
}

static int join_body(const struct harness_response *r, unsigned char **out,
		     size_t *len)
{
	size_t total = harness_response_body_len(r), at = 0;

	*out = malloc(total + 1);
	if (!*out) {
		inspect_set_error("cannot read answer: out of memory");
		return -1;
	}
	for (size_t i = 0; i < r->n_chunks; i++) {
		if (r->chunks[i].len)
			memcpy(*out + at, r->chunks[i].data, r->chunks[i].len);
		at += r->chunks[i].len;
	}
	(*out)[at] = '\0';
	*len = at;
	return 0;
}

static int decode(const struct harness_headers *h, unsigned char **body,
		  size_t *len)
{
	const char *enc = harness_headers_get(h, "Content-Encoding");
	unsigned char *out;
	size_t out_len;
	int rc = harness_decode_body(enc, *body, *len, &out, &out_len);

	if (rc < 0)
		return inspect_take_error(harness_error(),
					  harness_error_hint());
	if (rc == 0) {
		free(*body);
		*body = out;
		*len = out_len;
	}
	return 0;
}

/* is_stream() of the body that the chunks make up, without joining them:
 * the first bytes after the leading blanks may lie in any chunk. */
static int chunks_are_stream(const struct harness_response *r)
{
	char head[6] = {0};
	size_t n = 0;

	for (size_t i = 0; i < r->n_chunks && n < sizeof(head); i++) {
		for (size_t k = 0; k < r->chunks[i].len && n < sizeof(head);
		     k++) {
			char c = (char)r->chunks[i].data[k];

			if (n == 0 && (c == '\n' || c == '\r' || c == ' '))
				continue;
			head[n++] = c;
		}
	}
	return is_stream(head, n);
}

int inspect_answer_parse(const struct harness_exchange *ex,
			 struct inspect_answer *answer)
{
	const struct harness_response *r = &ex->response;
	unsigned char *body = NULL, *req = NULL;
	size_t len = 0, req_len = ex->request.body_len;
	/* A body stored as sent, the common case, is read from its
	 * chunks; only an encoded one is joined to be decoded. */
	int encoded = harness_headers_get(&r->headers,
					  "Content-Encoding") != NULL;
	struct builder b;
	int rc = -1;

	memset(answer, 0, sizeof(*answer));
	if (encoded && (join_body(r, &body, &len) < 0 ||
			decode(&r->headers, &body, &len) < 0))
		goto out;
	req = malloc(req_len + 1);
	if (!req) {
		inspect_set_error("cannot read answer: out of memory");
		goto out;
	}
	if (req_len)
		memcpy(req, ex->request.body, req_len);
	if (decode(&ex->request.headers, &req, &req_len) < 0)
		goto out;
	begin(&b, inspect_answer_api(ex->request.path), answer);
	if (encoded) {
		parse_joined(&b, body, len);
	} else if (chunks_are_stream(r)) {
		answer->streamed = 1;
		parse_stream_chunks(&b, r);
	} else if (r->n_chunks == 1) {
		parse_joined(&b, r->chunks[0].data, r->chunks[0].len);
	} else {
		if (join_body(r, &body, &len) < 0)
			goto out;
		parse_joined(&b, body, len);
	}
	rc = finish(&b, req, req_len);
out:
	free(body);
	free(req);
	return rc;
}

void inspect_answer_release(struct inspect_answer *answer)
{
	for (size_t i = 0; i < answer->n_calls; i++) {
		free(answer->calls[i].id);
		free(answer->calls[i].name);
		free(answer->calls[i].arguments);
	}
	free(answer->calls);
	free(answer->model);
	free(answer->text);
	memset(answer, 0, sizeof(*answer));
}
