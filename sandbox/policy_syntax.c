/*
 * policy_syntax.c - explain why a policy file is not JSON.
 *
 * cJSON reports a syntax error only by the byte where it stopped, and
 * that byte may be the start of the string or the token that contains
 * the error. The mistakes of hand-written JSON are few, so the text around
 * that byte, and one scan of the whole text for an unclosed string or
 * bracket, name most of them.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "sandbox/internal.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The index just past the last byte before at that is not whitespace,
 * or 0. */
static size_t skip_space_back(const char *text, size_t at)
{
	while (at > 0 && is_space(text[at - 1]))
		at--;
	return at;
}

/* The last byte before at that is not whitespace, or '\0'. */
static char before(const char *text, size_t at)
{
	at = skip_space_back(text, at);
	return at > 0 ? text[at - 1] : '\0';
}

/* Whether a string or a bracket is still open after the first len bytes
 * of the text: "string", "bracket" or NULL. */
static const char *left_open(const char *text, size_t len)
{
	bool in_string = false;
	long depth = 0;

	for (size_t i = 0; i < len; i++) {
		if (in_string && text[i] == '\\')
			i++;
		else if (text[i] == '"')
			in_string = !in_string;
		else if (!in_string && (text[i] == '{' || text[i] == '['))
			depth++;
		else if (!in_string && (text[i] == '}' || text[i] == ']'))
			depth--;
	}
	if (in_string)
		return "string";
	return depth > 0 ? "bracket" : NULL;
}

/* The value of the four hex digits at text[i], or -1. */
static long hex4(const char *text, size_t len, size_t i)
{
	long v = 0;

	if (len < 4 || i > len - 4)
		return -1;
	for (size_t k = i; k < i + 4; k++) {
		char c = text[k];
		int d = c >= '0' && c <= '9' ? c - '0' :
			c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* Whether the \u escape at text[i] is valid: four hex digits, and a
 * high surrogate followed by the escape of a low one. */
static bool good_unicode(const char *text, size_t len, size_t i)
{
	long v = hex4(text, len, i + 2), low;

	if (v < 0 || (v >= 0xdc00 && v <= 0xdfff))
		return false;
	if (v < 0xd800 || v > 0xdbff)
		return true;
	if (i + 7 >= len || text[i + 6] != '\\' || text[i + 7] != 'u')
		return false;
	low = hex4(text, len, i + 8);
	return low >= 0xdc00 && low <= 0xdfff;
}

/* The fault of the escape at text[i], a backslash, or NULL. */
static const char *bad_escape(const char *text, size_t len, size_t i)
{
	static const char escapes[] = "\"\\/bfnrtu";

	if (i + 1 >= len || !text[i + 1] || !strchr(escapes, text[i + 1]))
		return "an invalid escape in a string: JSON has \\\", "
		       "\\\\, \\/, \\b, \\f, \\n, \\r, \\t and \\uXXXX";
	if (text[i + 1] == 'u' && !good_unicode(text, len, i))
		return "an invalid \\u escape in a string: four hex digits, "
		       "and a surrogate (\\uD800 to \\uDFFF) only as a pair "
		       "of a high and a low one";
	return NULL;
}

/* The fault inside the string that starts at text[at], or NULL. */
static const char *bad_string(const char *text, size_t len, size_t at)
{
	for (size_t i = at + 1; i < len && text[i] != '"'; i++) {
		const char *why;

		if ((unsigned char)text[i] < 0x20)
			return "a control character in a string: write it as "
			       "\\n, \\t or \\u00XX";
		if (text[i] != '\\')
			continue;
		why = bad_escape(text, len, i);
		if (why)
			return why;
		i++;
	}
	return NULL;
}

/* Maximum nesting that last_string_is_key() follows. A string nested
 * deeper counts as a value, so its error reads as a missing comma. */
#define KEY_SCAN_DEPTH 64

/* Whether the last string that starts before text[at] is an object key:
 * one that follows a '{', or a ',' inside an object. */
static bool last_string_is_key(const char *text, size_t at)
{
	bool in_object[KEY_SCAN_DEPTH];
	size_t depth = 0;
	bool in_string = false, key = false;
	char last = '\0';

	for (size_t i = 0; i < at; i++) {
		char c = text[i];

		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
			continue;
		}
		if (is_space(c))
			continue;
		if (c == '"') {
			key = depth > 0 && depth <= KEY_SCAN_DEPTH &&
			      in_object[depth - 1] &&
			      (last == '{' || last == ',');
			in_string = true;
		} else if (c == '{' || c == '[') {
			if (depth < KEY_SCAN_DEPTH)
				in_object[depth] = c == '{';
			depth++;
		} else if ((c == '}' || c == ']') && depth > 0) {
			depth--;
		}
		last = c;
	}
	return key;
}

/* Whether c ends a value, so that a value after it lacks a comma. */
static bool ends_value(char c)
{
	return c == '"' || c == '}' || c == ']' || (c >= '0' && c <= '9') ||
	       c == 'e' || c == 'l';
}

const char *policy_syntax_reason(const char *text, size_t len, size_t at)
{
	const char *open = left_open(text, len);
	const char *open_at = left_open(text, at < len ? at + 1 : len);
	char c = at < len ? text[at] : '\0';
	size_t prev_end = skip_space_back(text, at);
	char prev = prev_end > 0 ? text[prev_end - 1] : '\0';
	char prev2 = prev_end > 0 ? before(text, prev_end - 1) : '\0';

	if (strspn(text, " \t\r\n") >= len)
		return "the file is empty";
	/* A '"' after the byte where cJSON stopped, as in a comment, can
	 * leave a string open at the end without causing the error. */
	if (open && strcmp(open, "string") == 0 &&
	    open_at && strcmp(open_at, "string") == 0)
		return "a string is not closed: a '\"' is missing";
	if (c == '/' || (c == '*' && prev == '/'))
		return "a comment, which JSON does not allow";
	/* cJSON stops one byte past the byte that should start a key, so
	 * the '}' of a trailing comma in an object is before at. */
	if (((c == '}' || c == ']') && prev == ',') ||
	    ((prev == '}' || prev == ']') && prev2 == ','))
		return "a comma before the closing bracket";
	if (c == '\'' || prev == '\'')
		return "a single quote: JSON strings take double quotes";
	if (prev == '"' && c != ':' && last_string_is_key(text, at))
		return "a missing colon after a key";
	if ((c == '"' || c == '{' || c == '[') && ends_value(prev) &&
	    prev != '\0')
		return "a missing comma between two values";
	if (c == '"' && bad_string(text, len, at))
		return bad_string(text, len, at);
	if (c == '\\' && bad_escape(text, len, at))
		return bad_escape(text, len, at);
	if (open && at + 1 >= len)
		return "the text ends before the policy does: a '}' or ']' "
		       "is missing";
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return "a word without quotes: strings take double quotes, "
		       "and the only bare words are true, false and null";
	return NULL;
}
