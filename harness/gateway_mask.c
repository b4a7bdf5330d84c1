/*
 * gateway_mask.c - keeping an upstream's key out of what the agent
 * receives.
 *
 * The gateway adds the upstream's key to each request it forwards. An
 * upstream that echoes request headers (a debugging proxy, some error
 * pages) would then hand the key to the agent, which must never learn
 * it. So the relay masks the key in the response head and body the way
 * the record does (redact.h): in place, by bytes of the same length, so
 * that the framing and a body's Content-Length still hold.
 *
 * A body arrives in pieces, and the key may be split between two of
 * them. The end of what has arrived that could begin the key, as it is
 * or with JSON escapes, is held back until the next piece shows whether
 * it does. Only a piece ending in such a prefix waits, so a stream of
 * events is not delayed.
 *
 * A key inside a compressed body cannot be seen as it passes, so the
 * upstream is asked for an uncompressed one (gateway_forward.c sends
 * "Accept-Encoding: identity"). A compressed body that comes anyway is
 * read whole and decoded first. If the key is in it, the agent gets the
 * decoded, masked body without its Content-Encoding, as a proxy may
 * send it. Otherwise the agent gets the body as sent. A body that cannot
 * be decoded is not relayed.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "harness/decode.h"
#include "harness/error.h"
#include "harness/gateway_internal.h"

/*
 * The largest body read whole, and the largest decoded for the check. A
 * model's response is far smaller, and a compressed body from a hostile
 * upstream must not cost gigabytes. A larger body is not relayed. The
 * exchange then records the 502 in its place, so the record does not
 * decode it either.
 */
#define GATEWAY_MASK_DECODE_MAX ((size_t)64 << 20)

void gateway_mask_init(struct gateway_forward *f,
		       const struct harness_secrets *keys)
{
	f->keys = keys;
}

/*
 * Return how many bytes at the end of data could begin a key: the
 * longest end that equals a key's start, shorter than the whole key, or
 * that starts a spelling of it with JSON escapes. The escaped spelling
 * is looked for only in an end with a backslash, so a stream without
 * one pays a single look for it, and the end that waits is never longer
 * than one that could still become a key.
 */
static size_t held_back(const struct harness_secrets *keys,
			const unsigned char *data, size_t len)
{
	size_t prefix_len = harness_escaped_start_len(keys, data, len);

	for (size_t i = 0; i < keys->count; i++) {
		const char *key = keys->values[i];
		size_t n = strlen(key) - 1;

		if (n > len)
			n = len;
		for (; n > prefix_len; n--) {
			if (memcmp(data + len - n, key, n) == 0) {
				prefix_len = n;
				break;
			}
		}
	}
	return prefix_len;
}

int gateway_mask_room(struct gateway_forward *f, size_t len)
{
	if (f->whole && f->pending_len + len > GATEWAY_MASK_DECODE_MAX)
		f->too_large = 1;
	return !f->too_large;
}

void gateway_mask_pending(struct gateway_forward *f)
{
	unsigned char *unsent = f->pending + f->pending_off;
	size_t len = f->pending_len - f->pending_off;

	if (f->keys->count == 0 || f->whole) {
		f->safe_len = f->pending_len;
		return;
	}
	harness_redact_bytes(f->keys, unsent, len);
	f->safe_len = f->pending_len - held_back(f->keys, unsent, len);
}

int gateway_mask_compressed(const struct gateway_forward *f,
			    const struct harness_headers *headers)
{
	if (f->keys->count == 0)
		return 0;

	/* Every Content-Encoding header counts, not only the first: a
	 * client applies them all ("identity", then "gzip", is gzip). */
	for (size_t i = 0; i < headers->count; i++) {
		const struct harness_header *h = &headers->items[i];

		if (strcasecmp(h->name, "content-encoding") == 0 &&
		    *h->value && strcasecmp(h->value, "identity") != 0)
			return 1;
	}
	return 0;
}

int gateway_mask_decode(struct gateway_forward *f,
			const struct harness_headers *headers)
{
	char *coding;
	unsigned char *decoded;
	size_t len;
	int rc;

	/* No body (HEAD, 204, 304, or empty): nothing can hide a key. */
	if (f->pending_len == 0)
		return 1;
	if (f->too_large) {
		harness_set_error("cannot check body: 'over %zu bytes': the "
				  "gateway reads no more of a compressed body",
				  GATEWAY_MASK_DECODE_MAX);
		return -1;
	}
	coding = harness_headers_join(headers, "content-encoding");
	if (!coding) {
		harness_set_error("cannot decode body: 'Content-Encoding': "
				  "out of memory");
		return -1;
	}
	rc = harness_decode_body_max(coding, f->pending, f->pending_len,
				     GATEWAY_MASK_DECODE_MAX, &decoded, &len);
	free(coding);
	/* Codings that name nothing to undo ("identity, identity") leave a
	 * plain body, masked here as a streamed one would be. */
	if (rc == 1)
		harness_redact_bytes(f->keys, f->pending, f->pending_len);
	if (rc != 0)
		return rc;
	/* The raw bytes count too: a gzip header's name or comment, a zstd
	 * skippable frame and brotli metadata decode to nothing. */
	if (harness_redact_bytes(f->keys, decoded, len) == 0 &&
	    !harness_contains_secret(f->keys, f->pending, f->pending_len)) {
		free(decoded);
		return 1;
	}
	free(f->pending);
	f->pending = decoded;
	f->pending_len = f->pending_capacity = f->safe_len = len;
	f->pending_off = 0;
	f->decoded = 1;
	return 0;
}
