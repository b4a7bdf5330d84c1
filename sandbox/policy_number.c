/*
 * policy_number.c - find a JSON number's text as the policy file
 * writes it.
 *
 * cJSON keeps a number only as a double, which turns
 * 18446744073709551617 into 1.8446744073709552e+19. A message that
 * quotes the value should show what the user wrote, so this finds the
 * number in the text again. cJSON keeps every value in the order of the
 * text, duplicate keys included, so the number's position among the
 * numbers of the tree is its position among the number tokens.
 */
#include <stdbool.h>
#include <string.h>

#include "sandbox/internal.h"

/* Count the numbers that come before target in document order into
 * *seen. Returns true once target is found below node. */
static bool count_before(const cJSON *node, const cJSON *target,
			 size_t *seen)
{
	for (const cJSON *c = node->child; c; c = c->next) {
		if (c == target)
			return true;
		if (cJSON_IsNumber(c))
			(*seen)++;
		if ((cJSON_IsArray(c) || cJSON_IsObject(c)) &&
		    count_before(c, target, seen))
			return true;
	}
	return false;
}

/* Skip the string that starts at text[i], a '"'. Returns the index
 * after its closing quote. */
static size_t skip_string(const char *text, size_t len, size_t i)
{
	for (i++; i < len && text[i] != '"'; i++) {
		if (text[i] == '\\')
			i++;
	}
	return i + 1;
}

static bool starts_number(char c)
{
	return (c >= '0' && c <= '9') || c == '-';
}

static bool in_number(char c)
{
	return starts_number(c) || c == '+' || c == '.' || c == 'e' ||
	       c == 'E';
}

char *policy_number_text(const char *text, size_t len, const cJSON *root,
			 const cJSON *number)
{
	size_t index = 0, i = 0;

	if (!cJSON_IsNumber(number) || !count_before(root, number, &index))
		return NULL;
	/* Outside strings, only a number starts with a digit or a '-':
	 * the literals true, false and null have neither. */
	while (i < len) {
		size_t start = i;

		if (text[i] == '"') {
			i = skip_string(text, len, i);
			continue;
		}
		if (!starts_number(text[i])) {
			i++;
			continue;
		}
		while (i < len && in_number(text[i]))
			i++;
		if (index-- == 0)
			return strndup(text + start, i - start);
	}
	return NULL;
}
