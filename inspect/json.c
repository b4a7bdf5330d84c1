/*
 * json.c - small readers of untrusted JSON documents (view.h).
 */
#include "inspect/view.h"

const char *inspect_json_str(const cJSON *obj, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsString(item) ? item->valuestring : NULL;
}

double inspect_json_num(const cJSON *obj, const char *name, double fallback)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsNumber(item) ? item->valuedouble : fallback;
}

int inspect_json_bool(const cJSON *obj, const char *name, int fallback)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsBool(item) ? cJSON_IsTrue(item) : fallback;
}
