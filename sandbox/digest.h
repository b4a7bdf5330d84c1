/*
 * digest.h - SHA-256 for the sandbox library, through a libcrypto that
 * is opened on first use instead of linked.
 */
#ifndef SANDBOX_DIGEST_H
#define SANDBOX_DIGEST_H

#include <stddef.h>

/*
 * Compute the SHA-256 digest of len bytes at data and store it in hex
 * as 64 lowercase hex digits and a NUL. Opens libcrypto on the first
 * call. Thread-safe. Returns 0, or -1 with a message when libcrypto
 * cannot be opened or fails.
 */
int sandbox_sha256_hex(const void *data, size_t len, char hex[65]);

#endif
