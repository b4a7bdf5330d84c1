/*
 * error_keep.c - keep an error while other steps run, or carry it from
 * one thread to another: error.h stores one error per thread.
 */
#include <stdio.h>

#include "sandbox/error.h"
#include "sandbox/internal.h"

void sandbox_error_keep(struct sandbox_kept_error *k)
{
	const char *hint = sandbox_error_hint();

	snprintf(k->message, sizeof(k->message), "%s", sandbox_error());
	snprintf(k->hint, sizeof(k->hint), "%s", hint ? hint : "");
}

int sandbox_error_restore(const struct sandbox_kept_error *k)
{
	sandbox_set_error("%s", k->message);
	if (k->hint[0])
		sandbox_set_hint("%s", k->hint);
	return -1;
}
