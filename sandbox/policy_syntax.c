/*
 * policy_syntax.c - explain why a policy file is not JSON.
 *
 * cJSON reports a syntax error only by the byte where it stopped, and
 * that byte may be the start of the string or the token that holds the
 * error. The mistakes of hand-written JSON are few, so the text around
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

/* The last byte before at that is not whitespace, or '\0'. */
static char before(const char *text, size_t at)
{
	while (at > 0 && is_space(text[at - 1]))
		at--;
	return at > 0 ? text[at - 1] : '\0';
}

/* Whether a string or a bracket is still open at the end of the text:
 * "string", "bracket" or NULL. */
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

/* Whether c ends a value, so that a value after it lacks a comma. */
static bool ends_value(char c)
{
	return c == '"' || c == '}' || c == ']' || (c >= '0' && c <= '9') ||
	       c == 'e' || c == 'l';
}

const char *policy_syntax_reason(const char *text, size_t len, size_t at)
{
	const char *open = left_open(text, len);
	char c = at < len ? text[at] : '\0';
	char prev = before(text, at);

	if (strspn(text, " \t\r\n") >= len)
		return "the file is empty";
	if (open && strcmp(open, "string") == 0)
		return "a string is not closed: a '\"' is missing";
	if (c == '/' || (c == '*' && prev == '/'))
		return "a comment, which JSON does not allow";
	if ((c == '}' || c == ']') && prev == ',')
		return "a comma before the closing bracket";
	if (c == '\'' || prev == '\'')
		return "a single quote: JSON strings take double quotes";
	if (c == '"' && ends_value(prev) && prev != '\0')
		return "a missing comma between two values";
	if (c == '"' && bad_string(text, len, at))
		return bad_string(text, len, at);
	if (c == '\\' && bad_escape(text, len, at))
		return bad_escape(text, len, at);
	if (open)
		return "the text ends before the policy does: a '}' or ']' "
		       "is missing";
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return "a word without quotes: strings take double quotes, "
		       "and the only bare words are true, false and null";
	return NULL;
}
