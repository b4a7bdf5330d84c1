/*
 * proxy_address.h - which destination addresses the egress proxy may
 * connect to (internal to the sandbox library).
 */
#ifndef SANDBOX_PROXY_ADDRESS_H
#define SANDBOX_PROXY_ADDRESS_H

#include <stdbool.h>
#include <sys/socket.h>

/* An IP address with room for either family. */
struct proxy_address {
	struct sockaddr_storage ss;
	socklen_t len;
};

/*
 * Parse text as a strict IP literal: a dotted quad for IPv4 (inet_pton,
 * so no octal, hex or shortened forms) or an IPv6 address without
 * brackets. An IPv4-mapped IPv6 address becomes the IPv4 address it
 * carries. Returns true and fills out, or false when text is no literal.
 */
bool proxy_address_parse(const char *text, unsigned port,
			 struct proxy_address *out);

/* Write the address without port, as inet_ntop does, into buf. */
void proxy_address_format(const struct proxy_address *addr, char *buf,
			  size_t len);

/* True when both contain the same address. Ports are ignored. */
bool proxy_address_equal(const struct proxy_address *a,
			 const struct proxy_address *b);

/* True for 127.0.0.0/8 and ::1. */
bool proxy_address_is_loopback(const struct proxy_address *addr);

/*
 * Return why the proxy must never connect to addr ("link-local
 * address", ...), or NULL when it may. Loopback is forbidden unless
 * loopback_ok. The checks look through IPv4-mapped, IPv4-compatible and
 * NAT64 (64:ff9b::/96) IPv6 addresses at the IPv4 address inside.
 */
const char *proxy_address_forbidden(const struct proxy_address *addr,
				    bool loopback_ok);

#endif
