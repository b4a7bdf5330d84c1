/*
 * canon.h - JSON documents in one canonical form, so that two requests
 * that differ only in key order or whitespace compare equal.
 *
 * The canonical text of a document is cJSON's compact print of it after
 * the members of every object are sorted by key (byte order, stable, so
 * duplicate keys keep their order). Numbers go through a C double, so an
 * integer beyond 2^53 loses its low digits in both the recorded and the
 * live request alike.
 *
 * Every parse is bounded: a document nested deeper than
 * HARNESS_JSON_MAX_DEPTH or larger than HARNESS_JSON_MAX_BYTES is
 * rejected with an error, so no caller recurses without limit.
 *
 * Functions that fail return NULL or -1 and store the message in
 * harness_error().
 */
#ifndef HARNESS_CANON_H
#define HARNESS_CANON_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* The deepest nesting of arrays and objects accepted, counting the root. */
#define HARNESS_JSON_MAX_DEPTH 256

/* The largest document accepted, in bytes. */
#define HARNESS_JSON_MAX_BYTES ((size_t)256 << 20)

/* Parse len bytes of JSON text (not NUL-terminated). The text must be one
 * whole document with nothing but whitespace after it. Returns a tree
 * that the caller frees with cJSON_Delete(), or NULL. */
cJSON *harness_json_parse(const void *text, size_t len);

/* The nesting depth of a tree: 0 for NULL, 1 for a scalar, and
 * HARNESS_JSON_MAX_DEPTH + 1 for any tree deeper than the limit. */
int harness_json_depth(const cJSON *item);

/* Sort the members of every object in the tree by key, in place. Fails
 * only when the tree is deeper than HARNESS_JSON_MAX_DEPTH. */
int harness_canon_sort(cJSON *item);

/* The canonical text of a tree, as a NUL-terminated string the caller
 * frees with free(). The tree is sorted in place first. */
char *harness_canon_print(cJSON *item);

/* Parse len bytes and return their canonical text, which the caller frees
 * with free(). */
char *harness_canon_text(const void *text, size_t len);

#endif
