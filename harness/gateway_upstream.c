/*
 * gateway_upstream.c - checking an upstream's name and base URL before
 * the gateway starts, with libcurl's URL parser.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "harness/error.h"
#include "harness/gateway.h"

/* libcurl takes "http://host:" for the default port. An empty port is
 * more likely a typing mistake than a choice, so it is rejected. */
static int has_empty_port(const char *url)
{
	const char *start = strstr(url, "://");
	size_t len;

	if (!start)
		return 0;
	start += 3;
	len = strcspn(start, "/?#");
	return len > 0 && start[len - 1] == ':';
}

static int has_credentials(CURLU *u)
{
	char *part = NULL;
	int found = 0;

	if (curl_url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK)
		found = 1;
	curl_free(part);
	part = NULL;
	if (curl_url_get(u, CURLUPART_PASSWORD, &part, 0) == CURLUE_OK)
		found = 1;
	curl_free(part);
	return found;
}

/* Returns the reason the URL cannot be used, or NULL. The reason never
 * quotes the URL, because the URL may contain a password. */
static const char *check_url(const char *url)
{
	CURLU *u;
	CURLUcode rc;
	const char *reason = NULL;

	if (strncasecmp(url, "http://", 7) != 0 &&
	    strncasecmp(url, "https://", 8) != 0)
		return "the URL must start with http:// or https://";
	if (has_empty_port(url))
		return "the URL has an empty port";
	u = curl_url();
	if (!u)
		return "out of memory";
	rc = curl_url_set(u, CURLUPART_URL, url, 0);
	if (rc != CURLUE_OK)
		reason = curl_url_strerror(rc);
	else if (has_credentials(u))
		reason = "the URL carries a user name or password, which would "
			 "be sent upstream unmasked";
	curl_url_cleanup(u);
	return reason;
}

long harness_secret_bad_byte(const char *secret)
{
	for (const char *p = secret; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return p - secret;
	}
	return -1;
}

/* The upstream's key goes into a header. A CR or LF in it would end the
 * header early, and a server that trims it would echo the key without
 * it, where masking the exact bytes does not find it. */
static int check_secret(const char *name, const char *secret)
{
	long at = secret ? harness_secret_bad_byte(secret) : -1;

	if (at < 0)
		return 0;
	harness_set_error("invalid key of upstream: '%s': byte %ld of %zu is "
			  "the control character 0x%02x", name, at + 1,
			  strlen(secret), (unsigned char)secret[at]);
	harness_set_hint("remove the line end or other control character "
			 "from the key (a key file saved with CRLF line ends "
			 "adds a CR)");
	return -1;
}

/* Return whether s is a token (RFC 9110, section 5.1), as a header
 * name must be. */
static bool is_token(const char *s)
{
	static const char tchar[] = "!#$%&'*+-.^_`|~";

	if (!*s)
		return false;
	for (; *s; s++) {
		if (!isalnum((unsigned char)*s) && !strchr(tchar, *s))
			return false;
	}
	return true;
}

/* A CR or LF in the key's header name would let the name start a
 * header of its own, holding the key. */
static int check_header_name(const char *name, const char *header)
{
	if (is_token(header))
		return 0;
	harness_set_error("invalid header of upstream: '%s': the key's "
			  "header name must be a token of letters, digits "
			  "and !#$%%&'*+-.^_`|~", name);
	harness_set_hint("give it as --auth %s=VARIABLE:HEADER, such as "
			 "x-api-key", name);
	return -1;
}

int harness_upstream_check(const struct harness_upstream *upstream)
{
	const char *name = upstream->name ? upstream->name : "";
	const char *reason;

	if (!*name || strcspn(name, "/?") != strlen(name)) {
		harness_set_error("invalid upstream: '%s': the name must be "
				  "non-empty without '/' or '?'",
				  name);
		return -1;
	}
	reason = upstream->url ? check_url(upstream->url) : "no URL";
	if (!reason && upstream->auth_header &&
	    check_header_name(name, upstream->auth_header) < 0)
		return -1;
	if (!reason)
		return check_secret(name, upstream->secret);
	harness_set_error("invalid upstream: '%s': %s", name, reason);
	if (strstr(reason, "password"))
		harness_set_hint("drop the credentials from the URL and give "
				 "the key with --auth %s=VARIABLE[:HEADER]",
				 name);
	else
		harness_set_hint("give it as NAME=http://HOST:PORT/PATH or "
				 "NAME=https://HOST:PORT/PATH");
	return -1;
}
