/*
 * json.c - small readers of untrusted JSON documents (view.h).
 */
#include "inspect/view.h"

/* 2^63: the doubles below it and from -2^63 fit a long long. */
#define LLONG_LIMIT 9223372036854775808.0

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

int inspect_json_int(const cJSON *obj, const char *name, long long min,
		     long long max, long long *out)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
	double v;
	long long n;

	if (!cJSON_IsNumber(item))
		return -1;
	v = item->valuedouble;
	/* Written so that NaN fails too. */
	if (!(v >= -LLONG_LIMIT && v < LLONG_LIMIT))
		return -1;
	n = (long long)v;
	if ((double)n != v || n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

int inspect_json_exit_code(const cJSON *data)
{
	long long code;

	if (inspect_json_int(data, "exit_code", 0, INSPECT_EXIT_CODE_MAX,
			     &code) < 0)
		return -1;
	return (int)code;
}
