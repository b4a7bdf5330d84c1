/*
 * match.c - matching replayed requests with recorded exchanges.
 *
 * Each recorded request is prepared once: its body decoded, parsed and
 * put in canonical form, its compared headers sorted, and two SHA-256
 * keys taken. The strict key covers the canonical request. The loose key
 * covers it after the normalizers ran, without the volatile headers. A
 * live request is prepared the same way and looked up by key in hash
 * tables (match_index.h), so a match costs one preparation and a lookup,
 * whatever the number of recordings. A divergence looks only at the
 * recordings of its endpoint, found through a third table. The diff is
 * built only to report a volatile match or a divergence.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "harness/canon.h"
#include "harness/decode.h"
#include "harness/error.h"
#include "harness/match.h"
#include "harness/match_index.h"

/* Headers that describe the connection or carry credentials, not the
 * request: they differ between runs for reasons the agent does not
 * control, and credentials are redacted in the record anyway. */
static const char *const transport_headers[] = {
	"host", "content-length", "content-encoding", "transfer-encoding",
	"connection", "keep-alive", "proxy-connection", "te", "trailer",
	"upgrade", "expect", "accept-encoding", "authorization",
	"proxy-authorization", "x-api-key", "api-key", "x-goog-api-key",
	"cookie",
};

/* Headers whose values change from run to run: client versions, request
 * and session ids, tracing, retry counters and timeouts. A trailing '*'
 * matches any rest of the name. Documented in docs/matching.md. */
static const char *const volatile_headers[] = {
	"user-agent", "x-stainless-*", "x-request-id", "request-id",
	"x-client-request-id", "client-request-id", "x-correlation-id",
	"x-trace-id", "x-span-id", "traceparent", "tracestate", "baggage",
	"sentry-trace", "x-amzn-trace-id", "x-cloud-trace-context",
	"x-datadog-*", "x-b3-*", "b3", "idempotency-key",
	"x-idempotency-key", "x-retry-count", "retry-count",
	"x-retry-attempt", "x-timeout", "x-request-timeout",
	"request-timeout", "x-session-id", "session-id", "session_id",
	"x-claude-code-session-id", "conversation_id", "x-conversation-id",
	"date", "x-request-start",
};

struct compared_header {
	char *name;		/* lowercase */
	char *value;		/* repeated headers joined by ", " */
	bool is_volatile;
};

struct prepared {
	char *method;
	char *path;
	char *query;		/* "" when absent */
	struct compared_header *headers;
	size_t n_headers;
	unsigned char *body;	/* decoded */
	size_t body_len;
	cJSON *tree;		/* canonical body, NULL unless JSON */
	unsigned char (*items)[32]; /* SHA-256 of each normalized
				     * conversation item */
	size_t n_items;
	unsigned char strict_key[32];
	unsigned char loose_key[32];
	unsigned char endpoint_key[32]; /* method and path */
	uint64_t seq;
	bool consumed;
};

struct harness_matcher {
	const struct harness_normalizer *normalizer;
	char **extra_volatile;
	size_t n_extra;
	struct prepared *recorded;
	size_t *order;		/* indexes of recorded, by seq */
	size_t n;
	size_t remaining;
	/* Indexes of recorded by key, each list in seq order. */
	struct match_index by_strict;
	struct match_index by_loose;
	struct match_index by_endpoint;
	pthread_mutex_t lock;
};

const char *harness_verdict_name(enum harness_verdict verdict)
{
	switch (verdict) {
	case HARNESS_IDENTICAL:
		return "identical";
	case HARNESS_VOLATILE_ONLY:
		return "volatile-only";
	case HARNESS_DIVERGED:
		return "diverged";
	}
	return "unknown";
}

static int out_of_memory(const char *what)
{
	harness_set_error("cannot match request: '%s': out of memory", what);
	return -1;
}

static bool name_matches(const char *pattern, const char *name)
{
	size_t len = strlen(pattern);

	if (len && pattern[len - 1] == '*')
		return strncasecmp(pattern, name, len - 1) == 0;
	return strcasecmp(pattern, name) == 0;
}

bool harness_match_is_transport_header(const char *name)
{
	for (size_t i = 0; i < sizeof(transport_headers) /
				       sizeof(transport_headers[0]); i++) {
		if (strcasecmp(transport_headers[i], name) == 0)
			return true;
	}
	return false;
}

bool harness_matcher_is_volatile_header(
	const struct harness_matcher *matcher, const char *name)
{
	for (size_t i = 0; i < sizeof(volatile_headers) /
				       sizeof(volatile_headers[0]); i++) {
		if (name_matches(volatile_headers[i], name))
			return true;
	}
	for (size_t i = 0; matcher && i < matcher->n_extra; i++) {
		if (name_matches(matcher->extra_volatile[i], name))
			return true;
	}
	return false;
}

/* A growing byte buffer for keys. */
struct buffer {
	unsigned char *data;
	size_t len;
	size_t capacity;
	int failed;
};

static void buffer_add(struct buffer *buffer, const void *data, size_t len)
{
	if (buffer->failed)
		return;
	if (buffer->len + len > buffer->capacity) {
		size_t capacity = (buffer->len + len) * 2 + 64;
		unsigned char *grown = realloc(buffer->data, capacity);

		if (!grown) {
			buffer->failed = 1;
			return;
		}
		buffer->data = grown;
		buffer->capacity = capacity;
	}
	if (len)
		memcpy(buffer->data + buffer->len, data, len);
	buffer->len += len;
}

/* Strings are added with their NUL, so "ab" + "c" and "a" + "bc" give
 * different keys. */
static void buffer_add_string(struct buffer *buffer, const char *s)
{
	buffer_add(buffer, s, strlen(s) + 1);
}

static void release_prepared(struct prepared *p)
{
	free(p->method);
	free(p->path);
	free(p->query);
	for (size_t i = 0; i < p->n_headers; i++) {
		free(p->headers[i].name);
		free(p->headers[i].value);
	}
	free(p->headers);
	free(p->body);
	cJSON_Delete(p->tree);
	free(p->items);
	memset(p, 0, sizeof(*p));
}

static int compare_headers(const void *a, const void *b)
{
	const struct compared_header *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static char *lowercase_copy(const char *s)
{
	char *copy = strdup(s);

	for (char *p = copy; p && *p; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	}
	return copy;
}

/* Append value to the header called name, joining repeats. */
static int add_header(struct prepared *p, const char *name,
		      const char *value, bool is_volatile)
{
	char *lower = lowercase_copy(name);
	struct compared_header *h;

	if (!lower)
		return out_of_memory(name);
	for (size_t i = 0; i < p->n_headers; i++) {
		char *joined;

		if (strcmp(p->headers[i].name, lower) != 0)
			continue;
		free(lower);
		if (asprintf(&joined, "%s, %s", p->headers[i].value,
			     value) < 0)
			return out_of_memory(name);
		free(p->headers[i].value);
		p->headers[i].value = joined;
		return 0;
	}

	h = realloc(p->headers, (p->n_headers + 1) * sizeof(*h));
	if (!h) {
		free(lower);
		return out_of_memory(name);
	}
	p->headers = h;
	h[p->n_headers] = (struct compared_header){ lower, strdup(value),
						    is_volatile };
	if (!h[p->n_headers].value) {
		free(lower);
		return out_of_memory(name);
	}
	p->n_headers++;
	return 0;
}

static int prepare_headers(const struct harness_matcher *matcher,
			   const struct harness_headers *headers,
			   struct prepared *p)
{
	for (size_t i = 0; i < headers->count; i++) {
		const struct harness_header *h = &headers->items[i];
		bool is_volatile;

		if (harness_match_is_transport_header(h->name))
			continue;
		is_volatile = harness_matcher_is_volatile_header(matcher,
								 h->name);
		if (add_header(p, h->name, h->value, is_volatile) < 0)
			return -1;
	}
	if (p->n_headers)
		qsort(p->headers, p->n_headers, sizeof(*p->headers),
		      compare_headers);
	return 0;
}

static int prepare_body(const struct harness_request *request,
			struct prepared *p)
{
	const char *coding = harness_headers_get(&request->headers,
						 "Content-Encoding");
	unsigned char *decoded = NULL;
	size_t decoded_len = 0;
	int rc = harness_decode_body(coding, request->body, request->body_len,
				     &decoded, &decoded_len);

	/* A body that fails to decode is compared as the bytes sent. */
	if (rc != 0) {
		decoded = malloc(request->body_len + 1);
		if (!decoded)
			return out_of_memory("body");
		if (request->body_len)
			memcpy(decoded, request->body, request->body_len);
		decoded[request->body_len] = '\0';
		decoded_len = request->body_len;
	}
	p->body = decoded;
	p->body_len = decoded_len;

	/* A body that is not JSON has no tree and is compared as text, or
	 * as bytes when it holds a NUL (see add_body_keys()). */
	if (decoded_len) {
		p->tree = harness_json_parse(decoded, decoded_len);
		if (p->tree && harness_canon_sort(p->tree) < 0) {
			cJSON_Delete(p->tree);
			p->tree = NULL;
		}
	}
	return 0;
}

static void sha256(const struct buffer *buffer, unsigned char key[32])
{
	unsigned int len = 32;

	EVP_Digest(buffer->data ? buffer->data : (unsigned char *)"",
		   buffer->len, key, &len, EVP_sha256(), NULL);
}

static bool has_binary(const unsigned char *data, size_t len)
{
	return memchr(data, '\0', len) != NULL;
}

/* Add text to a key, normalized when there is a normalizer. */
static int add_normalized(const struct harness_normalizer *normalizer,
			  struct buffer *key, const char *text, size_t len)
{
	char *normalized;
	size_t normalized_len;

	if (!normalizer) {
		buffer_add(key, text, len);
		buffer_add(key, "", 1);
		return 0;
	}
	normalized = harness_normalize_string(normalizer, text, len,
					      &normalized_len, NULL);
	if (!normalized)
		return -1;
	buffer_add(key, normalized, normalized_len + 1);
	free(normalized);
	return 0;
}

static void serialize(struct buffer *buffer, const cJSON *item);

/* Append a length and bytes, so that no two sequences of strings give
 * the same bytes. */
static void serialize_bytes(struct buffer *buffer, char tag, const char *s)
{
	uint64_t len = s ? strlen(s) : 0;

	buffer_add(buffer, &tag, 1);
	buffer_add(buffer, &len, sizeof(len));
	buffer_add(buffer, s, (size_t)len);
}

/* Append an unambiguous encoding of a sorted tree, for hashing. It is
 * much cheaper than printing JSON because strings are copied, not
 * escaped. The depth was bounded when the tree was parsed. */
static void serialize(struct buffer *buffer, const cJSON *item)
{
	double number;

	switch (item->type & 0xff) {
	case cJSON_NULL:
		buffer_add(buffer, "n", 1);
		return;
	case cJSON_True:
		buffer_add(buffer, "t", 1);
		return;
	case cJSON_False:
		buffer_add(buffer, "f", 1);
		return;
	case cJSON_Number:
		/* 0.0 and -0.0 are the same JSON number. */
		number = item->valuedouble == 0 ? 0 : item->valuedouble;
		buffer_add(buffer, "d", 1);
		buffer_add(buffer, &number, sizeof(number));
		return;
	case cJSON_String:
		serialize_bytes(buffer, 's', item->valuestring);
		return;
	case cJSON_Array:
	case cJSON_Object:
		buffer_add(buffer, cJSON_IsArray(item) ? "[" : "{", 1);
		for (const cJSON *c = item->child; c; c = c->next) {
			if (cJSON_IsObject(item))
				serialize_bytes(buffer, 'k', c->string);
			serialize(buffer, c);
		}
		buffer_add(buffer, "]", 1);
		return;
	}
	buffer_add(buffer, "?", 1);
}

/* A normalized, canonical copy of tree; NULL after an error. */
static cJSON *normalized_copy(const struct harness_normalizer *normalizer,
			      const cJSON *tree)
{
	cJSON *copy = cJSON_Duplicate(tree, true);

	if (!copy) {
		out_of_memory("JSON copy");
		return NULL;
	}
	if (normalizer && harness_normalize_json(normalizer, copy) < 0) {
		cJSON_Delete(copy);
		return NULL;
	}
	if (harness_canon_sort(copy) < 0) {
		cJSON_Delete(copy);
		return NULL;
	}
	return copy;
}

/* The conversation of a request body: "messages" in Chat Completions
 * and Anthropic Messages, "input" in Responses. */
static const cJSON *conversation(const cJSON *tree)
{
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(tree,
							      "messages");

	if (!cJSON_IsArray(items))
		items = cJSON_GetObjectItemCaseSensitive(tree, "input");
	return cJSON_IsArray(items) ? items : NULL;
}

static int keep_items(struct prepared *p, const cJSON *normalized)
{
	const cJSON *items = conversation(normalized);
	size_t n = (size_t)cJSON_GetArraySize(items);
	size_t i = 0;

	if (!items || n == 0)
		return 0;
	p->items = calloc(n, sizeof(*p->items));
	if (!p->items)
		return out_of_memory("conversation");
	for (const cJSON *item = items->child; item; item = item->next) {
		struct buffer bytes = { NULL, 0, 0, 0 };

		serialize(&bytes, item);
		if (bytes.failed) {
			free(bytes.data);
			return out_of_memory("conversation");
		}
		sha256(&bytes, p->items[i]);
		free(bytes.data);
		p->n_items = ++i;
	}
	return 0;
}

static int add_body_keys(const struct harness_normalizer *normalizer,
			 struct prepared *p, struct buffer *strict,
			 struct buffer *loose)
{
	cJSON *normalized;
	int rc;

	buffer_add_string(strict, "body");
	buffer_add_string(loose, "body");
	if (!p->tree) {
		buffer_add(strict, p->body, p->body_len);
		if (has_binary(p->body, p->body_len)) {
			buffer_add(loose, p->body, p->body_len);
			return 0;
		}
		return add_normalized(normalizer, loose, (char *)p->body,
				      p->body_len);
	}

	serialize(strict, p->tree);

	normalized = normalized_copy(normalizer, p->tree);
	if (!normalized)
		return -1;
	serialize(loose, normalized);
	rc = keep_items(p, normalized);
	cJSON_Delete(normalized);
	return rc;
}

/* A header value that is a JSON object or array, parsed; NULL for any
 * other value. */
static cJSON *json_header(const char *value)
{
	while (*value == ' ' || *value == '\t')
		value++;
	if (*value != '{' && *value != '[')
		return NULL;
	return harness_json_parse(value, strlen(value));
}

static int add_header_keys(const struct harness_normalizer *normalizer,
			   const struct prepared *p, struct buffer *strict,
			   struct buffer *loose)
{
	for (size_t i = 0; i < p->n_headers; i++) {
		const struct compared_header *h = &p->headers[i];
		cJSON *json, *normalized;

		buffer_add_string(strict, h->name);
		buffer_add_string(strict, h->value);
		if (h->is_volatile)
			continue;

		buffer_add_string(loose, h->name);
		json = json_header(h->value);
		if (!json) {
			if (add_normalized(normalizer, loose, h->value,
					   strlen(h->value)) < 0)
				return -1;
			continue;
		}
		normalized = normalized_copy(normalizer, json);
		cJSON_Delete(json);
		if (!normalized)
			return -1;
		serialize(loose, normalized);
		cJSON_Delete(normalized);
	}
	return 0;
}

static void endpoint_key(struct prepared *p)
{
	struct buffer buffer = { NULL, 0, 0, 0 };
	unsigned int len = 32;

	buffer_add_string(&buffer, p->method);
	buffer_add_string(&buffer, p->path);
	/* Without memory for the buffer, every endpoint gets the digest of
	 * nothing, which only makes the table slower. */
	EVP_Digest(buffer.failed || !buffer.data ? (unsigned char *)""
						 : buffer.data,
		   buffer.failed ? 0 : buffer.len, p->endpoint_key, &len,
		   EVP_sha256(), NULL);
	free(buffer.data);
}

static int prepare(const struct harness_matcher *matcher,
		   const struct harness_request *request, struct prepared *p)
{
	struct buffer strict = { NULL, 0, 0, 0 };
	struct buffer loose = { NULL, 0, 0, 0 };
	const struct harness_normalizer *normalizer = matcher->normalizer;
	int rc = -1;

	memset(p, 0, sizeof(*p));
	p->method = strdup(request->method ? request->method : "");
	p->path = strdup(request->path ? request->path : "");
	p->query = strdup(request->query ? request->query : "");
	if (!p->method || !p->path || !p->query) {
		out_of_memory("request");
		goto out;
	}
	if (prepare_headers(matcher, &request->headers, p) < 0 ||
	    prepare_body(request, p) < 0)
		goto out;

	buffer_add_string(&strict, p->method);
	buffer_add_string(&strict, p->path);
	buffer_add_string(&strict, p->query);
	buffer_add_string(&loose, p->method);
	buffer_add_string(&loose, p->path);
	if (add_normalized(normalizer, &loose, p->query,
			   strlen(p->query)) < 0 ||
	    add_header_keys(normalizer, p, &strict, &loose) < 0 ||
	    add_body_keys(normalizer, p, &strict, &loose) < 0)
		goto out;
	if (strict.failed || loose.failed) {
		out_of_memory("key");
		goto out;
	}

	sha256(&strict, p->strict_key);
	sha256(&loose, p->loose_key);
	endpoint_key(p);
	rc = 0;
out:
	free(strict.data);
	free(loose.data);
	if (rc < 0)
		release_prepared(p);
	return rc;
}

static int compare_seq(const void *a, const void *b, void *arg)
{
	const struct prepared *recorded = arg;
	uint64_t x = recorded[*(const size_t *)a].seq;
	uint64_t y = recorded[*(const size_t *)b].seq;

	if (x != y)
		return x < y ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

static int copy_names(struct harness_matcher *matcher,
		      const char *const *names, size_t n)
{
	matcher->extra_volatile = calloc(n ? n : 1, sizeof(char *));
	if (!matcher->extra_volatile)
		return out_of_memory("volatile headers");
	for (size_t i = 0; i < n; i++) {
		matcher->extra_volatile[i] = strdup(names[i]);
		if (!matcher->extra_volatile[i])
			return out_of_memory(names[i]);
		matcher->n_extra = i + 1;
	}
	return 0;
}

/* Fill the three tables, visiting the recordings in seq order so that
 * each list is in seq order too. */
static int build_indexes(struct harness_matcher *matcher)
{
	if (match_index_init(&matcher->by_strict, matcher->n) < 0 ||
	    match_index_init(&matcher->by_loose, matcher->n) < 0 ||
	    match_index_init(&matcher->by_endpoint, 16) < 0)
		return -1;
	for (size_t k = 0; k < matcher->n; k++) {
		size_t index = matcher->order[k];
		const struct prepared *r = &matcher->recorded[index];

		if (match_index_add(&matcher->by_strict, r->strict_key,
				    index) < 0 ||
		    match_index_add(&matcher->by_loose, r->loose_key,
				    index) < 0 ||
		    match_index_add(&matcher->by_endpoint, r->endpoint_key,
				    index) < 0)
			return -1;
	}
	return 0;
}

struct harness_matcher *harness_matcher_new(
	const struct harness_exchange *exchanges, size_t n,
	const struct harness_normalizer *normalizer,
	const char *const *volatile_names, size_t n_volatile)
{
	struct harness_matcher *matcher = calloc(1, sizeof(*matcher));

	if (!matcher) {
		out_of_memory("matcher");
		return NULL;
	}
	matcher->normalizer = normalizer;
	pthread_mutex_init(&matcher->lock, NULL);
	if (copy_names(matcher, volatile_names, n_volatile) < 0)
		goto fail;

	matcher->recorded = calloc(n ? n : 1, sizeof(*matcher->recorded));
	matcher->order = calloc(n ? n : 1, sizeof(*matcher->order));
	if (!matcher->recorded || !matcher->order) {
		out_of_memory("matcher");
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		if (prepare(matcher, &exchanges[i].request,
			    &matcher->recorded[i]) < 0)
			goto fail;
		matcher->recorded[i].seq = exchanges[i].seq;
		matcher->order[i] = i;
		matcher->n = i + 1;
	}
	qsort_r(matcher->order, n, sizeof(*matcher->order), compare_seq,
		matcher->recorded);
	if (build_indexes(matcher) < 0)
		goto fail;
	matcher->remaining = n;
	return matcher;

fail:
	harness_matcher_free(matcher);
	return NULL;
}

void harness_matcher_free(struct harness_matcher *matcher)
{
	if (!matcher)
		return;
	for (size_t i = 0; i < matcher->n; i++)
		release_prepared(&matcher->recorded[i]);
	for (size_t i = 0; i < matcher->n_extra; i++)
		free(matcher->extra_volatile[i]);
	free(matcher->extra_volatile);
	free(matcher->recorded);
	free(matcher->order);
	match_index_release(&matcher->by_strict);
	match_index_release(&matcher->by_loose);
	match_index_release(&matcher->by_endpoint);
	pthread_mutex_destroy(&matcher->lock);
	free(matcher);
}

size_t harness_matcher_remaining(const struct harness_matcher *matcher)
{
	struct harness_matcher *m = (struct harness_matcher *)matcher;
	size_t remaining;

	pthread_mutex_lock(&m->lock);
	remaining = m->remaining;
	pthread_mutex_unlock(&m->lock);
	return remaining;
}

int harness_matcher_consume(struct harness_matcher *matcher, size_t index)
{
	int rc = 0;

	pthread_mutex_lock(&matcher->lock);
	if (index >= matcher->n || matcher->recorded[index].consumed) {
		harness_set_error("cannot consume exchange: '%zu': %s", index,
				  index >= matcher->n ? "no such exchange"
						      : "already used");
		rc = -1;
	} else {
		matcher->recorded[index].consumed = true;
		matcher->remaining--;
	}
	pthread_mutex_unlock(&matcher->lock);
	return rc;
}

void harness_match_release(struct harness_match *match)
{
	harness_diff_release(&match->diff);
	memset(match, 0, sizeof(*match));
	match->index = SIZE_MAX;
}

static bool same_endpoint(const struct prepared *a, const struct prepared *b)
{
	return strcmp(a->method, b->method) == 0 &&
	       strcmp(a->path, b->path) == 0;
}

static bool is_consumed(const void *ctx, size_t index)
{
	const struct harness_matcher *matcher = ctx;

	return matcher->recorded[index].consumed;
}

/* The earliest unconsumed recording whose key equals live's; SIZE_MAX
 * when there is none. The caller holds the lock. */
static size_t find_key(struct harness_matcher *matcher,
		       const struct prepared *live, bool strict)
{
	struct match_list *list =
		strict ? match_index_get(&matcher->by_strict, live->strict_key)
		       : match_index_get(&matcher->by_loose, live->loose_key);

	if (!list)
		return SIZE_MAX;
	/* Recordings consumed through the other table or as the closest
	 * one are skipped here too. */
	match_list_skip(list, is_consumed, matcher);
	return list->cursor < list->n ? list->values[list->cursor] : SIZE_MAX;
}

static size_t common_prefix(const struct prepared *a,
			    const struct prepared *b)
{
	size_t n = 0;

	while (n < a->n_items && n < b->n_items &&
	       memcmp(a->items[n], b->items[n], 32) == 0)
		n++;
	return n;
}

static int diff_header(const struct harness_matcher *matcher,
		       const struct compared_header *a,
		       const struct compared_header *b,
		       struct harness_diff *diff)
{
	const struct compared_header *any = a ? a : b;
	struct harness_path_step steps[2] = { { "headers", 0 },
					      { any->name, 0 } };
	size_t before_divergent = diff->divergent;
	size_t before_count = diff->count;
	cJSON *ja, *jb;
	char *path;
	int rc;

	if (a && b && strcmp(a->value, b->value) == 0)
		return 0;
	if (harness_path_format(steps, 2, &path) < 0)
		return -1;

	ja = a && !any->is_volatile ? json_header(a->value) : NULL;
	jb = b && !any->is_volatile ? json_header(b->value) : NULL;
	if (ja && jb && harness_canon_sort(ja) == 0 &&
	    harness_canon_sort(jb) == 0)
		rc = harness_jsondiff(ja, jb, matcher->normalizer, path, diff);
	else
		rc = harness_diff_strings(path, a ? a->value : NULL,
					  b ? b->value : NULL,
					  matcher->normalizer, diff);
	cJSON_Delete(ja);
	cJSON_Delete(jb);
	free(path);

	/* Every difference in a volatile header is volatile. */
	if (rc == 0 && any->is_volatile) {
		for (size_t i = before_count; i < diff->count; i++)
			diff->entries[i].class = HARNESS_DIFF_VOLATILE;
		diff->divergent = before_divergent;
	}
	return rc;
}

static int diff_headers(const struct harness_matcher *matcher,
			const struct prepared *r, const struct prepared *l,
			struct harness_diff *diff)
{
	size_t i = 0, j = 0;

	while (i < r->n_headers || j < l->n_headers) {
		int order;
		int rc;

		if (i == r->n_headers)
			order = 1;
		else if (j == l->n_headers)
			order = -1;
		else
			order = strcmp(r->headers[i].name, l->headers[j].name);

		if (order < 0)
			rc = diff_header(matcher, &r->headers[i++], NULL, diff);
		else if (order > 0)
			rc = diff_header(matcher, NULL, &l->headers[j++], diff);
		else
			rc = diff_header(matcher, &r->headers[i++],
					 &l->headers[j++], diff);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* A body for a text diff: itself, or a description when binary. */
static char *body_text(const struct prepared *p)
{
	char *text;

	if (!has_binary(p->body, p->body_len))
		return strdup((char *)p->body);
	if (asprintf(&text, "(%zu bytes of binary data)", p->body_len) < 0)
		return NULL;
	return text;
}

static int diff_bodies(const struct harness_matcher *matcher,
		       const struct prepared *r, const struct prepared *l,
		       struct harness_diff *diff)
{
	char *a, *b;
	int rc;

	if (r->tree && l->tree)
		return harness_jsondiff(r->tree, l->tree, matcher->normalizer,
					"", diff);
	if (r->body_len == l->body_len &&
	    memcmp(r->body, l->body, r->body_len) == 0)
		return 0;

	a = body_text(r);
	b = body_text(l);
	if (!a || !b) {
		free(a);
		free(b);
		return out_of_memory("body");
	}
	rc = harness_diff_strings("body", a, b, matcher->normalizer, diff);
	free(a);
	free(b);
	return rc;
}

static int build_diff(const struct harness_matcher *matcher,
		      const struct prepared *r, const struct prepared *l,
		      struct harness_diff *diff)
{
	if (strcmp(r->query, l->query) != 0 &&
	    harness_diff_strings("query", *r->query ? r->query : NULL,
				 *l->query ? l->query : NULL,
				 matcher->normalizer, diff) < 0)
		return -1;
	if (diff_headers(matcher, r, l, diff) < 0)
		return -1;
	return diff_bodies(matcher, r, l, diff);
}

/* Whether candidate c, with the same common prefix as the best so far,
 * is closer: fewer divergent differences, then not yet consumed. A
 * consumed recording can be the closest, which shows that the agent sent
 * one request more than it did when recorded. */
static bool closer(const struct prepared *c, size_t c_divergent,
		   const struct prepared *best, size_t best_divergent)
{
	if (!best)
		return true;
	if (c_divergent != best_divergent)
		return c_divergent < best_divergent;
	return best->consumed && !c->consumed;
}

/* The maximum number of candidates that one divergence diffs, among
 * those that share the longest prefix. It keeps a long recording of an
 * endpoint without a conversation from costing one diff per exchange. */
#define MAX_CLOSEST_DIFFS 32

/* The longest common conversation prefix of live with any recording of
 * its endpoint, those in list; SIZE_MAX when there is none. */
static size_t longest_prefix(const struct harness_matcher *matcher,
			     const struct match_list *list,
			     const struct prepared *live)
{
	size_t longest = SIZE_MAX;

	for (size_t i = 0; i < list->n; i++) {
		const struct prepared *c = &matcher->recorded[list->values[i]];
		size_t prefix;

		if (!same_endpoint(c, live))
			continue;
		prefix = common_prefix(c, live);
		if (longest == SIZE_MAX || prefix > longest)
			longest = prefix;
	}
	return longest;
}

/* Diff candidate index and keep it in match when it is closer. */
static int try_candidate(const struct harness_matcher *matcher,
			 const struct prepared *live, size_t index,
			 struct harness_match *match)
{
	const struct prepared *c = &matcher->recorded[index];
	const struct prepared *best = NULL;
	struct harness_diff diff = { 0 };

	if (match->index != SIZE_MAX)
		best = &matcher->recorded[match->index];
	if (build_diff(matcher, c, live, &diff) < 0) {
		harness_diff_release(&diff);
		return -1;
	}
	if (!closer(c, diff.divergent, best, match->diff.divergent)) {
		harness_diff_release(&diff);
		return 0;
	}
	harness_diff_release(&match->diff);
	match->diff = diff;
	match->index = index;
	return 0;
}

/* Pick the closest recording for a diverged request and diff it: among
 * the recordings with the longest common prefix, the unconsumed ones
 * first, then the consumed ones, up to MAX_CLOSEST_DIFFS in all. The
 * caller holds the lock. */
static int find_closest(const struct harness_matcher *matcher,
			const struct prepared *live,
			struct harness_match *match)
{
	const struct match_list *list =
		match_index_get(&matcher->by_endpoint, live->endpoint_key);
	size_t prefix = list ? longest_prefix(matcher, list, live) : SIZE_MAX;
	size_t tried = 0;

	if (prefix == SIZE_MAX)
		return 0;
	match->common_prefix = prefix;
	for (int consumed = 0; consumed <= 1; consumed++) {
		for (size_t k = 0; k < list->n; k++) {
			size_t index = list->values[k];
			const struct prepared *c = &matcher->recorded[index];

			if (tried == MAX_CLOSEST_DIFFS)
				break;
			if (c->consumed != (consumed == 1) ||
			    !same_endpoint(c, live) ||
			    common_prefix(c, live) != prefix)
				continue;
			tried++;
			if (try_candidate(matcher, live, index, match) < 0)
				return -1;
		}
	}
	match->seq = matcher->recorded[match->index].seq;
	match->consumed = matcher->recorded[match->index].consumed;
	return 0;
}

int harness_matcher_diff(const struct harness_matcher *matcher,
			 const struct harness_request *recorded,
			 const struct harness_request *live,
			 struct harness_diff *diff)
{
	struct prepared r, l;
	int rc;

	memset(diff, 0, sizeof(*diff));
	if (prepare(matcher, recorded, &r) < 0)
		return -1;
	if (prepare(matcher, live, &l) < 0) {
		release_prepared(&r);
		return -1;
	}
	rc = build_diff(matcher, &r, &l, diff);
	release_prepared(&r);
	release_prepared(&l);
	if (rc < 0)
		harness_diff_release(diff);
	return rc;
}

int harness_matcher_find(struct harness_matcher *matcher,
			 const struct harness_request *request,
			 struct harness_match *match)
{
	struct prepared live;
	size_t index;
	int rc = 0;

	memset(match, 0, sizeof(*match));
	match->index = SIZE_MAX;
	if (prepare(matcher, request, &live) < 0)
		return -1;

	pthread_mutex_lock(&matcher->lock);
	match->verdict = HARNESS_IDENTICAL;
	index = find_key(matcher, &live, true);
	if (index == SIZE_MAX) {
		match->verdict = HARNESS_VOLATILE_ONLY;
		index = find_key(matcher, &live, false);
	}

	if (index != SIZE_MAX) {
		struct prepared *r = &matcher->recorded[index];

		r->consumed = true;
		matcher->remaining--;
		match->index = index;
		match->seq = r->seq;
		match->consumed = true;
		match->common_prefix = r->n_items;
	} else {
		match->verdict = HARNESS_DIVERGED;
		rc = find_closest(matcher, &live, match);
	}
	pthread_mutex_unlock(&matcher->lock);

	/* A recording never changes after harness_matcher_new() but for
	 * its consumed flag, so its diff needs no lock. */
	if (match->verdict == HARNESS_VOLATILE_ONLY)
		rc = build_diff(matcher, &matcher->recorded[index], &live,
				&match->diff);

	release_prepared(&live);
	if (rc < 0)
		harness_match_release(match);
	return rc;
}
