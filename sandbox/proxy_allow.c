/*
 * proxy_allow.c - the egress proxy's allowlist: parsing "host:port"
 * entries, matching requests against them, and pinned addresses.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox/error.h"
#include "sandbox/proxy_internal.h"

/* Split "host:port" or "[v6]:port" into its parts, host unbracketed. */
static int split_entry(const char *entry, char host[256], unsigned *port)
{
	const char *colon;
	const char *name = entry;
	size_t len;
	char *end;
	unsigned long value;

	if (entry[0] == '[') {
		const char *close = strchr(entry, ']');

		if (!close || close[1] != ':')
			return -1;
		name = entry + 1;
		len = (size_t)(close - name);
		colon = close + 1;
	} else {
		colon = strrchr(entry, ':');
		if (!colon || memchr(entry, ':', (size_t)(colon - entry)))
			return -1;
		len = (size_t)(colon - entry);
	}
	if (len == 0 || len >= 256)
		return -1;
	errno = 0;
	value = strtoul(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end || errno ||
	    value < 1 || value > 65535)
		return -2;
	memcpy(host, name, len);
	host[len] = '\0';
	*port = (unsigned)value;
	return 0;
}

/* Lowercase a name and drop one trailing dot, so that "Example.COM."
 * and "example.com" match. */
void proxy_normalize_name(char *host)
{
	size_t len = strlen(host);

	for (size_t i = 0; i < len; i++) {
		if (host[i] >= 'A' && host[i] <= 'Z')
			host[i] = (char)(host[i] - 'A' + 'a');
	}
	if (len > 1 && host[len - 1] == '.')
		host[len - 1] = '\0';
}

int proxy_parse_entry(const char *entry, struct allow_entry *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	rc = split_entry(entry, out->host, &out->port);
	if (rc < 0) {
		sandbox_set_error("invalid egress allowlist entry: '%s': %s",
				  entry, rc == -2 ? "port out of range"
						  : "expected host:port");
		return -1;
	}
	out->is_literal = proxy_address_parse(out->host, out->port,
					      &out->literal);
	if (out->is_literal) {
		proxy_address_format(&out->literal, out->host,
				     sizeof(out->host));
		out->loopback_ok = proxy_address_is_loopback(&out->literal);
		return 0;
	}
	proxy_normalize_name(out->host);
	out->loopback_ok = strcmp(out->host, "localhost") == 0;
	return 0;
}

int sandbox_proxy_allow(struct sandbox_proxy *proxy, const char *entry)
{
	struct allow_entry parsed;
	struct allow_entry *grown;

	if (proxy->running) {
		sandbox_set_error("cannot add egress allowlist entry: '%s': %s",
				  entry, "the proxy is running");
		return -1;
	}
	if (proxy_parse_entry(entry, &parsed) < 0)
		return -1;
	grown = realloc(proxy->allow,
			(proxy->allow_count + 1) * sizeof(*grown));
	if (!grown) {
		sandbox_set_error("cannot add egress allowlist entry: '%s': %s",
				  entry, strerror(ENOMEM));
		return -1;
	}
	proxy->allow = grown;
	proxy->allow[proxy->allow_count++] = parsed;
	return 0;
}

struct allow_entry *proxy_find_entry(struct sandbox_proxy *proxy,
				     const struct allow_entry *key)
{
	for (size_t i = 0; i < proxy->allow_count; i++) {
		struct allow_entry *e = &proxy->allow[i];

		if (e->port != key->port || e->is_literal != key->is_literal)
			continue;
		if (e->is_literal ? proxy_address_equal(&e->literal,
							&key->literal)
				  : strcmp(e->host, key->host) == 0)
			return e;
	}
	return NULL;
}

int sandbox_proxy_pin(struct sandbox_proxy *proxy, const char *entry,
		      const char *address)
{
	struct allow_entry key;
	struct allow_entry *found;

	if (proxy_parse_entry(entry, &key) < 0)
		return -1;
	found = proxy_find_entry(proxy, &key);
	if (!found || found->is_literal) {
		sandbox_set_error("cannot pin egress destination: '%s': %s",
				  entry, found ? "already an IP address"
					       : "not on the allowlist");
		return -1;
	}
	if (!proxy_address_parse(address, found->port, &found->pin)) {
		sandbox_set_error("cannot pin egress destination: '%s': %s",
				  address, "not an IP address");
		return -1;
	}
	found->pinned = true;
	return 0;
}
