/*
 * fuzz_layout.c - libFuzzer target: the two index files of the open
 * layout that import reads. The input is manifest.json, a NUL byte,
 * then events.jsonl; without a NUL byte it is the manifest alone.
 */
#include <stdint.h>
#include <string.h>

#include "inspect/layout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	const char *nul = memchr(text, '\0', size);
	size_t mlen = nul ? (size_t)(nul - text) : size;
	struct inspect_layout_manifest m;

	if (inspect_layout_manifest_parse(text, mlen, &m) < 0)
		return 0;
	if (nul)
		inspect_layout_events_check(nul + 1, size - mlen - 1, &m, NULL,
					    NULL);
	for (size_t i = 0; i < m.n_objects; i++)
		(void)inspect_layout_manifest_find(&m, &m.objects[i].id);
	inspect_layout_manifest_release(&m);
	return 0;
}
