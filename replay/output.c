/*
 * output.c - printing a comparison (output.h).
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "replay/output.h"
#include "replay/printed.h"

int replay_print_comparison(const struct replay_comparison *cmp, bool json,
			    cJSON *extra)
{
	char *text;

	if (json) {
		cJSON *obj = replay_comparison_json(cmp);
		cJSON *item;

		while (obj && extra && (item = extra->child)) {
			cJSON_DetachItemViaPointer(extra, item);
			cJSON_AddItemToObject(obj, item->string, item);
		}
		text = obj ? cJSON_Print(obj) : NULL;
		cJSON_Delete(obj);
	} else {
		text = replay_comparison_text(cmp);
	}
	cJSON_Delete(extra);
	if (!text) {
		cli_error("cannot write the report: out of memory");
		return CLI_EXIT_ERROR;
	}
	fputs(text, stdout);
	if (json)
		fputc('\n', stdout);
	free(text);
	return cmp->verdict == REPLAY_DIVERGED ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

void replay_print_json(cJSON *obj)
{
	char *text = obj ? cJSON_Print(obj) : NULL;

	if (text)
		printf("%s\n", text);
	else
		cli_error("cannot write the report: out of memory");
	free(text);
	cJSON_Delete(obj);
}

int replay_compare_and_print(const struct replay_run *a,
			     const struct replay_run *b, bool json,
			     cJSON *extra)
{
	struct replay_comparison cmp;
	char *explanation = NULL;
	int rc;

	if (!extra)
		extra = cJSON_CreateObject();
	if (!extra || replay_compare(a, b, &cmp) < 0) {
		cJSON_Delete(extra);
		return cli_error_from(replay_error(), replay_error_hint());
	}
	if (replay_check_output(a, b, &cmp, extra, &explanation) < 0) {
		replay_comparison_release(&cmp);
		cJSON_Delete(extra);
		return cli_error_from(replay_error(), replay_error_hint());
	}
	rc = replay_print_comparison(&cmp, json, extra);

	/* The text ends with the one-line explanation of the first
	 * divergence. */
	if (!json && !explanation && cmp.first)
		explanation = replay_explain(&cmp);
	if (!json && explanation)
		printf("first divergence: %s\n", explanation);
	free(explanation);
	replay_comparison_release(&cmp);
	return rc;
}
