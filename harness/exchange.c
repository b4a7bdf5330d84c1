/*
 * exchange.c - building and releasing recorded exchanges.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "harness/error.h"
#include "harness/exchange.h"

static int out_of_memory(const char *what)
{
	harness_set_error("cannot record exchange: '%s': out of memory", what);
	return -1;
}

int harness_headers_add(struct harness_headers *headers, const char *name,
			const char *value)
{
	struct harness_header *item;

	if (headers->count == headers->capacity) {
		size_t capacity =
			headers->capacity ? headers->capacity * 2 : 16;
		void *items = realloc(headers->items,
				      capacity * sizeof(*headers->items));

		if (!items)
			return out_of_memory(name);
		headers->items = items;
		headers->capacity = capacity;
	}

	item = &headers->items[headers->count];
	item->name = strdup(name);
	item->value = strdup(value);
	if (!item->name || !item->value) {
		free(item->name);
		free(item->value);
		return out_of_memory(name);
	}
	headers->count++;
	return 0;
}

const char *harness_headers_get(const struct harness_headers *headers,
				const char *name)
{
	for (size_t i = 0; i < headers->count; i++) {
		if (strcasecmp(headers->items[i].name, name) == 0)
			return headers->items[i].value;
	}
	return NULL;
}

char *harness_headers_join(const struct harness_headers *headers,
			   const char *name)
{
	char *joined = NULL;
	size_t len = 0;

	for (size_t i = 0; i < headers->count; i++) {
		const char *value = headers->items[i].value;
		size_t n = strlen(value);
		char *grown;

		if (strcasecmp(headers->items[i].name, name) != 0)
			continue;
		grown = realloc(joined, len + n + 3);
		if (!grown) {
			free(joined);
			return NULL;
		}
		joined = grown;
		if (len) {
			memcpy(joined + len, ", ", 2);
			len += 2;
		}
		memcpy(joined + len, value, n + 1);
		len += n;
	}
	return joined;
}

void harness_headers_release(struct harness_headers *headers)
{
	for (size_t i = 0; i < headers->count; i++) {
		free(headers->items[i].name);
		free(headers->items[i].value);
	}
	free(headers->items);
	memset(headers, 0, sizeof(*headers));
}

static int grow_chunks(struct harness_response *response)
{
	if (response->n_chunks == response->chunk_capacity) {
		size_t capacity = response->chunk_capacity
					  ? response->chunk_capacity * 2
					  : 16;
		void *chunks = realloc(response->chunks,
				       capacity * sizeof(*response->chunks));

		if (!chunks)
			return out_of_memory("response chunk");
		response->chunks = chunks;
		response->chunk_capacity = capacity;
	}
	return 0;
}

int harness_response_add_chunk(struct harness_response *response,
			       const void *data, size_t len,
			       uint64_t offset_us)
{
	unsigned char *copy = malloc(len ? len : 1);

	if (!copy)
		return out_of_memory("response chunk");
	memcpy(copy, data, len);
	return harness_response_take_chunk(response, copy, len, offset_us);
}

int harness_response_take_chunk(struct harness_response *response,
				unsigned char *data, size_t len,
				uint64_t offset_us)
{
	struct harness_chunk *chunk;

	if (grow_chunks(response) < 0) {
		free(data);
		return -1;
	}
	chunk = &response->chunks[response->n_chunks++];
	chunk->data = data;
	chunk->len = len;
	chunk->offset_us = offset_us;
	return 0;
}

size_t harness_response_body_len(const struct harness_response *response)
{
	size_t total = 0;

	for (size_t i = 0; i < response->n_chunks; i++)
		total += response->chunks[i].len;
	return total;
}

void harness_request_release(struct harness_request *request)
{
	free(request->method);
	free(request->path);
	free(request->query);
	harness_headers_release(&request->headers);
	free(request->body);
	memset(request, 0, sizeof(*request));
}

void harness_response_release(struct harness_response *response)
{
	harness_headers_release(&response->headers);
	for (size_t i = 0; i < response->n_chunks; i++)
		free(response->chunks[i].data);
	free(response->chunks);
	memset(response, 0, sizeof(*response));
}

void harness_exchange_release(struct harness_exchange *exchange)
{
	free(exchange->upstream);
	free(exchange->failure);
	harness_request_release(&exchange->request);
	harness_response_release(&exchange->response);
	memset(exchange, 0, sizeof(*exchange));
}

const char *harness_outcome_name(enum harness_outcome outcome)
{
	switch (outcome) {
	case HARNESS_COMPLETE:
		return "complete";
	case HARNESS_UPSTREAM_FAILED:
		return "upstream-failed";
	case HARNESS_UPSTREAM_CUT:
		return "upstream-cut";
	case HARNESS_CLIENT_ABORTED:
		return "client-aborted";
	case HARNESS_NO_SCRIPT_TURN:
		return "no-script-turn";
	}
	return "unknown";
}
