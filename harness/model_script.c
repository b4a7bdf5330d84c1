/*
 * model_script.c - loading a model script and serving its turns.
 *
 * The response builders for the three APIs live in model_script_wire.c.
 * This file reads the script, picks the turn, and builds the error
 * responses for requests that get no turn.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/canon.h"
#include "harness/decode.h"
#include "harness/error.h"
#include "harness/model_script_internal.h"

static const char *api_suffixes[] = {
	[HARNESS_API_CHAT] = "/chat/completions",
	[HARNESS_API_RESPONSES] = "/responses",
	[HARNESS_API_MESSAGES] = "/messages",
};

enum harness_api harness_api_from_path(const char *path)
{
	size_t len = path ? strlen(path) : 0;

	for (int api = HARNESS_API_CHAT; api <= HARNESS_API_MESSAGES; api++) {
		size_t n = strlen(api_suffixes[api]);

		if (len >= n && strcmp(path + len - n, api_suffixes[api]) == 0)
			return (enum harness_api)api;
	}
	return HARNESS_API_UNKNOWN;
}

const char *harness_api_name(enum harness_api api)
{
	switch (api) {
	case HARNESS_API_CHAT:
		return "chat";
	case HARNESS_API_RESPONSES:
		return "responses";
	case HARNESS_API_MESSAGES:
		return "messages";
	case HARNESS_API_UNKNOWN:
		break;
	}
	return "unknown";
}

static int invalid(const char *name, const char *what, const char *why)
{
	harness_set_error("invalid model script: '%s': %s: %s", name, what,
			  why);
	harness_set_hint("see docs/model-script.md for the format");
	return -1;
}

/* Reject members other than the allowed ones, which catches typos. */
static int only_members(const char *name, const char *what,
			const cJSON *object, const char *const *allowed)
{
	for (const cJSON *item = object->child; item; item = item->next) {
		size_t i = 0;

		while (allowed[i] && strcmp(allowed[i], item->string) != 0)
			i++;
		if (!allowed[i]) {
			char message[160];

			snprintf(message, sizeof(message),
				 "unknown member \"%.80s\"", item->string);
			return invalid(name, what, message);
		}
	}
	return 0;
}

static int read_count(const char *name, const char *what,
		      const cJSON *object, const char *member, long *out)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, member);

	if (!item)
		return 0;
	if (!cJSON_IsNumber(item) || item->valuedouble < 0 ||
	    item->valuedouble > 1e12 ||
	    item->valuedouble != (double)(long)item->valuedouble)
		return invalid(name, what, "usage counts are whole numbers "
				"from 0");
	*out = (long)item->valuedouble;
	return 0;
}

static int parse_usage(const char *name, const char *what,
		       const cJSON *usage, struct script_turn *turn)
{
	static const char *const allowed[] = { "input_tokens",
					       "output_tokens", NULL };

	if (!usage)
		return 0;
	if (!cJSON_IsObject(usage))
		return invalid(name, what, "\"usage\" must be an object");
	if (only_members(name, what, usage, allowed) < 0 ||
	    read_count(name, what, usage, "input_tokens",
		       &turn->input_tokens) < 0 ||
	    read_count(name, what, usage, "output_tokens",
		       &turn->output_tokens) < 0)
		return -1;
	return 0;
}

/* The arguments as compact JSON text, from an object or from a string
 * that contains a JSON object (tool input is an object in every API). */
static char *arguments_text(const char *name, const char *what,
			    const char *path, const cJSON *arguments)
{
	char *text;

	if (!arguments)
		return strdup("{}");
	if (cJSON_IsString(arguments)) {
		cJSON *parsed = harness_json_parse(
			arguments->valuestring,
			strlen(arguments->valuestring));

		if (!cJSON_IsObject(parsed)) {
			cJSON_Delete(parsed);
			invalid(name, what, "\"arguments\" string is not "
				"a JSON object");
			return NULL;
		}
		/* Name a duplicate key by the path that arguments given as
		 * an object would have, so both forms report it the same way. */
		if (script_check_keys(name, path, parsed) < 0) {
			cJSON_Delete(parsed);
			return NULL;
		}
		text = cJSON_PrintUnformatted(parsed);
		cJSON_Delete(parsed);
	} else if (cJSON_IsObject(arguments)) {
		text = cJSON_PrintUnformatted(arguments);
	} else {
		invalid(name, what, "\"arguments\" must be an object or a "
			"string of JSON");
		return NULL;
	}
	if (!text)
		invalid(name, what, "out of memory");
	return text;
}

static int parse_call(const char *name, const char *what,
		      const char *turn_path, size_t index, const cJSON *item,
		      struct script_call *call)
{
	static const char *const allowed[] = { "name", "arguments", "id",
					       NULL };
	const cJSON *tool = cJSON_GetObjectItemCaseSensitive(item, "name");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "id");
	char path[96];

	if (!cJSON_IsObject(item))
		return invalid(name, what, "each tool call must be an "
			       "object");
	if (only_members(name, what, item, allowed) < 0)
		return -1;
	if (!cJSON_IsString(tool) || !*tool->valuestring)
		return invalid(name, what, "a tool call needs a \"name\"");
	if (id && (!cJSON_IsString(id) || !*id->valuestring))
		return invalid(name, what, "\"id\" must be a non-empty "
			       "string");

	call->name = strdup(tool->valuestring);
	call->id = id ? strdup(id->valuestring) : NULL;
	if (!call->name || (id && !call->id))
		return invalid(name, what, "out of memory");
	snprintf(path, sizeof(path), "%s.tool_calls[%zu].arguments",
		 turn_path, index);
	call->arguments = arguments_text(
		name, what, path,
		cJSON_GetObjectItemCaseSensitive(item, "arguments"));
	return call->arguments ? 0 : -1;
}

static int parse_calls(const char *name, const char *what,
		       const char *turn_path, const cJSON *calls,
		       struct script_turn *turn)
{
	size_t n = (size_t)cJSON_GetArraySize(calls);
	size_t i = 0;

	if (!cJSON_IsArray(calls) || n == 0)
		return invalid(name, what, "\"tool_calls\" must be a "
			       "non-empty array");
	turn->calls = calloc(n, sizeof(*turn->calls));
	if (!turn->calls)
		return invalid(name, what, "out of memory");
	for (const cJSON *item = calls->child; item; item = item->next) {
		turn->n_calls = i + 1;
		if (parse_call(name, what, turn_path, i, item,
			       &turn->calls[i]) < 0)
			return -1;
		i++;
	}
	return 0;
}

static int parse_turn(const char *name, int in_object, size_t number,
		      const cJSON *item, struct script_turn *turn)
{
	static const char *const allowed[] = { "text", "tool_calls", "usage",
					       NULL };
	char what[32], path[48];
	const cJSON *text, *calls;

	snprintf(what, sizeof(what), "turn %zu", number);
	snprintf(path, sizeof(path), "%s[%zu]", in_object ? "turns" : "",
		 number - 1);
	if (!cJSON_IsObject(item))
		return invalid(name, what, "a turn must be an object");
	if (only_members(name, what, item, allowed) < 0)
		return -1;

	turn->input_tokens = -1;
	turn->output_tokens = -1;
	text = cJSON_GetObjectItemCaseSensitive(item, "text");
	calls = cJSON_GetObjectItemCaseSensitive(item, "tool_calls");
	if (!text && !calls)
		return invalid(name, what, "a turn needs \"text\" or "
			       "\"tool_calls\"");
	if (text && !cJSON_IsString(text))
		return invalid(name, what, "\"text\" must be a string");
	if (text) {
		turn->text = strdup(text->valuestring);
		if (!turn->text)
			return invalid(name, what, "out of memory");
	}
	if (calls && parse_calls(name, what, path, calls, turn) < 0)
		return -1;
	return parse_usage(name, what,
			   cJSON_GetObjectItemCaseSensitive(item, "usage"),
			   turn);
}

static int parse_options(struct harness_script *script, const cJSON *root)
{
	static const char *const allowed[] = { "model", "created",
					       "delta_bytes", "turns", NULL };
	const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
	const cJSON *created = cJSON_GetObjectItemCaseSensitive(root,
								"created");
	const cJSON *delta = cJSON_GetObjectItemCaseSensitive(root,
							      "delta_bytes");

	if (only_members(script->name, "top level", root, allowed) < 0)
		return -1;
	if (model && (!cJSON_IsString(model) || !*model->valuestring))
		return invalid(script->name, "\"model\"", "must be a "
			       "non-empty string");
	if (model && !(script->model = strdup(model->valuestring)))
		return invalid(script->name, "\"model\"", "out of memory");
	if (created && (!cJSON_IsNumber(created) ||
			created->valuedouble < 0 ||
			created->valuedouble > 4102444800.0))
		return invalid(script->name, "\"created\"", "must be Unix "
			       "seconds");
	if (created)
		script->created = (int64_t)created->valuedouble;
	if (delta && (!cJSON_IsNumber(delta) || delta->valuedouble < 1 ||
		      delta->valuedouble > 1 << 20))
		return invalid(script->name, "\"delta_bytes\"", "must be a "
			       "number from 1 to 1048576");
	if (delta)
		script->delta_bytes = (size_t)delta->valuedouble;
	return 0;
}

static int parse_script(struct harness_script *script, const cJSON *root)
{
	const cJSON *turns = root;
	size_t n, i = 0;

	if (cJSON_IsObject(root)) {
		if (parse_options(script, root) < 0)
			return -1;
		turns = cJSON_GetObjectItemCaseSensitive(root, "turns");
	}
	n = (size_t)cJSON_GetArraySize(turns);
	if (!cJSON_IsArray(turns) || n == 0)
		return invalid(script->name, "\"turns\"", "must be a "
			       "non-empty array");

	script->turns = calloc(n, sizeof(*script->turns));
	if (!script->turns)
		return invalid(script->name, "turns", "out of memory");
	for (const cJSON *item = turns->child; item; item = item->next) {
		script->n_turns = i + 1;
		if (parse_turn(script->name, cJSON_IsObject(root), i + 1,
			       item, &script->turns[i]) < 0)
			return -1;
		i++;
	}
	return 0;
}

struct harness_script *harness_script_parse(const char *text, size_t len,
					    const char *name)
{
	struct harness_script *script = calloc(1, sizeof(*script));
	cJSON *root;

	if (!script) {
		harness_set_error("cannot load model script: '%s': out of "
				  "memory", name);
		return NULL;
	}
	pthread_mutex_init(&script->lock, NULL);
	script->created = HARNESS_SCRIPT_CREATED;
	script->delta_bytes = HARNESS_SCRIPT_DELTA_BYTES;
	script->name = strdup(name);
	if (!script->name) {
		harness_script_free(script);
		harness_set_error("cannot load model script: '%s': out of "
				  "memory", name);
		return NULL;
	}

	root = harness_json_parse(text, len);
	if (!root) {
		/* The reason lives in the buffer that the next message is
		 * written to, so it is copied out first. */
		char reason[512];

		snprintf(reason, sizeof(reason), "%s", harness_error());
		harness_set_error("invalid model script: '%s': %s", name,
				  reason);
		harness_set_hint("the script must be one JSON document; see "
				 "docs/model-script.md");
		harness_script_free(script);
		return NULL;
	}
	if (script_check_keys(name, NULL, root) < 0 ||
	    parse_script(script, root) < 0) {
		cJSON_Delete(root);
		harness_script_free(script);
		return NULL;
	}
	cJSON_Delete(root);
	return script;
}

/*
 * Open without blocking, so that a FIFO or a device with no writer
 * cannot hold the caller in open(). Then fstat() separates a regular
 * file from the rest.
 */
static int open_script(const char *path, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		harness_set_error("cannot open model script: '%s': %s", path,
				  strerror(errno));
		return -1;
	}
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode) ||
	    (size_t)st->st_size > HARNESS_SCRIPT_MAX_BYTES) {
		close(fd);
		harness_set_error("cannot read model script: '%s': not a "
				  "regular file of at most %zu bytes", path,
				  HARNESS_SCRIPT_MAX_BYTES);
		harness_set_hint("pass a regular JSON file of at most 64 MiB, "
				 "as docs/model-script.md describes");
		return -1;
	}
	return fd;
}

/* Read up to size bytes. A file that grows meanwhile is cut there. */
static ssize_t read_all(int fd, char *text, size_t size)
{
	size_t len = 0;

	while (len < size) {
		ssize_t n = read(fd, text + len, size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	return (ssize_t)len;
}

struct harness_script *harness_script_load(const char *path)
{
	struct harness_script *script;
	struct stat st;
	ssize_t len;
	char *text;
	int fd = open_script(path, &st);

	if (fd < 0)
		return NULL;
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		close(fd);
		harness_set_error("cannot read model script: '%s': out of "
				  "memory", path);
		return NULL;
	}
	len = read_all(fd, text, (size_t)st.st_size);
	if (len < 0) {
		harness_set_error("cannot read model script: '%s': %s", path,
				  strerror(errno));
		free(text);
		close(fd);
		return NULL;
	}
	close(fd);

	script = harness_script_parse(text, (size_t)len, path);
	free(text);
	return script;
}

void harness_script_free(struct harness_script *script)
{
	if (!script)
		return;
	for (size_t i = 0; i < script->n_turns; i++) {
		struct script_turn *turn = &script->turns[i];

		for (size_t j = 0; j < turn->n_calls; j++) {
			free(turn->calls[j].name);
			free(turn->calls[j].id);
			free(turn->calls[j].arguments);
		}
		free(turn->calls);
		free(turn->text);
	}
	free(script->turns);
	free(script->model);
	free(script->name);
	pthread_mutex_destroy(&script->lock);
	free(script);
}

size_t harness_script_turns(const struct harness_script *script)
{
	return script->n_turns;
}

size_t harness_script_served(const struct harness_script *script)
{
	struct harness_script *s = (struct harness_script *)script;
	size_t served;

	pthread_mutex_lock(&s->lock);
	served = s->next;
	pthread_mutex_unlock(&s->lock);
	return served;
}

/* The decoded, parsed request body, or NULL with *why set. */
static cJSON *request_body(const struct harness_request *request,
			   const char **why)
{
	const char *coding = harness_headers_get(&request->headers,
						 "Content-Encoding");
	unsigned char *decoded = NULL;
	size_t len = 0;
	cJSON *body;
	int rc = harness_decode_body(coding, request->body, request->body_len,
				     &decoded, &len);

	if (rc < 0) {
		*why = "the request body cannot be decoded";
		return NULL;
	}
	if (rc == 1)
		body = harness_json_parse(request->body, request->body_len);
	else
		body = harness_json_parse(decoded, len);
	free(decoded);
	if (!cJSON_IsObject(body)) {
		cJSON_Delete(body);
		*why = "the request body is not a JSON object";
		return NULL;
	}
	return body;
}

/* Take the next turn, or return 0 when none is left. */
static size_t take_turn(struct harness_script *script)
{
	size_t number = 0;

	pthread_mutex_lock(&script->lock);
	if (script->next < script->n_turns)
		number = ++script->next;
	pthread_mutex_unlock(&script->lock);
	return number;
}

int harness_script_respond(struct harness_script *script,
			   const struct harness_request *request,
			   struct harness_response *response,
			   enum harness_outcome *outcome)
{
	enum harness_api api = harness_api_from_path(request->path);
	const char *why = NULL, *param, *code;
	struct script_context context = { script, api, NULL, 0, false, false };
	char message[256];
	cJSON *body;
	int rc;

	*outcome = HARNESS_COMPLETE;
	if (api == HARNESS_API_UNKNOWN) {
		snprintf(message, sizeof(message),
			 "the model script serves POST .../chat/completions, "
			 ".../responses and .../messages, not %.100s",
			 request->path ? request->path : "(none)");
		return script_error(&context, response, 404,
				    "invalid_request_error",
				    "unknown_url", message);
	}
	if (!request->method || strcmp(request->method, "POST") != 0) {
		snprintf(message, sizeof(message),
			 "the model script takes POST requests, not %.20s",
			 request->method ? request->method : "(none)");
		return script_error(&context, response, 405,
				    "invalid_request_error",
				    "method_not_allowed", message);
	}

	body = request_body(request, &why);
	if (!body)
		return script_error(&context, response, 400,
				    "invalid_request_error", "invalid_json",
				    why);
	param = script_check_request(api, body, &code, message,
				     sizeof(message));
	if (param) {
		rc = script_error_param(&context, response, 400,
					"invalid_request_error", code, param,
					message);
		cJSON_Delete(body);
		return rc;
	}
	context.body = body;
	context.stream = cJSON_IsTrue(
		cJSON_GetObjectItemCaseSensitive(body, "stream"));

	context.turn_number = take_turn(script);
	if (context.turn_number == 0) {
		snprintf(message, sizeof(message),
			 "the model script '%.120s' has no turn left: all %zu "
			 "were served", script->name, script->n_turns);
		*outcome = HARNESS_NO_SCRIPT_TURN;
		rc = script_error(&context, response, 400,
				  "invalid_request_error", "no_script_turn",
				  message);
		cJSON_Delete(body);
		return rc;
	}

	rc = script_build(&context,
			  &script->turns[context.turn_number - 1], response);
	cJSON_Delete(body);
	return rc;
}
