/*
 * json_integer.h - integers in cJSON trees, printed exactly.
 *
 * cJSON stores every number as a double and prints it with printf's %g,
 * so a time in microseconds since 1970 that ends in a zero prints in
 * exponent form, as 1.79647433126116e+15.
 */
#ifndef HARNESS_JSON_INTEGER_H
#define HARNESS_JSON_INTEGER_H

#include <stdint.h>

struct cJSON;

/*
 * Add value to object as name, or with object NULL only create the item:
 * a raw item (cJSON_Raw) with the number's decimal digits, made without
 * printf. The JSON builders here use it for every
 * integer, so read their numbers from the printed text, not from the
 * items. name is not copied, so it must outlive object: a string
 * literal. Returns the item, or NULL when out of memory.
 */
struct cJSON *harness_json_add_integer(struct cJSON *object,
				       const char *name, int64_t value);

#endif
