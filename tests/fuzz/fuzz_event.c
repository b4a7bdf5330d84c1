/*
 * fuzz_event.c - libFuzzer target: one event's JSON, as a bundle stores
 * it, described the way "runbundle log" prints it.
 */
#include <stdint.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "inspect/describe.h"
#include "inspect/output.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *json = cJSON_ParseWithLength((const char *)data, size);
	struct inspect_event ev = { .seq = 1, .time = "" };
	char *text;

	if (!json)
		return 0;
	ev.json = json;
	ev.kind = inspect_json_str(json, "kind");
	ev.data = cJSON_GetObjectItemCaseSensitive(json, "data");
	if (ev.kind) {
		text = inspect_describe(&ev);
		free(text);
	}
	text = inspect_violation_text(ev.data);
	free(text);
	text = out_argv(cJSON_GetObjectItemCaseSensitive(ev.data, "argv"));
	free(text);
	text = out_json_text(json);
	free(text);
	cJSON_Delete(json);
	return 0;
}
