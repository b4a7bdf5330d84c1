/*
 * gateway_check.c - finding bytes of a request's header block that
 * libmicrohttpd parsed but did not hand over.
 *
 * libmicrohttpd 0.9.75 ends each header value and the request target at
 * the first NUL byte and reports the length up to it, so "X-A: b\0c"
 * reaches the access handler as "X-A: b" with a length of 1. RFC 9110,
 * section 5.5, requires a recipient to reject a field value with a NUL,
 * so the gateway must see the bytes it was not given.
 *
 * It can, because 0.9.75 parses the header block in place. The method,
 * target, version, names and values point into one buffer that starts at
 * the method and is MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE bytes long.
 * Each separator it consumes (the space after the method, the colon, CR
 * and LF) is overwritten with a NUL. So between the pieces it reports
 * there can only be those NULs, spaces and tabs. A NUL sent by the client
 * shows as one NUL too many, or as other bytes, between two pieces. A
 * folded header line (obs-fold) shows the same way in 0.9.75, and RFC
 * 9112, section 5.2, lets a server reject it.
 *
 * No byte outside that block is read. A libmicrohttpd that copies the
 * pieces elsewhere puts them outside the block, and then the check is
 * skipped rather than guessed at.
 */
#include <string.h>

#include "harness/gateway_internal.h"

/* The NULs that may separate two pieces: CR and LF of a line end, or LF
 * alone. The last header also has the empty line after it. */
#define MAX_LINE_END 2
#define MAX_BLOCK_END 4

struct block {
	const char *begin;
	const char *end;
	const char *cursor; /* the end of the last piece seen */
	int hidden;	    /* some bytes were not handed over */
};

static int in_block(const struct block *b, const char *p)
{
	return p >= b->begin && p <= b->end;
}

/* Move the cursor to next, over at most max_nuls NULs and any spaces and
 * tabs. Anything else between them is hidden. */
static void skip_to(struct block *b, const char *next, size_t max_nuls)
{
	size_t nuls = 0;

	if (!in_block(b, next) || next < b->cursor) {
		b->hidden = 1;
		return;
	}
	for (const char *p = b->cursor; p < next; p++) {
		if (*p == '\0')
			nuls++;
		else if (*p != ' ' && *p != '\t')
			b->hidden = 1;
	}
	if (nuls == 0 || nuls > max_nuls)
		b->hidden = 1;
	b->cursor = next;
}

/* Move past a piece of len bytes that starts at the cursor. */
static void take(struct block *b, size_t len)
{
	if ((size_t)(b->end - b->cursor) < len) {
		b->hidden = 1;
		return;
	}
	b->cursor += len;
}

static enum MHD_Result check_header(void *cls, enum MHD_ValueKind kind,
				    const char *key, size_t key_size,
				    const char *value, size_t value_size)
{
	struct block *b = cls;

	(void)kind;
	skip_to(b, key, MAX_LINE_END);
	take(b, key_size);
	/* The colon became a NUL, and optional whitespace follows it. */
	if (!b->hidden && value)
		skip_to(b, value, 1);
	if (!b->hidden)
		take(b, value_size);
	return b->hidden ? MHD_NO : MHD_YES;
}

/* Whether the request line's pieces point into the block, as 0.9.75
 * leaves them. */
static int parsed_in_place(const struct block *b,
			   const struct gateway_request *req,
			   const char *version)
{
	return req->raw_target && in_block(b, req->raw_target) &&
	       version && in_block(b, version) && req->raw_target < version;
}

int gateway_has_hidden_bytes(struct MHD_Connection *connection,
			     const struct gateway_request *req,
			     const char *method, const char *version)
{
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(
		connection, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
	struct block b = {0};

	if (!info || !method)
		return 0;
	b.begin = b.cursor = method;
	b.end = method + info->header_size;
	if (!parsed_in_place(&b, req, version))
		return 0;

	/* The request line: method, spaces, target, one space, version. */
	take(&b, strlen(method));
	skip_to(&b, req->raw_target, 1);
	take(&b, req->raw_target_len);
	skip_to(&b, version, 1);
	take(&b, strlen(version));
	if (b.hidden)
		return 1;

	MHD_get_connection_values_n(connection, MHD_HEADER_KIND, check_header,
				    &b);
	if (!b.hidden)
		skip_to(&b, b.end, MAX_BLOCK_END);
	return b.hidden;
}
