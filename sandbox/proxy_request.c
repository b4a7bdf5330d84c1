/*
 * proxy_request.c - parse the request head of the egress proxy.
 *
 * Every length is checked against the buffer it is copied to, and the
 * head as a whole against SANDBOX_PROXY_MAX_HEAD, so no input can make
 * the parser read or write out of bounds.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "sandbox/proxy.h"
#include "sandbox/proxy_request.h"

/* RFC 9110 tchar. */
static bool is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_vchar(unsigned char c)
{
	return c > 0x20 && c < 0x7f;
}

static enum proxy_parse malformed(struct proxy_request *req, const char *why)
{
	snprintf(req->error, sizeof(req->error), "%s", why);
	return PROXY_PARSE_MALFORMED;
}

/* Find "\r\n\r\n" in buf and return the head's length, or 0. */
static size_t find_head_end(const char *buf, size_t len)
{
	for (size_t i = 0; i + 3 < len; i++) {
		if (buf[i] == '\r' && buf[i + 1] == '\n' &&
		    buf[i + 2] == '\r' && buf[i + 3] == '\n')
			return i + 4;
	}
	return 0;
}

static bool parse_port(const char *s, size_t len, unsigned *port)
{
	unsigned value = 0;

	if (len == 0 || len > 5)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		value = value * 10 + (unsigned)(s[i] - '0');
	}
	if (value < 1 || value > 65535)
		return false;
	*port = value;
	return true;
}

/* A DNS name or an IPv4 literal: letters, digits, '-', '.', '_'. */
static bool is_name(const char *s, size_t len)
{
	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		      c == '_'))
			return false;
	}
	return true;
}

static bool is_ipv6_text(const char *s, size_t len)
{
	if (len == 0 || len > 45)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		      (c >= 'A' && c <= 'F') || c == ':' || c == '.'))
			return false;
	}
	return true;
}

static enum proxy_parse parse_authority(struct proxy_request *req)
{
	struct in6_addr address;
	const char *t = req->target;
	const char *colon;
	size_t host_len;

	if (t[0] == '[') {
		const char *close = strchr(t, ']');

		if (!close || close[1] != ':')
			return malformed(req, "invalid IPv6 authority");
		host_len = (size_t)(close - t - 1);
		if (!is_ipv6_text(t + 1, host_len))
			return malformed(req, "invalid IPv6 address");
		memcpy(req->host, t + 1, host_len);
		req->host[host_len] = '\0';
		/* RFC 3986 brackets only IPv6 (or IPvFuture) addresses, so
		 * "[127.0.0.1]" is invalid here as in the policy. */
		if (inet_pton(AF_INET6, req->host, &address) != 1)
			return malformed(req, "invalid IPv6 address");
		req->host_is_ipv6 = true;
		colon = close + 1;
	} else {
		colon = strchr(t, ':');
		if (!colon || strchr(colon + 1, ':'))
			return malformed(req,
					 "CONNECT target is not host:port");
		host_len = (size_t)(colon - t);
		if (!is_name(t, host_len))
			return malformed(req, "invalid host name");
		memcpy(req->host, t, host_len);
	}
	req->host[host_len] = '\0';
	if (!parse_port(colon + 1, strlen(colon + 1), &req->port))
		return malformed(req, "invalid port");
	return PROXY_PARSE_OK;
}

/* Parse "METHOD SP target SP HTTP/1.x" of length len. */
static enum proxy_parse parse_request_line(const char *line, size_t len,
					   struct proxy_request *req)
{
	const char *sp1 = memchr(line, ' ', len);
	const char *sp2;
	size_t method_len, target_len, version_len;

	if (!sp1)
		return malformed(req, "invalid request line");
	method_len = (size_t)(sp1 - line);
	sp2 = memchr(sp1 + 1, ' ', len - method_len - 1);
	if (!sp2)
		return malformed(req, "invalid request line");
	target_len = (size_t)(sp2 - sp1 - 1);
	version_len = len - (size_t)(sp2 + 1 - line);

	if (method_len == 0 || method_len >= sizeof(req->method))
		return malformed(req, "invalid method");
	for (size_t i = 0; i < method_len; i++) {
		if (!is_tchar((unsigned char)line[i]))
			return malformed(req, "invalid method");
	}
	if (target_len == 0 || target_len >= sizeof(req->target))
		return malformed(req, "invalid request target");
	for (size_t i = 0; i < target_len; i++) {
		if (!is_vchar((unsigned char)sp1[1 + i]))
			return malformed(req, "invalid request target");
	}
	if (version_len != 8 || (memcmp(sp2 + 1, "HTTP/1.1", 8) != 0 &&
				 memcmp(sp2 + 1, "HTTP/1.0", 8) != 0))
		return malformed(req, "unsupported HTTP version");

	memcpy(req->method, line, method_len);
	req->method[method_len] = '\0';
	memcpy(req->target, sp1 + 1, target_len);
	req->target[target_len] = '\0';
	return PROXY_PARSE_OK;
}

static enum proxy_parse check_header(const char *line, size_t len,
				     struct proxy_request *req)
{
	const char *colon = memchr(line, ':', len);

	if (!colon || colon == line)
		return malformed(req, "invalid header line");
	for (const char *p = line; p < colon; p++) {
		if (!is_tchar((unsigned char)*p))
			return malformed(req, "invalid header name");
	}
	for (const char *p = colon + 1; p < line + len; p++) {
		unsigned char c = (unsigned char)*p;

		if (c != '\t' && (c < 0x20 || c == 0x7f))
			return malformed(req, "invalid header value");
	}
	return PROXY_PARSE_OK;
}

/* Check each CRLF-ended header line of head[0..len), which ends at the
 * empty line. */
static enum proxy_parse check_headers(const char *head, size_t len,
				      struct proxy_request *req)
{
	size_t count = 0;
	size_t pos = 0;

	while (pos < len) {
		const char *line = head + pos;
		const char *cr = memchr(line, '\r', len - pos);
		size_t line_len;

		if (!cr || cr + 1 >= head + len || cr[1] != '\n')
			return malformed(req, "bare CR in header");
		line_len = (size_t)(cr - line);
		if (line_len == 0)
			break;
		if (++count > SANDBOX_PROXY_MAX_HEADERS) {
			snprintf(req->error, sizeof(req->error),
				 "more than %d header lines",
				 SANDBOX_PROXY_MAX_HEADERS);
			return PROXY_PARSE_TOO_LARGE;
		}
		if (memchr(line, '\n', line_len))
			return malformed(req, "bare LF in header");
		if (check_header(line, line_len, req) != PROXY_PARSE_OK)
			return PROXY_PARSE_MALFORMED;
		pos += line_len + 2;
	}
	return PROXY_PARSE_OK;
}

static enum proxy_parse parse_head(const char *buf, size_t head_len,
				   struct proxy_request *req)
{
	const char *cr = memchr(buf, '\r', head_len);
	size_t line_len;
	enum proxy_parse rc;

	if (!cr || cr[1] != '\n')
		return malformed(req, "invalid request line");
	line_len = (size_t)(cr - buf);
	if (memchr(buf, '\n', line_len))
		return malformed(req, "bare LF in request line");
	rc = parse_request_line(buf, line_len, req);
	if (rc != PROXY_PARSE_OK)
		return rc;
	rc = check_headers(cr + 2, head_len - line_len - 2, req);
	if (rc != PROXY_PARSE_OK)
		return rc;

	req->is_connect = strcmp(req->method, "CONNECT") == 0;
	if (req->is_connect)
		return parse_authority(req);
	return PROXY_PARSE_OK;
}

/*
 * Reject a method that is no token, a control character or a bare LF as
 * soon as it arrives. So a client that speaks another protocol (TLS,
 * say) or ends lines with LF alone gets its 400 at once instead of after
 * the head timeout.
 */
static bool has_stray_byte(const char *buf, size_t len)
{
	size_t i = 0;

	for (; i < len && buf[i] != ' '; i++) {
		if (!is_tchar((unsigned char)buf[i]))
			return true;
	}
	for (; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c == '\n' && buf[i - 1] != '\r')
			return true;
		if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') ||
		    c == 0x7f)
			return true;
	}
	return false;
}

/*
 * Copy the target of a rejected head's request line into req, so that
 * padding or never ending a head cannot hide the destination. A target
 * counts once a space or line end follows it, once it fills req, or,
 * when ended is true, at the end of buf, after which no byte follows.
 */
static void note_target(const char *buf, size_t len, bool ended,
			struct proxy_request *req)
{
	const char *space = memchr(buf, ' ', len);
	const char *start;
	size_t length = 0;

	if (!space || space == buf)
		return;
	for (const char *p = buf; p < space; p++) {
		if (!is_tchar((unsigned char)*p))
			return;
	}
	start = space + 1;
	while (start + length < buf + len && start[length] != ' ' &&
	       start[length] != '\r' && start[length] != '\n') {
		if (++length == sizeof(req->target) - 1)
			break;
	}
	if (length == 0 || (start + length == buf + len && !ended &&
			    length < sizeof(req->target) - 1))
		return;
	memcpy(req->target, start, length);
	req->target[length] = '\0';
}

static enum proxy_parse parse_buffer(const char *buf, size_t len,
				     struct proxy_request *req)
{
	size_t head_len;

	if (len > SANDBOX_PROXY_MAX_HEAD)
		len = SANDBOX_PROXY_MAX_HEAD;
	head_len = find_head_end(buf, len);
	if (has_stray_byte(buf, head_len ? head_len : len))
		return malformed(req, "invalid byte in request head");
	if (head_len == 0) {
		if (len < SANDBOX_PROXY_MAX_HEAD)
			return PROXY_PARSE_INCOMPLETE;
		snprintf(req->error, sizeof(req->error),
			 "request head over %d bytes", SANDBOX_PROXY_MAX_HEAD);
		return PROXY_PARSE_TOO_LARGE;
	}
	req->head_len = head_len;
	return parse_head(buf, head_len, req);
}

enum proxy_parse proxy_request_parse(const char *buf, size_t len,
				     struct proxy_request *req)
{
	enum proxy_parse rc;

	memset(req, 0, sizeof(*req));
	rc = parse_buffer(buf, len, req);
	if (rc != PROXY_PARSE_OK && !req->target[0])
		note_target(buf, len > SANDBOX_PROXY_MAX_HEAD ?
				 SANDBOX_PROXY_MAX_HEAD : len, false, req);
	return rc;
}

void proxy_request_ended(const char *buf, size_t len,
			 struct proxy_request *req)
{
	if (!req->target[0])
		note_target(buf, len > SANDBOX_PROXY_MAX_HEAD ?
				 SANDBOX_PROXY_MAX_HEAD : len, true, req);
}
