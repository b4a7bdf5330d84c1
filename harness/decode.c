/*
 * decode.c - undoing the Content-Encoding of a body, with zlib, brotli
 * and zstd.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <brotli/decode.h>
#include <zlib.h>
#include <zstd.h>

#include "harness/decode.h"
#include "harness/error.h"

/* A growing output buffer that stops at a limit. */
struct sink {
	unsigned char *data;
	size_t len;
	size_t capacity;
	size_t max_len;
};

/* Make room for at least one more byte; returns the free space, or 0
 * after storing an error. */
static size_t sink_reserve(struct sink *sink, const char *coding)
{
	size_t capacity;
	unsigned char *data;

	if (sink->len < sink->capacity)
		return sink->capacity - sink->len;
	if (sink->len >= sink->max_len) {
		harness_set_error("cannot decode body: '%s': decoded size is "
				  "over the limit of %zu bytes",
				  coding, sink->max_len);
		return 0;
	}

	capacity = sink->capacity ? sink->capacity * 2 : 64 * 1024;
	if (capacity > sink->max_len)
		capacity = sink->max_len;
	data = realloc(sink->data, capacity + 1);
	if (!data) {
		harness_set_error("cannot decode body: '%s': out of memory",
				  coding);
		return 0;
	}
	sink->data = data;
	sink->capacity = capacity;
	return capacity - sink->len;
}

static int damaged(const char *coding, const char *why)
{
	harness_set_error("cannot decode body: '%s': %s", coding, why);
	harness_set_hint("check the request's Content-Encoding header");
	return -1;
}

/* windowBits as zlib takes them: 15 + 32 detects gzip or zlib headers,
 * -15 reads raw deflate. */
static int inflate_with(const unsigned char *in, size_t len, int window_bits,
			struct sink *sink, const char *coding)
{
	z_stream z;
	int rc = Z_OK;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, window_bits) != Z_OK)
		return damaged(coding, "cannot start zlib");

	z.next_in = (unsigned char *)in;
	z.avail_in = len > UINT32_MAX ? UINT32_MAX : (uInt)len;
	for (;;) {
		size_t room;

		if (rc == Z_STREAM_END) {
			if (z.avail_in == 0)
				break;
			/* Another gzip member follows, which gzip(1)
			 * decodes too. Anything else is left over. */
			if (window_bits != 15 + 32 ||
			    inflateReset(&z) != Z_OK) {
				inflateEnd(&z);
				return damaged(coding, "data after the end");
			}
			rc = Z_OK;
		}
		room = sink_reserve(sink, coding);

		if (!room) {
			inflateEnd(&z);
			return -1;
		}
		z.next_out = sink->data + sink->len;
		z.avail_out = room > UINT32_MAX ? UINT32_MAX : (uInt)room;
		rc = inflate(&z, Z_NO_FLUSH);
		sink->len = (size_t)(z.next_out - sink->data);
		if (rc != Z_OK && rc != Z_STREAM_END) {
			inflateEnd(&z);
			return damaged(coding, "invalid or truncated data");
		}
		if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0) {
			inflateEnd(&z);
			return damaged(coding, "truncated data");
		}
	}
	inflateEnd(&z);
	return 0;
}

static int decode_brotli(const unsigned char *in, size_t len,
			 struct sink *sink)
{
	BrotliDecoderState *state = BrotliDecoderCreateInstance(NULL, NULL,
								 NULL);
	BrotliDecoderResult rc = BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT;
	size_t avail_in = len;
	const uint8_t *next_in = in;

	if (!state)
		return damaged("br", "out of memory");
	while (rc == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT) {
		size_t room = sink_reserve(sink, "br");
		uint8_t *next_out;

		if (!room) {
			BrotliDecoderDestroyInstance(state);
			return -1;
		}
		next_out = sink->data + sink->len;
		rc = BrotliDecoderDecompressStream(state, &avail_in, &next_in,
						   &room, &next_out, NULL);
		sink->len = (size_t)(next_out - sink->data);
	}
	BrotliDecoderDestroyInstance(state);
	if (rc != BROTLI_DECODER_RESULT_SUCCESS)
		return damaged("br", "invalid or truncated data");
	if (avail_in != 0)
		return damaged("br", "data after the end");
	return 0;
}

static int decode_zstd(const unsigned char *in, size_t len,
		       struct sink *sink)
{
	ZSTD_DStream *stream = ZSTD_createDStream();
	ZSTD_inBuffer input = { in, len, 0 };
	size_t rc = 1;

	if (!stream)
		return damaged("zstd", "out of memory");
	/* A body may contain several frames, which `zstd -d` decodes
	 * one after the other. */
	while (rc != 0 || input.pos < input.size) {
		size_t room = sink_reserve(sink, "zstd");
		ZSTD_outBuffer output;

		if (!room) {
			ZSTD_freeDStream(stream);
			return -1;
		}
		output = (ZSTD_outBuffer){ sink->data + sink->len, room, 0 };
		rc = ZSTD_decompressStream(stream, &output, &input);
		sink->len += output.pos;
		if (ZSTD_isError(rc)) {
			ZSTD_freeDStream(stream);
			return damaged("zstd", ZSTD_getErrorName(rc));
		}
		if (rc != 0 && input.pos == input.size &&
		    output.pos < output.size) {
			ZSTD_freeDStream(stream);
			return damaged("zstd", "truncated data");
		}
	}
	ZSTD_freeDStream(stream);
	return 0;
}

static int decode_one(const char *coding, const unsigned char *in,
		      size_t len, struct sink *sink)
{
	if (strcasecmp(coding, "gzip") == 0 ||
	    strcasecmp(coding, "x-gzip") == 0)
		return inflate_with(in, len, 15 + 32, sink, coding);
	if (strcasecmp(coding, "deflate") == 0) {
		if (inflate_with(in, len, 15, sink, coding) == 0)
			return 0;
		sink->len = 0;
		return inflate_with(in, len, -15, sink, coding);
	}
	if (strcasecmp(coding, "br") == 0)
		return decode_brotli(in, len, sink);
	if (strcasecmp(coding, "zstd") == 0)
		return decode_zstd(in, len, sink);

	harness_set_error("cannot decode body: '%s': unknown "
			  "Content-Encoding", coding);
	harness_set_hint("supported codings are gzip, deflate, br and zstd");
	return -1;
}

/* Split "gzip, br" into names. Returns how many, or max + 1 when there
 * are more than max. */
static size_t split_codings(char *list, char **names, size_t max)
{
	size_t n = 0;
	char *save = NULL;

	for (char *token = strtok_r(list, ",", &save); token;
	     token = strtok_r(NULL, ",", &save)) {
		char *end;

		while (isspace((unsigned char)*token))
			token++;
		end = token + strlen(token);
		while (end > token && isspace((unsigned char)end[-1]))
			*--end = '\0';
		if (!*token || strcasecmp(token, "identity") == 0)
			continue;
		if (n == max)
			return max + 1;
		names[n++] = token;
	}
	return n;
}

static int copy_out(const void *body, size_t len, unsigned char **out,
		    size_t *out_len)
{
	unsigned char *copy = malloc(len + 1);

	if (!copy) {
		harness_set_error("cannot decode body: '%zu bytes': out of "
				  "memory", len);
		return -1;
	}
	if (len)
		memcpy(copy, body, len);
	copy[len] = '\0';
	*out = copy;
	*out_len = len;
	return 0;
}

int harness_decode_body(const char *encoding, const void *data, size_t len,
			unsigned char **out, size_t *out_len)
{
	return harness_decode_body_max(encoding, data, len, HARNESS_DECODE_MAX,
				       out, out_len);
}

int harness_decode_body_max(const char *encoding, const void *data,
			    size_t len, size_t max_len, unsigned char **out,
			    size_t *out_len)
{
	char list[256];
	char *names[8];
	size_t n;
	unsigned char *current = NULL;
	size_t current_len = 0;

	if (!encoding)
		return 1;
	if (strlen(encoding) >= sizeof(list)) {
		harness_set_error("cannot decode body: '%.40s...': "
				  "Content-Encoding too long", encoding);
		return -1;
	}
	strcpy(list, encoding);
	n = split_codings(list, names, sizeof(names) / sizeof(names[0]));
	if (n == 0)
		return 1;
	if (n > sizeof(names) / sizeof(names[0])) {
		harness_set_error("cannot decode body: '%s': more than %zu "
				  "codings", encoding,
				  sizeof(names) / sizeof(names[0]));
		return -1;
	}

	if (copy_out(data, len, &current, &current_len) < 0)
		return -1;
	/* The codings were applied in the order listed, so the last one
	 * is undone first. */
	for (size_t i = n; i-- > 0;) {
		struct sink sink = { NULL, 0, 0, max_len };

		if (decode_one(names[i], current, current_len, &sink) < 0) {
			free(sink.data);
			free(current);
			return -1;
		}
		free(current);
		if (!sink.data && copy_out("", 0, &sink.data, &sink.len) < 0)
			return -1;
		current = sink.data;
		current_len = sink.len;
		current[current_len] = '\0';
	}

	*out = current;
	*out_len = current_len;
	return 0;
}
