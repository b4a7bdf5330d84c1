/*
 * normalize.c - built-in and user normalizers, matched with PCRE2.
 *
 * Each rule is one compiled pattern. A validator may reject a match that
 * the pattern alone cannot judge, such as the range of a Unix time or a
 * hex run without a digit. A scan walks the text once. It keeps the next
 * match of every rule, takes the earliest (the longest on a tie) and
 * moves past it, so spans come out ordered and never overlap.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "harness/canon.h"
#include "harness/error.h"
#include "harness/normalize.h"

/* Text that is not part of an identifier on either side of a match. */
#define NOT_AFTER_WORD "(?<![0-9A-Za-z])"
#define NOT_BEFORE_WORD "(?![0-9A-Za-z])"

#define MONTH_SHORT "(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
#define MONTH_LONG                                                        \
	"(?:January|February|March|April|May|June|July|August|September|" \
	"October|November|December)"
#define WEEKDAY_SHORT "(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
#define WEEKDAY_LONG \
	"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
#define ISO_DATE                                                 \
	"(?:19|20|21)\\d\\d([-/])(?:0[1-9]|1[0-2])\\1(?:0[1-9]|[12]\\d|3[01])"
#define CLOCK "(?:[01]\\d|2[0-3]):[0-5]\\d"
#define CLOCK_SECONDS CLOCK ":[0-5]\\d(?:[.,]\\d{1,9})?"
#define ZONE "(?:Z|[+-](?:[01]\\d|2[0-3]):?[0-5]\\d)"

static const char duration_pattern[] =
	NOT_AFTER_WORD "(?<!\\.)"
	"(?:\\d+(?:\\.\\d+)?\\s?(?:ns|us|\xc2\xb5s|ms)"
	"|\\d+\\.\\d+\\s?(?:s|secs?|seconds?|m|mins?|minutes?|h|hours?)"
	"|(?:\\d+h)?(?:\\d+m)?\\d+(?:\\.\\d+)?s"
	"|(?<=in |took |after |within )\\d+\\s?"
	"(?:secs?|seconds?|mins?|minutes?)"
	")" NOT_BEFORE_WORD;

static const char timestamp_pattern[] =
	NOT_AFTER_WORD
	"(?:" ISO_DATE "(?:[T ]" CLOCK "(?::[0-5]\\d(?:[.,]\\d{1,9})?)?"
	ZONE "?)?"
	"|(?:19|20|21)\\d\\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\\d|3[01])"
	"T\\d{6}Z?"
	"|" WEEKDAY_SHORT ", \\d{2} " MONTH_SHORT " \\d{4} " CLOCK_SECONDS
	" GMT"
	"|" WEEKDAY_SHORT " " MONTH_SHORT " [ \\d]\\d " CLOCK_SECONDS
	"(?: [A-Z]{3,4})? \\d{4}"
	"|(?:" WEEKDAY_LONG ",? )?" MONTH_LONG " \\d{1,2}(?:st|nd|rd|th)?, "
	"\\d{4}"
	"|(?:" WEEKDAY_LONG ",? )?\\d{1,2} " MONTH_LONG " \\d{4}"
	"|" MONTH_SHORT "\\.? \\d{1,2}, \\d{4}"
	/* ls -l ("Dec  5 20:24", or "Dec  5  2025" for a file older
	 * than six months) and syslog ("Dec  5 20:24:33"): the month makes
	 * a clock without seconds a time here. */
	"|" MONTH_SHORT " (?: ?[1-9]|[12]\\d|3[01]) (?:" CLOCK
	"(?::[0-5]\\d)?| ?\\d{4})"
	"|(?<![:.])" CLOCK_SECONDS "(?!:)"
	")" NOT_BEFORE_WORD;

static const char unix_time_pattern[] =
	NOT_AFTER_WORD "(?<!\\.)\\d{10}(?:\\d{3})?(?:\\.\\d{1,9})?"
	NOT_BEFORE_WORD "(?!\\.\\d)";

static const char uuid_pattern[] =
	NOT_AFTER_WORD "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
	"[0-9a-fA-F]{4}-[0-9a-fA-F]{12}" NOT_BEFORE_WORD;

/* Crockford base32 leaves out I, L, O and U; a ULID's first digit is at
 * most 7 because its 48-bit time fills 50 bits. */
static const char ulid_pattern[] =
	NOT_AFTER_WORD "[0-7][0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{25}"
	NOT_BEFORE_WORD;

static const char hex_pattern[] =
	NOT_AFTER_WORD "(?:0[xX][0-9a-fA-F]{8,}|[0-9a-fA-F]{16,})"
	NOT_BEFORE_WORD;

static const char tmp_path_pattern[] =
	"(?<![0-9A-Za-z_.~/-])"
	"(?:(?:/private)?(?:/tmp|/var/tmp|/dev/shm"
	"|/var/folders/[^/\\s\"']+/[^/\\s\"']+/[TC])"
	"/[^/\\s\"'<>|:;,()\\[\\]{}*?]+"
	"|[A-Za-z]:\\\\Users\\\\[^\\\\\\s\"]+\\\\AppData\\\\Local\\\\Temp"
	"\\\\[^\\\\\\s\"]+)";

static const char pid_pattern[] =
	"(?i)" NOT_AFTER_WORD "(?:pid|ppid|process id)\\s*[:=#]?\\s*\\K"
	"\\d{1,7}" NOT_BEFORE_WORD;

/* Unix times from 2001-09-09 (the first 10-digit second) to 2100-01-01,
 * in seconds. */
#define UNIX_TIME_MIN 1000000000.0
#define UNIX_TIME_MAX 4102444800.0

typedef int (*validator)(const char *text, size_t len);

struct rule {
	enum harness_volatile_kind kind;
	pcre2_code *code;
	validator validate;
	char *name;		/* the kind's name, or a user's pattern */
};

struct ignore_step {
	char *key;		/* NULL for an array element */
	size_t index;
	int any;		/* "*" or "[*]" */
};

struct ignore_rule {
	struct ignore_step *steps;
	size_t depth;
};

struct harness_normalizer {
	unsigned kinds;
	struct rule *rules;
	size_t n_rules;
	struct ignore_rule *ignores;
	size_t n_ignores;
};

static const char *const kind_names[HARNESS_VOLATILE_KINDS] = {
	[HARNESS_VOLATILE_DURATION] = "duration",
	[HARNESS_VOLATILE_TIMESTAMP] = "timestamp",
	[HARNESS_VOLATILE_UNIX_TIME] = "unix-time",
	[HARNESS_VOLATILE_UUID] = "uuid",
	[HARNESS_VOLATILE_ULID] = "ulid",
	[HARNESS_VOLATILE_HEX] = "hex",
	[HARNESS_VOLATILE_TMP_PATH] = "tmp-path",
	[HARNESS_VOLATILE_PID] = "pid",
	[HARNESS_VOLATILE_USER] = "user-rule",
};

static const char *const placeholders[HARNESS_VOLATILE_KINDS] = {
	[HARNESS_VOLATILE_DURATION] = "<duration>",
	[HARNESS_VOLATILE_TIMESTAMP] = "<timestamp>",
	[HARNESS_VOLATILE_UNIX_TIME] = "<unix-time>",
	[HARNESS_VOLATILE_UUID] = "<uuid>",
	[HARNESS_VOLATILE_ULID] = "<ulid>",
	[HARNESS_VOLATILE_HEX] = "<hex>",
	[HARNESS_VOLATILE_TMP_PATH] = "<tmp-path>",
	[HARNESS_VOLATILE_PID] = "<pid>",
	[HARNESS_VOLATILE_USER] = "<user-rule>",
};

const char *harness_volatile_name(enum harness_volatile_kind kind)
{
	if ((unsigned)kind >= HARNESS_VOLATILE_KINDS)
		return "unknown";
	return kind_names[kind];
}

const char *harness_volatile_placeholder(enum harness_volatile_kind kind)
{
	if ((unsigned)kind >= HARNESS_VOLATILE_KINDS)
		return "<volatile>";
	return placeholders[kind];
}

static int unix_time_in_range(double value)
{
	if (value >= UNIX_TIME_MIN && value < UNIX_TIME_MAX)
		return 1;
	return value >= UNIX_TIME_MIN * 1000 && value < UNIX_TIME_MAX * 1000;
}

static int validate_unix_time(const char *text, size_t len)
{
	char digits[32];
	size_t integer = 0;

	while (integer < len && text[integer] != '.')
		integer++;
	if (len >= sizeof(digits))
		return 0;
	memcpy(digits, text, len);
	digits[len] = '\0';

	/* A 10-digit number is seconds and a 13-digit one milliseconds;
	 * the range check keeps each to its own unit. */
	if (integer == 10)
		return strtod(digits, NULL) >= UNIX_TIME_MIN &&
		       strtod(digits, NULL) < UNIX_TIME_MAX;
	return strtod(digits, NULL) >= UNIX_TIME_MIN * 1000 &&
	       strtod(digits, NULL) < UNIX_TIME_MAX * 1000;
}

/* A run of hex letters alone ("deadbeefcafefeed") is more often a word
 * or a placeholder than an identifier, so a digit is required. */
static int validate_hex(const char *text, size_t len)
{
	if (len > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
		return 1;
	for (size_t i = 0; i < len; i++) {
		if (text[i] >= '0' && text[i] <= '9')
			return 1;
	}
	return 0;
}

static pcre2_code *compile(const char *pattern, const char *what)
{
	int code;
	PCRE2_SIZE offset;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern,
				       PCRE2_ZERO_TERMINATED, 0, &code,
				       &offset, NULL);

	if (!re) {
		PCRE2_UCHAR why[256];

		pcre2_get_error_message(code, why, sizeof(why));
		harness_set_error("invalid regular expression: '%s': %s at "
				  "offset %zu", what, (char *)why,
				  (size_t)offset);
		harness_set_hint("rules are PCRE2 patterns; escape '\\' and "
				 "'(' to match them literally");
		return NULL;
	}
	/* JIT may be missing on some machines; the interpreter then runs. */
	pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	return re;
}

static int add_rule(struct harness_normalizer *normalizer,
		    enum harness_volatile_kind kind, const char *pattern,
		    const char *what, validator validate)
{
	struct rule *rules;
	pcre2_code *code = compile(pattern, what);
	char *name = code ? strdup(what) : NULL;

	if (!code)
		return -1;
	rules = name ? realloc(normalizer->rules,
			       (normalizer->n_rules + 1) * sizeof(*rules))
		     : NULL;
	if (!rules) {
		pcre2_code_free(code);
		free(name);
		harness_set_error("cannot add rule: '%s': out of memory",
				  what);
		return -1;
	}
	rules[normalizer->n_rules++] = (struct rule){ kind, code, validate,
						      name };
	normalizer->rules = rules;
	return 0;
}

static const struct {
	enum harness_volatile_kind kind;
	const char *pattern;
	validator validate;
} builtins[] = {
	{ HARNESS_VOLATILE_DURATION, duration_pattern, NULL },
	{ HARNESS_VOLATILE_TIMESTAMP, timestamp_pattern, NULL },
	{ HARNESS_VOLATILE_UNIX_TIME, unix_time_pattern, validate_unix_time },
	{ HARNESS_VOLATILE_UUID, uuid_pattern, NULL },
	{ HARNESS_VOLATILE_ULID, ulid_pattern, NULL },
	{ HARNESS_VOLATILE_HEX, hex_pattern, validate_hex },
	{ HARNESS_VOLATILE_TMP_PATH, tmp_path_pattern, NULL },
	{ HARNESS_VOLATILE_PID, pid_pattern, NULL },
};

struct harness_normalizer *harness_normalizer_new(unsigned kinds)
{
	struct harness_normalizer *normalizer = calloc(1, sizeof(*normalizer));

	if (!normalizer) {
		harness_set_error("cannot create normalizer: 'built-in "
				  "rules': out of memory");
		return NULL;
	}
	normalizer->kinds = kinds & HARNESS_VOLATILE_BUILTINS;

	for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++) {
		if (!(normalizer->kinds & (1u << builtins[i].kind)))
			continue;
		if (add_rule(normalizer, builtins[i].kind, builtins[i].pattern,
			     harness_volatile_name(builtins[i].kind),
			     builtins[i].validate) < 0) {
			harness_normalizer_free(normalizer);
			return NULL;
		}
	}
	return normalizer;
}

void harness_normalizer_free(struct harness_normalizer *normalizer)
{
	if (!normalizer)
		return;
	for (size_t i = 0; i < normalizer->n_rules; i++) {
		pcre2_code_free(normalizer->rules[i].code);
		free(normalizer->rules[i].name);
	}
	for (size_t i = 0; i < normalizer->n_ignores; i++) {
		for (size_t j = 0; j < normalizer->ignores[i].depth; j++)
			free(normalizer->ignores[i].steps[j].key);
		free(normalizer->ignores[i].steps);
	}
	free(normalizer->rules);
	free(normalizer->ignores);
	free(normalizer);
}

int harness_normalizer_add_regex(struct harness_normalizer *normalizer,
				 const char *pattern)
{
	if (!*pattern) {
		harness_set_error("invalid regular expression: '': empty");
		harness_set_hint("give a pattern, as in 'regex:build-[0-9]+'");
		return -1;
	}
	return add_rule(normalizer, HARNESS_VOLATILE_USER, pattern, pattern,
			NULL);
}

static int invalid_path(const char *path, const char *why)
{
	harness_set_error("invalid JSON path: '%s': %s", path, why);
	harness_set_hint("write paths as 'metadata.user_id', "
			 "'input[*].id' or 'a[\"x-y\"]'");
	return -1;
}

static int is_key_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int is_key_char(char c)
{
	return is_key_start(c) || (c >= '0' && c <= '9');
}

/* Parse one "[...]" step at *p. */
static int parse_bracket(const char *path, const char **p,
			 struct ignore_step *step)
{
	const char *s = *p + 1;

	if (s[0] == '*' && s[1] == ']') {
		step->any = 1;
		*p = s + 2;
		return 0;
	}
	if (*s >= '0' && *s <= '9') {
		char *end;

		step->index = strtoul(s, &end, 10);
		if (*end != ']')
			return invalid_path(path, "index not closed by ']'");
		*p = end + 1;
		return 0;
	}
	if (*s == '"') {
		const char *q = s + 1;
		cJSON *literal;

		while (*q && *q != '"')
			q += (*q == '\\' && q[1]) ? 2 : 1;
		if (*q != '"' || q[1] != ']')
			return invalid_path(path, "key not closed by '\"]'");
		literal = harness_json_parse(s, (size_t)(q + 1 - s));
		if (!cJSON_IsString(literal)) {
			cJSON_Delete(literal);
			return invalid_path(path, "invalid quoted key");
		}
		step->key = strdup(literal->valuestring);
		cJSON_Delete(literal);
		*p = q + 2;
		return step->key ? 0 : invalid_path(path, "out of memory");
	}
	return invalid_path(path, "expected '*', a number or a quoted key "
			    "after '['");
}

/* Parse one bare member name or "*" at *p. */
static int parse_member(const char *path, const char **p,
			struct ignore_step *step)
{
	const char *s = *p, *end = s;

	if (*s == '*') {
		step->any = 1;
		step->key = strdup("*");
		*p = s + 1;
		return step->key ? 0 : invalid_path(path, "out of memory");
	}
	if (!is_key_start(*s))
		return invalid_path(path, "expected a member name");
	while (is_key_char(*end))
		end++;
	step->key = strndup(s, (size_t)(end - s));
	*p = end;
	return step->key ? 0 : invalid_path(path, "out of memory");
}

static int parse_path(const char *path, struct ignore_rule *rule)
{
	const char *p = path;
	size_t capacity = 0;

	while (*p) {
		struct ignore_step step = { NULL, 0, 0 };
		int rc;

		if (rule->depth == HARNESS_JSON_MAX_DEPTH)
			return invalid_path(path, "too many steps");
		if (*p == '[') {
			rc = parse_bracket(path, &p, &step);
		} else {
			if (rule->depth > 0 && *p++ != '.')
				return invalid_path(path, "expected '.' or "
						    "'[' between steps");
			rc = parse_member(path, &p, &step);
		}
		if (rc < 0)
			return -1;

		if (rule->depth == capacity) {
			void *steps;

			capacity = capacity ? capacity * 2 : 8;
			steps = realloc(rule->steps,
					capacity * sizeof(*rule->steps));
			if (!steps) {
				free(step.key);
				return invalid_path(path, "out of memory");
			}
			rule->steps = steps;
		}
		rule->steps[rule->depth++] = step;
	}
	if (rule->depth == 0)
		return invalid_path(path, "empty");
	return 0;
}

int harness_normalizer_add_ignore(struct harness_normalizer *normalizer,
				  const char *path)
{
	struct ignore_rule rule = { NULL, 0 };
	struct ignore_rule *ignores;

	if (parse_path(path, &rule) < 0)
		goto fail;

	ignores = realloc(normalizer->ignores,
			  (normalizer->n_ignores + 1) * sizeof(*ignores));
	if (!ignores) {
		invalid_path(path, "out of memory");
		goto fail;
	}
	ignores[normalizer->n_ignores++] = rule;
	normalizer->ignores = ignores;
	return 0;

fail:
	for (size_t i = 0; i < rule.depth; i++)
		free(rule.steps[i].key);
	free(rule.steps);
	return -1;
}

int harness_normalizer_add_rule(struct harness_normalizer *normalizer,
				const char *rule)
{
	if (strncmp(rule, "regex:", 6) == 0)
		return harness_normalizer_add_regex(normalizer, rule + 6);
	if (strncmp(rule, "path:", 5) == 0)
		return harness_normalizer_add_ignore(normalizer, rule + 5);

	harness_set_error("invalid normalizer rule: '%s': unknown kind",
			  rule);
	harness_set_hint("start the rule with 'regex:' or 'path:'");
	return -1;
}

static int step_matches(const struct ignore_step *rule,
			const struct harness_path_step *step)
{
	if (rule->key == NULL && !rule->any)
		return step->key == NULL && step->index == rule->index;
	if (rule->key == NULL)
		return step->key == NULL;
	if (rule->any)
		return step->key != NULL;
	return step->key != NULL && strcmp(rule->key, step->key) == 0;
}

bool harness_normalizer_ignores(const struct harness_normalizer *normalizer,
				const struct harness_path_step *steps,
				size_t depth)
{
	if (!normalizer)
		return false;
	for (size_t i = 0; i < normalizer->n_ignores; i++) {
		const struct ignore_rule *rule = &normalizer->ignores[i];
		size_t j = 0;

		if (rule->depth > depth)
			continue;
		while (j < rule->depth && step_matches(&rule->steps[j],
						       &steps[j]))
			j++;
		if (j == rule->depth)
			return true;
	}
	return false;
}

bool harness_normalizer_has_kind(const struct harness_normalizer *normalizer,
				 enum harness_volatile_kind kind)
{
	return normalizer && (unsigned)kind < HARNESS_VOLATILE_USER &&
	       (normalizer->kinds & (1u << kind));
}

bool harness_normalize_is_unix_time(
	const struct harness_normalizer *normalizer, double value)
{
	if (!normalizer ||
	    !(normalizer->kinds & (1u << HARNESS_VOLATILE_UNIX_TIME)))
		return false;
	return unix_time_in_range(value);
}

/* The next valid match of rule at or after from: 1 with the span, 0 for
 * none, -1 for an error. */
static int find_next(const struct rule *rule, pcre2_match_data *data,
		     const char *text, size_t len, size_t from,
		     size_t *start, size_t *end)
{
	while (from <= len) {
		PCRE2_SIZE *ov;
		int rc = pcre2_match(rule->code, (PCRE2_SPTR)text, len, from,
				     0, data, NULL);

		if (rc == PCRE2_ERROR_NOMATCH)
			return 0;
		if (rc < 0) {
			PCRE2_UCHAR why[256];

			pcre2_get_error_message(rc, why, sizeof(why));
			harness_set_error("cannot run normalizer: '%s': %s",
					  rule->name, (char *)why);
			harness_set_hint("a pattern with nested repeats such "
					 "as '(a+)+' backtracks without end; "
					 "rewrite it without them");
			return -1;
		}
		ov = pcre2_get_ovector_pointer(data);
		if (ov[1] > ov[0] &&
		    (!rule->validate ||
		     rule->validate(text + ov[0], ov[1] - ov[0]))) {
			*start = ov[0];
			*end = ov[1];
			return 1;
		}
		from = (ov[0] > from ? ov[0] : from) + 1;
	}
	return 0;
}

struct pending {
	size_t start;
	size_t end;
	int found;
};

static pthread_key_t match_data_key;
static pthread_once_t match_data_once = PTHREAD_ONCE_INIT;

static void free_match_data(void *data)
{
	pcre2_match_data_free(data);
}

static void make_match_data_key(void)
{
	pthread_key_create(&match_data_key, free_match_data);
}

/* The match data of this thread, made at its first scan and freed when
 * it exits: a scan runs for every string of every request, and making
 * the match data each time would cost more than many of the matches. */
static pcre2_match_data *thread_match_data(void)
{
	pcre2_match_data *data;

	pthread_once(&match_data_once, make_match_data_key);
	data = pthread_getspecific(match_data_key);
	if (data)
		return data;
	data = pcre2_match_data_create(2, NULL);
	if (data && pthread_setspecific(match_data_key, data) != 0) {
		pcre2_match_data_free(data);
		return NULL;
	}
	return data;
}

long harness_normalize_scan(const struct harness_normalizer *normalizer,
			    const char *text, size_t len,
			    struct harness_span *spans, size_t max)
{
	struct pending stack_pending[16];
	struct pending *pending = stack_pending;
	pcre2_match_data *data;
	size_t pos = 0;
	long count = 0;

	if (!normalizer || normalizer->n_rules == 0)
		return 0;
	if (normalizer->n_rules > 16) {
		pending = calloc(normalizer->n_rules, sizeof(*pending));
		if (!pending) {
			harness_set_error("cannot run normalizer: '%zu "
					  "rules': out of memory",
					  normalizer->n_rules);
			return -1;
		}
	}
	data = thread_match_data();
	if (!data) {
		count = -1;
		harness_set_error("cannot run normalizer: 'match data': out "
				  "of memory");
		goto out;
	}

	for (size_t r = 0; r < normalizer->n_rules; r++)
		pending[r] = (struct pending){ 0, 0, -1 };

	for (;;) {
		long best = -1;

		for (size_t r = 0; r < normalizer->n_rules; r++) {
			struct pending *p = &pending[r];

			/* -1: not searched yet; a match that starts
			 * inside the span just taken is stale. */
			if (p->found == -1 || (p->found == 1 && p->start < pos))
				p->found = find_next(&normalizer->rules[r],
						     data, text, len, pos,
						     &p->start, &p->end);
			if (p->found < 0) {
				count = -1;
				goto out;
			}
			if (p->found != 1)
				continue;
			if (best < 0 || p->start < pending[best].start ||
			    (p->start == pending[best].start &&
			     p->end > pending[best].end))
				best = (long)r;
		}
		if (best < 0)
			break;

		if ((size_t)count < max)
			spans[count] = (struct harness_span){
				pending[best].start,
				pending[best].end - pending[best].start,
				normalizer->rules[best].kind
			};
		count++;
		pos = pending[best].end;
	}

out:
	if (pending != stack_pending)
		free(pending);
	return count;
}

char *harness_normalize_string(const struct harness_normalizer *normalizer,
			       const char *text, size_t len, size_t *out_len,
			       size_t *n_spans)
{
	struct harness_span stack_spans[32];
	struct harness_span *spans = stack_spans;
	long n = harness_normalize_scan(normalizer, text, len, spans, 32);
	size_t size = len, pos = 0, at = 0;
	char *out = NULL;

	if (n < 0)
		return NULL;
	if (n > 32) {
		spans = malloc((size_t)n * sizeof(*spans));
		if (!spans)
			goto oom;
		harness_normalize_scan(normalizer, text, len, spans, (size_t)n);
	}

	for (long i = 0; i < n; i++)
		size += strlen(harness_volatile_placeholder(spans[i].kind));
	out = malloc(size + 1);
	if (!out)
		goto oom;

	for (long i = 0; i < n; i++) {
		const char *mark = harness_volatile_placeholder(spans[i].kind);
		size_t mark_len = strlen(mark);

		memcpy(out + at, text + pos, spans[i].start - pos);
		at += spans[i].start - pos;
		memcpy(out + at, mark, mark_len);
		at += mark_len;
		pos = spans[i].start + spans[i].len;
	}
	memcpy(out + at, text + pos, len - pos);
	at += len - pos;
	out[at] = '\0';

	if (out_len)
		*out_len = at;
	if (n_spans)
		*n_spans = (size_t)n;
	if (spans != stack_spans)
		free(spans);
	return out;

oom:
	if (spans != stack_spans)
		free(spans);
	harness_set_error("cannot normalize string: '%zu bytes': out of "
			  "memory", len);
	return NULL;
}

/* Replace a malloc'd string in place when it has volatile spans; returns
 * the number of spans, or -1. */
static long normalize_owned(const struct harness_normalizer *normalizer,
			    char **string)
{
	size_t n = 0;
	char *copy = harness_normalize_string(normalizer, *string,
					      strlen(*string), NULL, &n);

	if (!copy)
		return -1;
	if (n == 0) {
		free(copy);
		return 0;
	}
	free(*string);
	*string = copy;
	return (long)n;
}

static int is_pid_key(const char *key)
{
	return key && (strcmp(key, "pid") == 0 || strcmp(key, "ppid") == 0);
}

static long normalize_scalar(const struct harness_normalizer *normalizer,
			     cJSON *item)
{
	const char *mark = NULL;

	if (cJSON_IsString(item) && item->valuestring)
		return normalize_owned(normalizer, &item->valuestring);
	if (!cJSON_IsNumber(item))
		return 0;

	if (harness_normalize_is_unix_time(normalizer, item->valuedouble))
		mark = placeholders[HARNESS_VOLATILE_UNIX_TIME];
	else if (is_pid_key(item->string) &&
		 (normalizer->kinds & (1u << HARNESS_VOLATILE_PID)))
		mark = placeholders[HARNESS_VOLATILE_PID];
	if (!mark)
		return 0;

	item->valuestring = strdup(mark);
	if (!item->valuestring)
		return -1;
	item->type = cJSON_String;
	return 1;
}

static long normalize_at(const struct harness_normalizer *normalizer,
			 cJSON *item, struct harness_path_step *steps,
			 size_t depth)
{
	long changes = 0;
	size_t index = 0;
	cJSON *child = item->child;

	if (depth >= HARNESS_JSON_MAX_DEPTH) {
		harness_set_error("cannot normalize JSON: 'depth over %d': "
				  "nested too deeply", HARNESS_JSON_MAX_DEPTH);
		return -1;
	}
	if (!child)
		return normalize_scalar(normalizer, item);

	while (child) {
		cJSON *next = child->next;
		long n;

		steps[depth].key = cJSON_IsObject(item) ? child->string : NULL;
		steps[depth].index = index++;
		if (harness_normalizer_ignores(normalizer, steps, depth + 1)) {
			if (cJSON_IsObject(item)) {
				cJSON_Delete(cJSON_DetachItemViaPointer(
					item, child));
			} else {
				cJSON *null = cJSON_CreateNull();

				if (!null || !cJSON_ReplaceItemViaPointer(
						     item, child, null))
					return -1;
			}
			changes++;
			child = next;
			continue;
		}

		n = normalize_at(normalizer, child, steps, depth + 1);
		if (n < 0)
			return -1;
		changes += n;
		if (cJSON_IsObject(item) && child->string &&
		    !(child->type & cJSON_StringIsConst)) {
			n = normalize_owned(normalizer, &child->string);
			if (n < 0)
				return -1;
			changes += n;
		}
		child = next;
	}
	return changes;
}

long harness_normalize_json(const struct harness_normalizer *normalizer,
			    cJSON *tree)
{
	struct harness_path_step steps[HARNESS_JSON_MAX_DEPTH];
	long changes;

	if (!normalizer || !tree)
		return 0;
	changes = normalize_at(normalizer, tree, steps, 0);
	if (changes < 0 && !*harness_error())
		harness_set_error("cannot normalize JSON: 'tree': out of "
				  "memory");
	return changes;
}

int harness_rule_check(const char *rule)
{
	struct harness_normalizer *n = harness_normalizer_new(0);
	int rc;

	if (!n) {
		harness_set_error("cannot check the rule: '%s': out of memory",
				  rule);
		return -1;
	}
	rc = harness_normalizer_add_rule(n, rule);
	harness_normalizer_free(n);
	return rc;
}
