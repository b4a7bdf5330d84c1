/*
 * proxy_address.c - classify the destination addresses of the egress
 * proxy.
 *
 * The forbidden ranges are these:
 *
 *	0.0.0.0/8, ::		unspecified (a connect there reaches the host)
 *	169.254.0.0/16, fe80::/10  link-local, where cloud metadata
 *				services such as 169.254.169.254 live
 *	fc00::/7		unique-local
 *	224.0.0.0/4, ff00::/8	multicast
 *	255.255.255.255		broadcast
 *	240.0.0.0/4		reserved
 *	127.0.0.0/8, ::1	loopback, unless the allowlist entry names it
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sandbox/proxy_address.h"

static void set_ipv4(struct proxy_address *out, const struct in_addr *a,
		     unsigned port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&out->ss;

	memset(out, 0, sizeof(*out));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	sin->sin_addr = *a;
	out->len = sizeof(*sin);
}

bool proxy_address_parse(const char *text, unsigned port,
			 struct proxy_address *out)
{
	struct in_addr a4;
	struct in6_addr a6;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->ss;

	if (inet_pton(AF_INET, text, &a4) == 1) {
		set_ipv4(out, &a4, port);
		return true;
	}
	if (inet_pton(AF_INET6, text, &a6) != 1)
		return false;
	if (IN6_IS_ADDR_V4MAPPED(&a6)) {
		memcpy(&a4, &a6.s6_addr[12], 4);
		set_ipv4(out, &a4, port);
		return true;
	}
	memset(out, 0, sizeof(*out));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons((uint16_t)port);
	sin6->sin6_addr = a6;
	out->len = sizeof(*sin6);
	return true;
}

void proxy_address_format(const struct proxy_address *addr, char *buf,
			  size_t len)
{
	const void *src;

	if (addr->ss.ss_family == AF_INET)
		src = &((const struct sockaddr_in *)&addr->ss)->sin_addr;
	else
		src = &((const struct sockaddr_in6 *)&addr->ss)->sin6_addr;
	if (!inet_ntop(addr->ss.ss_family, src, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

bool proxy_address_equal(const struct proxy_address *a,
			 const struct proxy_address *b)
{
	if (a->ss.ss_family != b->ss.ss_family)
		return false;
	if (a->ss.ss_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)&a->ss)->sin_addr,
			      &((const struct sockaddr_in *)&b->ss)->sin_addr,
			      sizeof(struct in_addr)) == 0;
	return memcmp(&((const struct sockaddr_in6 *)&a->ss)->sin6_addr,
		      &((const struct sockaddr_in6 *)&b->ss)->sin6_addr,
		      sizeof(struct in6_addr)) == 0;
}

/* The IPv4 address an IPv6 one carries, if it is of a kind that does. */
static bool embedded_ipv4(const struct in6_addr *a6, uint32_t *v4)
{
	static const uint8_t nat64[12] = { 0x00, 0x64, 0xff, 0x9b };
	static const uint8_t zero[12] = { 0 };

	if (IN6_IS_ADDR_V4MAPPED(a6) || memcmp(a6->s6_addr, nat64, 12) == 0 ||
	    (memcmp(a6->s6_addr, zero, 12) == 0 &&
	     !IN6_IS_ADDR_UNSPECIFIED(a6) && !IN6_IS_ADDR_LOOPBACK(a6))) {
		uint32_t n;

		memcpy(&n, &a6->s6_addr[12], 4);
		*v4 = ntohl(n);
		return true;
	}
	return false;
}

static const char *forbidden_ipv4(uint32_t a, bool loopback_ok)
{
	if ((a >> 24) == 0)
		return "unspecified address";
	if ((a >> 24) == 127)
		return loopback_ok ? NULL : "loopback address";
	if ((a >> 16) == 0xa9fe)
		return "link-local address";
	if (a == 0xffffffffU)
		return "broadcast address";
	if ((a >> 28) == 0xe)
		return "multicast address";
	if ((a >> 28) == 0xf)
		return "reserved address";
	return NULL;
}

static const char *forbidden_ipv6(const struct in6_addr *a6,
				  bool loopback_ok)
{
	uint32_t v4;

	if (IN6_IS_ADDR_UNSPECIFIED(a6))
		return "unspecified address";
	if (IN6_IS_ADDR_LOOPBACK(a6))
		return loopback_ok ? NULL : "loopback address";
	if (embedded_ipv4(a6, &v4))
		return forbidden_ipv4(v4, loopback_ok);
	if (a6->s6_addr[0] == 0xfe && (a6->s6_addr[1] & 0xc0) == 0x80)
		return "link-local address";
	if ((a6->s6_addr[0] & 0xfe) == 0xfc)
		return "unique-local address";
	if (a6->s6_addr[0] == 0xff)
		return "multicast address";
	return NULL;
}

bool proxy_address_is_loopback(const struct proxy_address *addr)
{
	if (addr->ss.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)&addr->ss;

		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	}
	return IN6_IS_ADDR_LOOPBACK(
		&((const struct sockaddr_in6 *)&addr->ss)->sin6_addr);
}

const char *proxy_address_forbidden(const struct proxy_address *addr,
				    bool loopback_ok)
{
	if (addr->ss.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)&addr->ss;

		return forbidden_ipv4(ntohl(sin->sin_addr.s_addr),
				      loopback_ok);
	}
	if (addr->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)&addr->ss;

		return forbidden_ipv6(&sin6->sin6_addr, loopback_ok);
	}
	return "unknown address family";
}
