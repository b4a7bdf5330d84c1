/*
 * error.c - the per-thread last-error message of the replay library.
 */
#include <stdarg.h>
#include <stdio.h>

#include "replay/replay.h"

static _Thread_local char message[1024];
static _Thread_local char hint[512];

/* Values in messages come from bundles: no control characters. */
static void format_clean(char *dst, size_t len, const char *fmt, va_list ap)
{
	vsnprintf(dst, len, fmt, ap);
	for (char *p = dst; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	}
}

const char *replay_error(void)
{
	return message;
}

const char *replay_error_hint(void)
{
	return hint[0] ? hint : NULL;
}

void replay_set_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	format_clean(message, sizeof(message), fmt, ap);
	va_end(ap);
	hint[0] = '\0';
}

void replay_set_hint(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	format_clean(hint, sizeof(hint), fmt, ap);
	va_end(ap);
}
