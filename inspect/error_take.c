/*
 * error_take.c - carrying another library's message over into this one.
 */
#include <archive.h>
#include <string.h>

#include "inspect/error.h"

int inspect_take_error(const char *msg, const char *why_hint)
{
	inspect_set_error("%s", msg ? msg : "unknown failure");
	if (why_hint)
		inspect_set_hint("%s", why_hint);
	return -1;
}

const char *inspect_archive_reason(struct archive *ar)
{
	int err = archive_errno(ar);
	const char *text = archive_error_string(ar);

	if (err > 0)
		return strerror(err);
	return text ? text : "unknown failure";
}
