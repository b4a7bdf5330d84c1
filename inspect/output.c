/*
 * output.c - printing helpers of the inspect commands.
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "bundle/checkout.h"
#include "bundle/tree.h"
#include "cli/cli.h"
#include "harness/json_bytes.h"
#include "inspect/error.h"
#include "inspect/output.h"

void out_style_init(struct out_style *s)
{
	int on = cli_use_color(stdout);

	s->bold = on ? "\033[1m" : "";
	s->red = on ? "\033[31m" : "";
	s->green = on ? "\033[32m" : "";
	s->yellow = on ? "\033[33m" : "";
	s->cyan = on ? "\033[36m" : "";
	s->dim = on ? "\033[2m" : "";
	s->reset = on ? "\033[0m" : "";
}

int out_fail(void)
{
	return cli_error_from(inspect_error(), inspect_error_hint());
}

int out_open(struct inspect_view *view, const char *path)
{
	if (inspect_view_open(view, path) < 0)
		return out_fail();
	return 0;
}

/* Turn every whole number below 2^53 in item into a raw item of its
 * digits. cJSON prints a number with "%1.15g" when that reads back the
 * same, so a time in microseconds that ends in 0 came out in exponent
 * form, as 1.79648373834795e+15. Returns -1 when memory runs out. */
static int exact_integers(cJSON *item)
{
	for (; item; item = item->next) {
		double v = item->valuedouble;
		char digits[24];

		if (exact_integers(item->child) < 0)
			return -1;
		if (!cJSON_IsNumber(item) || v != floor(v) || fabs(v) >= 0x1p53)
			continue;
		snprintf(digits, sizeof(digits), "%lld", (long long)v);
		item->valuestring = strdup(digits);
		if (!item->valuestring)
			return -1;
		item->type = cJSON_Raw;
	}
	return 0;
}

/* Return an escaped copy of s when it is not valid UTF-8, else NULL.
 * *failed is set when memory runs out. */
static char *escape_bytes(const char *s, int *failed)
{
	size_t len = strlen(s), cap = len * 4 + 1;
	char *escaped;

	if (harness_is_utf8((const unsigned char *)s, len))
		return NULL;
	escaped = malloc(cap);
	if (!escaped) {
		*failed = 1;
		return NULL;
	}
	bundle_name_escape(escaped, cap, (const unsigned char *)s, len);
	return escaped;
}

int out_json_utf8(cJSON *item)
{
	int failed = 0;

	for (; item && !failed; item = item->next) {
		char *escaped;

		if (out_json_utf8(item->child) < 0)
			return -1;
		if (item->string && !(item->type & cJSON_StringIsConst) &&
		    (escaped = escape_bytes(item->string, &failed))) {
			free(item->string);
			item->string = escaped;
		}
		if (cJSON_IsString(item) && !(item->type & cJSON_IsReference) &&
		    (escaped = escape_bytes(item->valuestring, &failed))) {
			free(item->valuestring);
			item->valuestring = escaped;
		}
	}
	return failed ? -1 : 0;
}

/* Turn the string item, whose bytes are not valid UTF-8, into the object
 * {"base64": ...} of them in place, keeping its place and its key. */
static int string_to_base64(cJSON *item)
{
	cJSON *b64 = harness_json_base64(
		(const unsigned char *)item->valuestring,
		strlen(item->valuestring));

	if (!b64 || !(b64->string = strdup("base64"))) {
		cJSON_Delete(b64);
		return -1;
	}
	free(item->valuestring);
	item->valuestring = NULL;
	item->type = cJSON_Object | (item->type & cJSON_StringIsConst);
	item->child = b64;
	return 0;
}

/* Replace each string value of the tree at item that is not valid UTF-8
 * by {"base64": ...}, which no escaped text can be mistaken for. Keys
 * are left to out_json_utf8(). */
static int json_bytes_exact(cJSON *item)
{
	for (; item; item = item->next) {
		if (json_bytes_exact(item->child) < 0)
			return -1;
		if (!cJSON_IsString(item) || (item->type & cJSON_IsReference) ||
		    harness_is_utf8((const unsigned char *)item->valuestring,
				    strlen(item->valuestring)))
			continue;
		if (string_to_base64(item) < 0)
			return -1;
	}
	return 0;
}

char *out_json_text(const cJSON *json)
{
	cJSON *copy = cJSON_Duplicate(json, 1);
	char *text = NULL, *out, *q;
	int leading = 1;

	if (copy && exact_integers(copy) == 0 && json_bytes_exact(copy) == 0 &&
	    out_json_utf8(copy) == 0)
		text = cJSON_Print(copy);
	cJSON_Delete(copy);
	if (!text)
		return NULL;
	/* Literal tabs in cJSON's output are all formatting: tabs inside
	 * strings are escaped as \t. */
	out = malloc(strlen(text) * 2 + 1);
	if (!out) {
		free(text);
		return NULL;
	}
	q = out;
	for (const char *p = text; *p; p++) {
		if (*p == '\t') {
			*q++ = ' ';
			if (leading)
				*q++ = ' ';
			continue;
		}
		leading = *p == '\n';
		*q++ = *p;
	}
	*q = '\0';
	free(text);
	return out;
}

int out_json_nested(const cJSON *json, int depth, int leave_open)
{
	char *text = out_json_text(json);
	size_t len;

	if (!text) {
		cli_error("cannot print JSON: out of memory");
		return CLI_EXIT_ERROR;
	}
	/* cJSON ends an object with "\n}", and an empty one is "{\n}". */
	len = strlen(text);
	if (leave_open && len >= 3 && strcmp(text + len - 2, "\n}") == 0)
		text[len - 2] = '\0';

	for (const char *p = text; *p; p++) {
		putchar(*p);
		if (*p == '\n')
			printf("%*s", depth * 2, "");
	}
	free(text);
	return 0;
}

int out_json(cJSON *json)
{
	char *text = json ? out_json_text(json) : NULL;

	cJSON_Delete(json);
	if (!text) {
		cli_error("cannot print JSON: out of memory");
		return CLI_EXIT_ERROR;
	}
	puts(text);
	free(text);
	return 0;
}

/* Columns of a UTF-8 string, counting each code point as one. */
static size_t columns(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xc0) != 0x80;
	return n;
}

void out_trim(char *dst, size_t cap, const char *src, size_t width)
{
	size_t len;

	cli_sanitize(dst, cap, src ? src : "");
	len = strlen(dst);
	if (width < 4 || columns(dst, len) <= width)
		return;
	/* Cut at width - 3 columns, never inside a UTF-8 sequence. */
	for (size_t i = 0, cols = 0; i < len; i++) {
		if (((unsigned char)dst[i] & 0xc0) == 0x80)
			continue;
		if (cols++ == width - 3) {
			if (i + 4 <= cap)
				memcpy(dst + i, "...", 4);
			return;
		}
	}
}

/* Only a terminal gets values cut to its width: a file or a pipe keeps
 * them whole for the reader who searches it. */
void out_field(const char *label, int width, const char *value)
{
	static int terminal = -1;
	size_t cap = (value ? strlen(value) : 0) + 1;
	char *buf = malloc(cap);

	if (terminal < 0)
		terminal = isatty(STDOUT_FILENO);
	if (!buf) {
		printf("%-*s(out of memory)\n", width, label);
		return;
	}
	if (terminal)
		out_trim(buf, cap, value, (size_t)(OUT_WIDTH - width));
	else
		cli_sanitize(buf, cap, value ? value : "");
	printf("%-*s%s\n", width, label, buf);
	free(buf);
}

void out_fieldf(const char *label, int width, const char *fmt, ...)
{
	va_list ap;
	char *value;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&value, fmt, ap);
	va_end(ap);
	out_field(label, width, n < 0 ? "(out of memory)" : value);
	if (n >= 0)
		free(value);
}

void out_duration(char *dst, size_t cap, double us)
{
	if (us < 0)
		snprintf(dst, cap, "-");
	else if (us >= 1e6)
		snprintf(dst, cap, "%.2f s", us / 1e6);
	else if (us >= 1e3)
		snprintf(dst, cap, "%.0f ms", us / 1e3);
	else
		snprintf(dst, cap, "%.0f us", us);
}

static int plain_word(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++) {
		if (!strchr("abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789-_./=:,+@%", *s))
			return 0;
	}
	return 1;
}

/* Decode an argument stored as {"base64": ...} and escape it for
 * display (out_arg_text()). NULL when it cannot be decoded. */
static char *base64_arg(const cJSON *arg)
{
	const cJSON *b64 = cJSON_GetObjectItem(arg, "base64");
	size_t len = cJSON_IsString(b64) ? strlen(b64->valuestring) : 0;
	unsigned char *raw = len ? malloc(len) : NULL;
	char *out = NULL;
	int n = raw ? EVP_DecodeBlock(raw, (const unsigned char *)
				      b64->valuestring, (int)len) : -1;

	/* EVP_DecodeBlock counts the bytes that the padding stands for. */
	while (n > 0 && len > 0 && b64->valuestring[--len] == '=')
		n--;
	if (n >= 0)
		out = malloc(4 * (size_t)n + 1);
	if (out)
		bundle_name_escape(out, 4 * (size_t)n + 1, raw, (size_t)n);
	free(raw);
	return out;
}

char *out_arg_text(const cJSON *arg)
{
	char *text;

	if (cJSON_IsString(arg)) {
		int failed = 0;

		/* Bytes that are not UTF-8 show as \xHH here too, whether
		 * they came as base64 or were decoded on load. */
		text = escape_bytes(arg->valuestring, &failed);
		if (text || failed)
			return text;
		return strdup(arg->valuestring);
	}
	text = base64_arg(arg);
	return text ? text : strdup("?");
}

char *out_argv(const cJSON *argv)
{
	const cJSON *word;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int first = 1;

	if (!f)
		return NULL;
	cJSON_ArrayForEach(word, argv) {
		char *w = out_arg_text(word);

		fputs(first ? "" : " ", f);
		first = 0;
		if (w && plain_word(w)) {
			fputs(w, f);
		} else if (w) {
			fputc('\'', f);
			for (const char *p = w; *p; p++)
				fputs(*p == '\'' ? "'\\''" : (char[]){ *p, 0 },
				      f);
			fputc('\'', f);
		}
		free(w);
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int is_step_name(const char *s)
{
	if (strcmp(s, "initial") == 0 || strcmp(s, "final") == 0)
		return 1;
	if (!*s)
		return 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return 0;
	}
	return 1;
}

int out_step_path(const struct inspect_view *view, char **words, int n,
		  size_t *step, const char **path)
{
	const char *name = "final";

	*path = "";
	if (n == 2) {
		name = words[0];
		*path = words[1];
	} else if (n == 1 && is_step_name(words[0])) {
		name = words[0];
	} else if (n == 1) {
		*path = words[0];
	}
	return inspect_view_step(view, name, step);
}

void inspect_note_setid(uint64_t count)
{
	if (!count)
		return;
	cli_error("warning: setuid and setgid bits not restored: '%llu "
		  "file%s': a bundle could make such a file run with the "
		  "rights of its new owner", (unsigned long long)count,
		  count == 1 ? "" : "s");
	cli_hint("pass --keep-setuid to restore them");
}

void inspect_note_partial(const char *dir)
{
	if (bundle_dir_is_empty(dir) != 0)
		return;
	cli_error("the tree is incomplete: '%s': it keeps what was written "
		  "before the failure", dir);
	cli_hint("remove '%s' before you run the command again", dir);
}
