/*
 * json_integer.c - integers in cJSON trees, printed exactly.
 */
#include <stdint.h>

#include <cjson/cJSON.h>

#include "harness/json_integer.h"

/*
 * cJSON prints a number with sprintf("%1.15g"), reads it back with
 * sscanf, and prints the 16 digits of a time in microseconds again with
 * "%1.17g": in callgrind, most of the instructions that encode an exec
 * event. The integers here print as the same digits, as raw items.
 */
cJSON *harness_json_add_integer(cJSON *object, const char *name,
				int64_t value)
{
	char buf[24], *at = buf + sizeof(buf) - 1;
	uint64_t u = value < 0 ? -(uint64_t)value : (uint64_t)value;
	cJSON *item;

	*at = '\0';
	do {
		*--at = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (value < 0)
		*--at = '-';
	item = cJSON_CreateRaw(at);
	if (item && object && !cJSON_AddItemToObjectCS(object, name, item)) {
		cJSON_Delete(item);
		return NULL;
	}
	return item;
}
