/*
 * fuzz_exchange.c - libFuzzer target: an exchange's JSON (the object an
 * "exchange" event references), parsed and its answer extracted, and
 * the input as a response body in each API shape.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness/exchange_json.h"
#include "inspect/answer.h"

static void body(const char *api, const uint8_t *data, size_t size)
{
	struct inspect_answer a;

	if (inspect_answer_parse_body(api, data, size, data, size, &a) == 0)
		inspect_answer_release(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct harness_exchange ex;
	struct inspect_answer a;
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (harness_exchange_from_json(text, &ex) == 0) {
		if (inspect_answer_parse(&ex, &a) == 0)
			inspect_answer_release(&a);
		harness_exchange_release(&ex);
	}
	free(text);
	body(NULL, data, size);
	body("chat", data, size);
	body("responses", data, size);
	body("messages", data, size);
	return 0;
}
