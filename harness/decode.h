/*
 * decode.h - decoding compressed HTTP bodies (gzip, deflate, br, zstd)
 * for display, matching and secret scanning. Stored bodies stay
 * compressed; only copies are decoded.
 */
#ifndef HARNESS_DECODE_H
#define HARNESS_DECODE_H

#include <stddef.h>

/* The largest decoded body, so that a small hostile body cannot fill
 * memory. */
#define HARNESS_DECODE_MAX ((size_t)1 << 30)

/*
 * Decode len bytes sent with the Content-Encoding encoding (one coding,
 * or several separated by commas, applied in the order listed). Returns
 * 1 when there is nothing to decode (NULL, empty or "identity"), 0 with
 * the decoded bytes in *out (the caller frees them), or -1 with a message
 * in harness_error() for an unknown coding or a damaged body.
 */
int harness_decode_body(const char *encoding, const void *data, size_t len,
			unsigned char **out, size_t *out_len);

/* Decode as harness_decode_body() does, with at most max_len bytes after
 * each coding is undone. */
int harness_decode_body_max(const char *encoding, const void *data,
			    size_t len, size_t max_len, unsigned char **out,
			    size_t *out_len);

#endif
