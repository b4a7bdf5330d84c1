/*
 * proxy_request.h - the strict parser of the egress proxy's request head
 * (internal to the sandbox library).
 *
 * The parser reads only a complete head (request line, header lines, an
 * empty line, all ended by CRLF) that fits in SANDBOX_PROXY_MAX_HEAD
 * bytes. It copies what it returns and never writes to the input. It
 * rejects what a proxy must not guess about: bare LF, obsolete line
 * folding, control characters, whitespace before a colon, and a missing
 * or unknown HTTP version.
 */
#ifndef SANDBOX_PROXY_REQUEST_H
#define SANDBOX_PROXY_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

enum proxy_parse {
	PROXY_PARSE_OK,
	PROXY_PARSE_INCOMPLETE,	/* no empty line yet: read more */
	PROXY_PARSE_MALFORMED,	/* reply 400 */
	PROXY_PARSE_TOO_LARGE,	/* reply 431 */
};

struct proxy_request {
	char method[16];
	char target[1024];	/* the request target as sent */
	bool is_connect;
	char host[256];		/* CONNECT only: no brackets, as sent */
	bool host_is_ipv6;	/* the host was a bracketed literal */
	unsigned port;		/* CONNECT only: 1 to 65535 */
	size_t head_len;	/* bytes of the head, the empty line included */
	char error[64];		/* why it was malformed or too large */
};

/*
 * Parse the head at the start of buf[0..len). A CONNECT target must be
 * in authority form, "host:port" or "[ipv6]:port". Returns
 * PROXY_PARSE_OK and fills req, or another value with req->error set.
 * req->target then contains the request line's target when the line got
 * that far, and is empty otherwise.
 * Bytes after head_len belong to the tunnel.
 */
enum proxy_parse proxy_request_parse(const char *buf, size_t len,
				     struct proxy_request *req);

/*
 * Copy into req->target, when it is empty, the target of the request
 * line at the start of buf[0..len), a head that the client ended there
 * by closing the connection, so that its last bytes belong to it.
 */
void proxy_request_ended(const char *buf, size_t len,
			 struct proxy_request *req);

#endif
