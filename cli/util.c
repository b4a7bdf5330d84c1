/*
 * util.c - message printing shared by every subcommand.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

void cli_sanitize(char *dst, size_t dstlen, const char *src)
{
	size_t i = 0;
	const unsigned char *s = (const unsigned char *)src;

	if (dstlen == 0)
		return;

	while (*s && i + 1 < dstlen) {
		unsigned char c = *s++;

		if (c < 0x20 || c == 0x7f)
			c = '?';
		dst[i++] = (char)c;
	}
	dst[i] = '\0';
}

static void print_line(const char *prefix, const char *fmt, va_list ap)
{
	char raw[4096];
	char clean[4096];

	vsnprintf(raw, sizeof(raw), fmt, ap);
	cli_sanitize(clean, sizeof(clean), raw);
	fprintf(stderr, "%s%s\n", prefix, clean);
}

void cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	print_line("runbundle: ", fmt, ap);
	va_end(ap);
}

void cli_hint(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	print_line("hint: ", fmt, ap);
	va_end(ap);
}

int cli_error_from(const char *message, const char *hint)
{
	cli_error("%s", message && *message ? message : "unknown error");
	if (hint && *hint)
		cli_hint("%s", hint);
	return CLI_EXIT_ERROR;
}

int cli_usage_error(const struct cli_command *self, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	print_line("runbundle: ", fmt, ap);
	va_end(ap);

	fprintf(stderr, "usage: %s\n", self->usage);
	fprintf(stderr, "Run 'runbundle help %s' for the options.\n",
		self->name);
	return CLI_EXIT_USAGE;
}

void cli_print_help(FILE *out, const struct cli_command *self)
{
	fprintf(out, "usage: %s\n\n%s\n", self->usage, self->summary);
	if (self->help && *self->help)
		fprintf(out, "\n%s", self->help);
}

int cli_use_color(FILE *stream)
{
	const char *no_color = getenv("NO_COLOR");

	if (no_color && *no_color)
		return 0;
	return isatty(fileno(stream));
}
