/*
 * output.h - what the inspect commands share when they print: opening a
 * view with the error printed, JSON on stdout, colors, and fields
 * trimmed to 80 columns. Command layer only: these functions print.
 */
#ifndef INSPECT_OUTPUT_H
#define INSPECT_OUTPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "inspect/view.h"

#define OUT_WIDTH 80

/* ANSI colors, or "" when color is off. */
struct out_style {
	const char *bold, *red, *green, *yellow, *cyan, *dim, *reset;
};

/* Colors for stdout: on a terminal without NO_COLOR only. */
void out_style_init(struct out_style *style);

/* Open the bundle, printing the error when that fails. Returns 0 or
 * CLI_EXIT_ERROR. */
int out_open(struct inspect_view *view, const char *path);

/* Print the library's error and return CLI_EXIT_ERROR. */
int out_fail(void);

/* Print json formatted, with a newline, and delete it. Returns 0, or
 * CLI_EXIT_ERROR when it could not be printed. */
int out_json(cJSON *json);

/* Print json as out_json() prints it depth levels inside a document:
 * every line after the first indented by two spaces a level, and no
 * newline at the end. With leave_open, the closing brace of an object
 * is left out, so that the caller can print more members. Returns 0, or
 * CLI_EXIT_ERROR when memory runs out. */
int out_json_nested(const cJSON *json, int depth, int leave_open);

/* json formatted with two spaces per level instead of cJSON's tabs,
 * so that nested documents stay narrow; malloc'd, or NULL when memory
 * runs out. */
char *out_json_text(const cJSON *json);

/* Print "label" padded to width, then value with control characters
 * replaced, trimmed to end by column OUT_WIDTH with "..." when stdout is
 * a terminal. */
void out_field(const char *label, int width, const char *value);

/* out_field() of a printf-formatted value of any length. */
void out_fieldf(const char *label, int width, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Copy src to dst (cap bytes) for display: control characters become
 * '?', and text longer than width columns ends with "...". */
void out_trim(char *dst, size_t cap, const char *src, size_t width);

/* "3.09 s", "120 ms", "850 us". */
void out_duration(char *dst, size_t cap, double us);

/* Return one argument of a recorded argv as text, malloc'd, or NULL
 * when memory runs out. An argument that is not UTF-8, which the tracer
 * stores as {"base64": ...}, shows with each byte that is not UTF-8 or
 * not printable as \xHH and a backslash as \\, as paths show in
 * messages, so that two such arguments print apart. */
char *out_arg_text(const cJSON *arg);

/* The shell-quoted words of argv joined by spaces, malloc'd. */
char *out_argv(const cJSON *argv);

/* Take cJSON_Add* results as given: they return NULL only when memory
 * runs out, which out_json then reports. */
#define out_add_num(obj, name, v)                                              \
	cJSON_AddNumberToObject(obj, name, (double)(v))

/*
 * Read "[STEP] [PATH]" (n is 0, 1 or 2 words): with one word, it is a
 * step when it names one ("initial", "final" or a number) and a path
 * otherwise. The step defaults to the final one and the path to the
 * root. Returns 0 or -1 with the message in inspect_error().
 */
int out_step_path(const struct inspect_view *view, char **words, int n,
		  size_t *step, const char **path);

/* Escape, in place, every string and key of the tree at item that is
 * not valid UTF-8 as names are in messages (\xHH for such bytes), so the
 * JSON printed from it is valid for strict parsers. The bundle keeps the
 * exact bytes. Returns 0, or -1 when memory runs out. */
int out_json_utf8(cJSON *item);

/* Warn on stderr that a checkout cleared the setuid or setgid bits of
 * count files, and name the option that keeps them. Prints nothing when
 * count is 0. */
void inspect_note_setid(uint64_t count);

/* After a checkout into dir failed, say that dir keeps what was written
 * before the failure, when it is not empty, so that it is not taken for
 * a whole tree. Only for a dir that was new or empty before (the
 * checkout's stats.started). */
void inspect_note_partial(const char *dir);

#endif
