/*
 * json_bytes.h - byte strings in cJSON trees, kept exact.
 *
 * JSON strings are Unicode text, and strict parsers reject one that contains
 * bytes that are not valid UTF-8. Bytes that runbundle records (argv, a
 * header value, a request path) need not be UTF-8, so they are written as
 * a JSON string when they are valid UTF-8 without NUL, and otherwise as
 * {"base64": "..."}, which no string value can be mistaken for.
 */
#ifndef HARNESS_JSON_BYTES_H
#define HARNESS_JSON_BYTES_H

#include <stdbool.h>
#include <stddef.h>

struct cJSON;

/* Create a string item with data[0..len) in base64. Returns NULL when
 * out of memory. The caller owns the item. */
struct cJSON *harness_json_base64(const unsigned char *data, size_t len);

/* Decode base64 text into a new buffer of *len bytes plus a NUL, which
 * the caller frees. Returns 0, or -1 when text is not base64 or memory
 * runs out. */
int harness_base64_decode(const char *text, unsigned char **out, size_t *len);

/* Return whether s[0..len) is valid UTF-8: no overlong forms, no
 * surrogates, nothing above U+10FFFF. */
bool harness_is_utf8(const unsigned char *s, size_t len);

/* Create the item for data[0..len): a string, or {"base64": ...}, or
 * null when data is NULL. Returns NULL when out of memory. The caller
 * owns the item. */
struct cJSON *harness_json_bytes(const char *data, size_t len);

/* Create the same item for a NUL-terminated string, or null when s is
 * NULL. */
struct cJSON *harness_json_text(const char *s);

/*
 * Read an item made by harness_json_text() back into a new string,
 * which the caller frees. Returns 0; 1 when the item is neither a
 * string nor {"base64": ...} of bytes without NUL, with *out NULL; or
 * -1 when memory runs out. Sets no error.
 */
int harness_json_read_text(const struct cJSON *item, char **out);

/*
 * Replace each member of object named in names whose value has the form
 * {"base64": ...} of bytes without NUL by a string of those bytes, so
 * that readers that take a string get the exact bytes, valid UTF-8 or
 * not. Other members stay. Returns -1 when memory runs out, else 0.
 */
int harness_json_decode_members(struct cJSON *object,
				const char *const *names, size_t n);

/* The members of exec and violation events that may be in that form. */
extern const char *const harness_event_text_members[];
#define HARNESS_EVENT_TEXT_MEMBERS 4

#endif
