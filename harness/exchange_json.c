/*
 * exchange_json.c - serializing exchanges with cJSON, bodies in base64
 * through OpenSSL. The response's chunks are written as text directly.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "harness/error.h"
#include "harness/exchange_json.h"
#include "harness/input_file.h"
#include "harness/json_bytes.h"
#include "harness/json_integer.h"

static const enum harness_outcome outcomes[] = {
	HARNESS_COMPLETE,	HARNESS_UPSTREAM_FAILED, HARNESS_UPSTREAM_CUT,
	HARNESS_CLIENT_ABORTED, HARNESS_NO_SCRIPT_TURN,
};

int harness_outcome_parse(const char *name, enum harness_outcome *outcome)
{
	for (size_t i = 0; i < sizeof(outcomes) / sizeof(*outcomes); i++) {
		if (strcmp(harness_outcome_name(outcomes[i]), name) == 0) {
			*outcome = outcomes[i];
			return 0;
		}
	}
	return -1;
}

cJSON *harness_headers_json(const struct harness_headers *headers)
{
	cJSON *array = cJSON_CreateArray();

	for (size_t i = 0; array && i < headers->count; i++) {
		cJSON *item = cJSON_CreateArray();

		if (!item || !cJSON_AddItemToArray(array, item) ||
		    !cJSON_AddItemToArray(
			    item, harness_json_text(headers->items[i].name)) ||
		    !cJSON_AddItemToArray(
			    item, harness_json_text(headers->items[i].value))) {
			cJSON_Delete(array);
			return NULL;
		}
	}
	return array;
}

static cJSON *request_json(const struct harness_request *req)
{
	cJSON *obj = cJSON_CreateObject();

	if (!obj)
		return NULL;
	cJSON_AddStringToObject(obj, "method", req->method);
	cJSON_AddItemToObject(obj, "path", harness_json_text(req->path));
	cJSON_AddItemToObject(obj, "query", harness_json_text(req->query));
	cJSON_AddItemToObject(obj, "headers",
			      harness_headers_json(&req->headers));
	cJSON_AddItemToObject(obj, "body",
			      harness_json_base64(req->body, req->body_len));
	return obj;
}

/* The response without its chunks: "chunks" is an empty array, its
 * last member, which chunks_text() fills in the printed text. */
static cJSON *response_json(const struct harness_response *resp)
{
	cJSON *obj = cJSON_CreateObject();

	if (!obj)
		return NULL;
	cJSON_AddNumberToObject(obj, "status", resp->status);
	/* Left out when unknown, as in records made before it was kept. */
	if (resp->head_offset_us)
		harness_json_add_integer(obj, "head_offset_us",
					 (int64_t)resp->head_offset_us);
	cJSON_AddItemToObject(obj, "headers",
			      harness_headers_json(&resp->headers));
	if (!cJSON_AddArrayToObject(obj, "chunks")) {
		cJSON_Delete(obj);
		return NULL;
	}
	return obj;
}

/* Print one chunk's object at out, or with out NULL only count it.
 * Returns its length. The data is base64 (RFC 4648), as
 * harness_json_base64() writes it. */
static size_t chunk_text(char *out, const struct harness_chunk *chunk)
{
	char head[64];
	int n = snprintf(head, sizeof(head), "{\"offset_us\":%" PRIu64
			 ",\"data\":\"", chunk->offset_us);
	size_t data_len = 4 * ((chunk->len + 2) / 3);

	if (out) {
		memcpy(out, head, (size_t)n);
		EVP_EncodeBlock((unsigned char *)out + n, chunk->data,
				(int)chunk->len);
		memcpy(out + n + data_len, "\"}", 2);
	}
	return (size_t)n + data_len + 2;
}

/*
 * Put the chunks into text, which ends in the empty array of
 * response_json() and the two closing braces. A streamed response can be
 * hundreds of MB, so its base64 goes straight into a buffer of the exact
 * size, where a cJSON string for each chunk and cJSON's growing print
 * buffer held it twice more. Returns the new text, or NULL.
 */
static char *chunks_text(char *text, const struct harness_response *resp)
{
	static const char tail[] = "]}}";
	size_t len = strlen(text), head = len - (sizeof(tail) - 1), size;
	char *out, *at;

	/* The invariant that response_json() and the order of members
	 * keep: the text ends in "[]}}". */
	if (len < 4 || memcmp(text + len - 4, "[]}}", 4) != 0)
		return NULL;
	size = head;

	for (size_t i = 0; i < resp->n_chunks; i++)
		size += chunk_text(NULL, &resp->chunks[i]) + (i > 0);
	out = malloc(size + sizeof(tail));
	if (!out)
		return NULL;

	memcpy(out, text, head);
	at = out + head;
	for (size_t i = 0; i < resp->n_chunks; i++) {
		if (i > 0)
			*at++ = ',';
		at += chunk_text(at, &resp->chunks[i]);
	}
	memcpy(at, tail, sizeof(tail));
	return out;
}

char *harness_exchange_to_json(const struct harness_exchange *ex)
{
	cJSON *obj = cJSON_CreateObject();
	char *text = NULL;

	if (obj) {
		harness_json_add_integer(obj, "seq", (int64_t)ex->seq);
		cJSON_AddStringToObject(obj, "upstream",
					ex->upstream ? ex->upstream : "");
		harness_json_add_integer(obj, "started_unix_us",
					 ex->started_unix_us);
		harness_json_add_integer(obj, "duration_us",
					 (int64_t)ex->duration_us);
		cJSON_AddStringToObject(obj, "outcome",
					harness_outcome_name(ex->outcome));
		if (ex->failure)
			cJSON_AddStringToObject(obj, "failure", ex->failure);
		else
			cJSON_AddNullToObject(obj, "failure");
		cJSON_AddItemToObject(obj, "request",
				      request_json(&ex->request));
		cJSON_AddItemToObject(obj, "response",
				      response_json(&ex->response));
		text = cJSON_PrintUnformatted(obj);
		cJSON_Delete(obj);
	}
	if (text) {
		char *whole = chunks_text(text, &ex->response);

		free(text);
		text = whole;
	}
	if (!text)
		harness_set_error("cannot serialize exchange: '%" PRIu64
				  "': out of memory",
				  ex->seq);
	return text;
}

static int invalid(const char *field)
{
	harness_set_error("invalid exchange: '%s': missing or of the wrong "
			  "type",
			  field);
	return -1;
}

/* Read a string, or the bytes of {"base64": ...} (json_bytes.h), into
 * a new string. */
static int read_text(const cJSON *item, const char *field, char **out)
{
	int rc = harness_json_read_text(item, out);

	if (rc > 0)
		return invalid(field);
	if (rc < 0)
		harness_set_error("cannot load exchange: '%s': out of memory",
				  field);
	return rc;
}

static int parse_headers(const cJSON *array, struct harness_headers *out,
			 const char *field)
{
	const cJSON *pair;

	if (!cJSON_IsArray(array))
		return invalid(field);
	cJSON_ArrayForEach(pair, array)
	{
		char *name, *value = NULL;
		int rc;

		rc = read_text(cJSON_GetArrayItem(pair, 0), field, &name);
		if (rc == 0)
			rc = read_text(cJSON_GetArrayItem(pair, 1), field,
				       &value);
		if (rc == 0)
			rc = harness_headers_add(out, name, value);
		free(name);
		free(value);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int parse_string(const cJSON *obj, const char *key, char **out,
			int nullable)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (nullable && (!item || cJSON_IsNull(item))) {
		*out = NULL;
		return 0;
	}
	return read_text(item, key, out);
}

static int parse_number(const cJSON *obj, const char *key, double *out)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!cJSON_IsNumber(item) || item->valuedouble < -9.2e18 ||
	    item->valuedouble > 9.2e18)
		return invalid(key);
	*out = item->valuedouble;
	return 0;
}

static int parse_body(const cJSON *obj, const char *key, unsigned char **out,
		      size_t *len)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!cJSON_IsString(item))
		return invalid(key);
	if (harness_base64_decode(item->valuestring, out, len) < 0) {
		harness_set_error("invalid exchange: '%s': not base64", key);
		return -1;
	}
	return 0;
}

static int parse_request(const cJSON *obj, struct harness_request *req)
{
	if (!cJSON_IsObject(obj))
		return invalid("request");
	if (parse_string(obj, "method", &req->method, 0) < 0 ||
	    parse_string(obj, "path", &req->path, 0) < 0 ||
	    parse_string(obj, "query", &req->query, 1) < 0 ||
	    parse_headers(cJSON_GetObjectItemCaseSensitive(obj, "headers"),
			  &req->headers, "request.headers") < 0 ||
	    parse_body(obj, "body", &req->body, &req->body_len) < 0)
		return -1;
	return 0;
}

static int parse_chunk(const cJSON *chunk, struct harness_response *resp)
{
	double offset;
	unsigned char *data;
	size_t len;

	if (parse_number(chunk, "offset_us", &offset) < 0 || offset < 0 ||
	    parse_body(chunk, "data", &data, &len) < 0)
		return invalid("response.chunks");
	return harness_response_take_chunk(resp, data, len, (uint64_t)offset);
}

static int parse_response(cJSON *obj, struct harness_response *resp)
{
	cJSON *chunks, *chunk;
	double status;

	if (!cJSON_IsObject(obj))
		return invalid("response");
	if (parse_number(obj, "status", &status) < 0 || status < 0 ||
	    status > 999)
		return invalid("response.status");
	resp->status = (int)status;
	if (cJSON_GetObjectItemCaseSensitive(obj, "head_offset_us")) {
		double head;

		if (parse_number(obj, "head_offset_us", &head) < 0 || head < 0)
			return invalid("response.head_offset_us");
		resp->head_offset_us = (uint64_t)head;
	}
	if (parse_headers(cJSON_GetObjectItemCaseSensitive(obj, "headers"),
			  &resp->headers, "response.headers") < 0)
		return -1;
	chunks = cJSON_GetObjectItemCaseSensitive(obj, "chunks");
	if (!cJSON_IsArray(chunks))
		return invalid("response.chunks");
	/* Free each chunk's base64 once it is decoded, so that the tree
	 * and the decoded body are never both whole in memory. */
	while ((chunk = chunks->child)) {
		if (parse_chunk(chunk, resp) < 0)
			return -1;
		cJSON_Delete(cJSON_DetachItemViaPointer(chunks, chunk));
	}
	return 0;
}

static int parse_exchange(cJSON *obj, struct harness_exchange *ex)
{
	double seq, started, duration;
	char *outcome;
	int rc;

	if (!cJSON_IsObject(obj))
		return invalid("exchange");
	if (parse_number(obj, "seq", &seq) < 0 || seq < 1 ||
	    parse_number(obj, "started_unix_us", &started) < 0 ||
	    parse_number(obj, "duration_us", &duration) < 0 || duration < 0 ||
	    parse_string(obj, "upstream", &ex->upstream, 0) < 0 ||
	    parse_string(obj, "failure", &ex->failure, 1) < 0 ||
	    parse_string(obj, "outcome", &outcome, 0) < 0)
		return -1;
	ex->seq = (uint64_t)seq;
	ex->started_unix_us = (int64_t)started;
	ex->duration_us = (uint64_t)duration;
	rc = harness_outcome_parse(outcome, &ex->outcome);
	free(outcome);
	if (rc < 0)
		return invalid("outcome");
	if (parse_request(cJSON_GetObjectItemCaseSensitive(obj, "request"),
			  &ex->request) < 0 ||
	    parse_response(cJSON_GetObjectItemCaseSensitive(obj, "response"),
			   &ex->response) < 0)
		return -1;
	return 0;
}

static int from_tree(cJSON *obj, struct harness_exchange *ex)
{
	int rc;

	memset(ex, 0, sizeof(*ex));
	if (!obj) {
		harness_set_error("invalid exchange: 'JSON': not valid JSON");
		return -1;
	}
	rc = parse_exchange(obj, ex);
	cJSON_Delete(obj);
	if (rc < 0)
		harness_exchange_release(ex);
	return rc;
}

int harness_exchange_from_json(const char *text, struct harness_exchange *ex)
{
	return from_tree(cJSON_Parse(text), ex);
}

int harness_exchange_take_json(char *text, struct harness_exchange *ex)
{
	cJSON *obj = cJSON_Parse(text);

	free(text);
	return from_tree(obj, ex);
}

static int by_seq(const void *a, const void *b)
{
	const struct harness_exchange *x = a, *y = b;

	return (x->seq > y->seq) - (x->seq < y->seq);
}

static int is_blank(const char *line)
{
	return line[strspn(line, " \t\r\n")] == '\0';
}

static int append(struct harness_exchange **items, size_t *count,
		  size_t *capacity, const struct harness_exchange *ex)
{
	if (*count == *capacity) {
		size_t more = *capacity ? *capacity * 2 : 16;
		void *grown = realloc(*items, more * sizeof(**items));

		if (!grown)
			return -1;
		*items = grown;
		*capacity = more;
	}
	(*items)[(*count)++] = *ex;
	return 0;
}

#define BIG_LINE (1024 * 1024)

int harness_exchanges_load(const char *path, struct harness_exchange **out,
			   size_t *count)
{
	const char *reason;
	FILE *file = harness_fopen_input(path, &reason);
	struct harness_exchange *items = NULL, ex;
	size_t n = 0, capacity = 0, size = 0, lineno = 0;
	char *line = NULL;
	int rc = 0, parse;

	if (!file) {
		harness_set_error("cannot open exchanges: '%s': %s", path,
				  reason);
		return -1;
	}
	while (getline(&line, &size, file) >= 0) {
		lineno++;
		if (is_blank(line))
			continue;
		/* A long line is freed by its parse, so that its text and
		 * the exchange are not in memory together. A short one
		 * keeps the buffer for the next line. */
		if (size > BIG_LINE) {
			parse = harness_exchange_take_json(line, &ex);
			line = NULL;
			size = 0;
		} else {
			parse = harness_exchange_from_json(line, &ex);
		}
		if (parse < 0) {
			char why[512];

			snprintf(why, sizeof(why), "%s", harness_error());
			harness_set_error("cannot load exchanges: '%s:%zu': %s",
					  path, lineno, why);
			rc = -1;
			break;
		}
		if (append(&items, &n, &capacity, &ex) < 0) {
			harness_exchange_release(&ex);
			harness_set_error("cannot load exchanges: '%s': out of "
					  "memory",
					  path);
			rc = -1;
			break;
		}
	}
	free(line);
	fclose(file);
	if (rc < 0) {
		harness_exchanges_free(items, n);
		return -1;
	}
	/* qsort() takes no NULL, which an empty file leaves items. */
	if (n > 1)
		qsort(items, n, sizeof(*items), by_seq);
	*out = items;
	*count = n;
	return 0;
}

void harness_exchanges_free(struct harness_exchange *exchanges, size_t count)
{
	for (size_t i = 0; i < count; i++)
		harness_exchange_release(&exchanges[i]);
	free(exchanges);
}
