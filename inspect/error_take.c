/*
 * error_take.c - carrying another library's message over into this one.
 */
#include "inspect/error.h"

int inspect_take_error(const char *msg, const char *why_hint)
{
	inspect_set_error("%s", msg ? msg : "unknown failure");
	if (why_hint)
		inspect_set_hint("%s", why_hint);
	return -1;
}
