/*
 * model_script_check.c - checking a request body's fields before a turn
 * is taken, the way the real APIs do.
 *
 * Only what each API requires and what the scripted model reads is
 * checked: the required members, their JSON types, and "stream". The
 * messages in the request are not looked into, because a script returns
 * the same turn whatever they contain.
 *
 * The wording is modelled on the APIs' own errors as bug reports quote
 * them: OpenAI's "Missing required parameter: 'messages'." with code
 * missing_required_parameter and param "messages", and Anthropic's
 * "messages: <reason>" inside {"type": "error", ...}. The texts for a
 * wrong type are estimates in the same style, not copies.
 */
#include <stdint.h>
#include <stdio.h>

#include "harness/model_script_internal.h"

enum field_type {
	FIELD_STRING,
	FIELD_ARRAY,
	FIELD_BOOLEAN,
	FIELD_INTEGER,
	FIELD_INPUT, /* a string or an array (the Responses API's input) */
};

struct field {
	const char *name;
	enum field_type type;
	bool required;
};

static const struct field chat_fields[] = {
	{"model", FIELD_STRING, true},
	{"messages", FIELD_ARRAY, true},
	{"stream", FIELD_BOOLEAN, false},
	{NULL, 0, false},
};

static const struct field responses_fields[] = {
	{"model", FIELD_STRING, true},
	{"input", FIELD_INPUT, false},
	{"stream", FIELD_BOOLEAN, false},
	{NULL, 0, false},
};

static const struct field messages_fields[] = {
	{"model", FIELD_STRING, true},
	{"messages", FIELD_ARRAY, true},
	{"max_tokens", FIELD_INTEGER, true},
	{"stream", FIELD_BOOLEAN, false},
	{NULL, 0, false},
};

/* 2^53: a double represents every integer up to it exactly. */
#define MAX_EXACT 9007199254740992.0

/* Range first: converting a double out of int64_t's range is undefined. */
static bool is_integer(double d)
{
	return d >= -MAX_EXACT && d <= MAX_EXACT && d == (double)(int64_t)d;
}

static bool has_type(const cJSON *item, enum field_type type)
{
	switch (type) {
	case FIELD_STRING:
		return cJSON_IsString(item);
	case FIELD_ARRAY:
		return cJSON_IsArray(item);
	case FIELD_BOOLEAN:
		return cJSON_IsBool(item);
	case FIELD_INTEGER:
		return cJSON_IsNumber(item) && item->valuedouble >= 1 &&
		       is_integer(item->valuedouble);
	case FIELD_INPUT:
		return cJSON_IsString(item) || cJSON_IsArray(item);
	}
	return false;
}

static const char *openai_type_name(enum field_type type)
{
	switch (type) {
	case FIELD_STRING:
		return "a string";
	case FIELD_ARRAY:
		return "an array";
	case FIELD_BOOLEAN:
		return "a boolean";
	case FIELD_INTEGER:
		return "an integer";
	case FIELD_INPUT:
		return "a string or an array";
	}
	return "a value";
}

static const char *anthropic_type_name(enum field_type type)
{
	switch (type) {
	case FIELD_STRING:
		return "Input should be a valid string";
	case FIELD_ARRAY:
		return "Input should be a valid list";
	case FIELD_BOOLEAN:
		return "Input should be a valid boolean";
	case FIELD_INTEGER:
		return "Input should be an integer of at least 1";
	case FIELD_INPUT:
		break;
	}
	return "Input should be valid";
}

static const char *json_type_name(const cJSON *item)
{
	if (cJSON_IsString(item))
		return "a string";
	if (cJSON_IsNumber(item))
		return is_integer(item->valuedouble) ? "an integer"
						     : "a decimal";
	if (cJSON_IsBool(item))
		return "a boolean";
	if (cJSON_IsNull(item))
		return "null";
	if (cJSON_IsArray(item))
		return "an array";
	return "an object";
}

static void describe(enum harness_api api, const struct field *f,
		     const cJSON *item, const char **code, char *message,
		     size_t size)
{
	if (api == HARNESS_API_MESSAGES) {
		*code = item ? "invalid_type" : "missing_required_parameter";
		snprintf(message, size, "%s: %s", f->name,
			 item ? anthropic_type_name(f->type)
			      : "Field required");
	} else if (!item) {
		*code = "missing_required_parameter";
		snprintf(message, size, "Missing required parameter: '%s'.",
			 f->name);
	} else {
		*code = "invalid_type";
		snprintf(message, size,
			 "Invalid type for '%s': expected %s, "
			 "but got %s instead.",
			 f->name, openai_type_name(f->type),
			 json_type_name(item));
	}
}

const char *script_check_request(enum harness_api api, const cJSON *body,
				 const char **code, char *message, size_t size)
{
	const struct field *fields = api == HARNESS_API_CHAT ? chat_fields
				     : api == HARNESS_API_RESPONSES
					     ? responses_fields
					     : messages_fields;

	for (const struct field *f = fields; f->name; f++) {
		const cJSON *item =
			cJSON_GetObjectItemCaseSensitive(body, f->name);

		/* The APIs take null for an optional member left out. */
		if ((!item || cJSON_IsNull(item)) && !f->required)
			continue;
		if (item && has_type(item, f->type))
			continue;
		describe(api, f, item, code, message, size);
		return f->name;
	}
	return NULL;
}
