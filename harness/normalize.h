/*
 * normalize.h - normalizers: rules that mark parts of a request volatile,
 * so that a replayed request that differs from its recording only there
 * still matches.
 *
 * A normalizer finds volatile spans inside strings and replaces each with
 * a placeholder naming its kind ("<uuid>"), so two strings are equal up
 * to volatile values exactly when their normalized copies are equal. The
 * built-in kinds are listed in enum harness_volatile_kind and documented
 * with their patterns in docs/matching.md. User rules add PCRE2 regular
 * expressions (their whole match is volatile) and JSON paths whose values
 * are ignored altogether.
 *
 * Invariants: spans never overlap; where two rules match overlapping
 * text, the one starting first wins, and of those the longest. A
 * normalizer is read-only once built, so threads may share it.
 *
 * Functions that fail return NULL or -1 and store the message in
 * harness_error().
 */
#ifndef HARNESS_NORMALIZE_H
#define HARNESS_NORMALIZE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

enum harness_volatile_kind {
	HARNESS_VOLATILE_DURATION,	/* "in 0.03s", "125ms", "1m30s" */
	HARNESS_VOLATILE_TIMESTAMP,	/* ISO 8601, HTTP dates, clock
					 * times, "June 2, 2025" */
	HARNESS_VOLATILE_UNIX_TIME,	/* seconds or milliseconds since
					 * 1970, from 2001-09-09 to 2100 */
	HARNESS_VOLATILE_UUID,		/* 8-4-4-4-12 hex, any version */
	HARNESS_VOLATILE_ULID,		/* 26 Crockford base32 digits */
	HARNESS_VOLATILE_HEX,		/* 16 or more hex digits, or 0x and
					 * 8 or more */
	HARNESS_VOLATILE_TMP_PATH,	/* the first component under /tmp,
					 * /var/tmp, /var/folders, /dev/shm */
	HARNESS_VOLATILE_PID,		/* the number in "pid 1234" */
	HARNESS_VOLATILE_USER,		/* a user's regular expression */
	HARNESS_VOLATILE_KINDS
};

/* All built-in kinds, for harness_normalizer_new(). */
#define HARNESS_VOLATILE_BUILTINS ((1u << HARNESS_VOLATILE_USER) - 1)

/* One volatile span of a string, in bytes. */
struct harness_span {
	size_t start;
	size_t len;
	enum harness_volatile_kind kind;
};

/* One step of a JSON path: an object member, or an array element when
 * key is NULL. */
struct harness_path_step {
	const char *key;
	size_t index;
};

struct harness_normalizer;

/* A normalizer with the built-in kinds whose bits are set in kinds (bit
 * 1u << kind; HARNESS_VOLATILE_BUILTINS for all). Free it with
 * harness_normalizer_free(). */
struct harness_normalizer *harness_normalizer_new(unsigned kinds);

void harness_normalizer_free(struct harness_normalizer *normalizer);

/* Add a PCRE2 regular expression whose every match is volatile. */
int harness_normalizer_add_regex(struct harness_normalizer *normalizer,
				 const char *pattern);

/* Add a JSON path whose value is ignored, written as harness_jsondiff
 * writes paths ("metadata.user_id", "input[3].id", "a[\"x-y\"]"), where
 * "*" stands for any member and "[*]" for any element: "input[*].id". */
int harness_normalizer_add_ignore(struct harness_normalizer *normalizer,
				  const char *path);

/* Add one rule as the command line and the policy write it:
 * "regex:PATTERN" or "path:JSONPATH". */
int harness_normalizer_add_rule(struct harness_normalizer *normalizer,
				const char *rule);

/* Check that a user rule compiles, as harness_normalizer_add_rule()
 * would take it. Returns 0, or -1 with a message from harness_error(). */
int harness_rule_check(const char *rule);

/* Find the volatile spans of len bytes of text, in order. Stores up to
 * max spans and returns how many there are in all (which may exceed max),
 * or -1 when a regular expression fails to run. */
long harness_normalize_scan(const struct harness_normalizer *normalizer,
			    const char *text, size_t len,
			    struct harness_span *spans, size_t max);

/* A copy of len bytes of text with each volatile span replaced by its
 * placeholder, NUL-terminated, *out_len bytes long. *n_spans, when not
 * NULL, gets the number of spans replaced. The caller frees the copy
 * with free(). */
char *harness_normalize_string(const struct harness_normalizer *normalizer,
			       const char *text, size_t len, size_t *out_len,
			       size_t *n_spans);

/* The placeholder for a kind: "<uuid>" and so on. */
const char *harness_volatile_placeholder(enum harness_volatile_kind kind);

/* The stable name of a kind: "uuid" and so on. */
const char *harness_volatile_name(enum harness_volatile_kind kind);

/* Whether a JSON number is a Unix time in seconds or milliseconds between
 * 2001-09-09 and 2100-01-01, and the normalizer has that kind on. */
bool harness_normalize_is_unix_time(
	const struct harness_normalizer *normalizer, double value);

/* Whether the normalizer has a built-in kind turned on. */
bool harness_normalizer_has_kind(const struct harness_normalizer *normalizer,
				 enum harness_volatile_kind kind);

/* Whether the value at the path of depth steps is ignored by a rule. */
bool harness_normalizer_ignores(const struct harness_normalizer *normalizer,
				const struct harness_path_step *steps,
				size_t depth);

/* Normalize a tree in place: remove ignored members and elements (an
 * ignored element becomes null, so later indexes stay put), replace
 * volatile spans in strings and in member names, and replace numbers that
 * are Unix times by the "<unix-time>" string. Returns the number of
 * changes, or -1. */
long harness_normalize_json(const struct harness_normalizer *normalizer,
			    cJSON *tree);

#endif
