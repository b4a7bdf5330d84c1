/*
 * gate_rules.c - parse and check the rules file of "runbundle gate".
 */
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness/input_file.h"
#include "inspect/error.h"
#include "inspect/gate.h"

/* A rules file is a few lines of JSON; anything larger is a mistake. */
#define GATE_RULES_MAX (1024 * 1024)

static const char *const default_protected[] = {
	"package-lock.json", "npm-shrinkwrap.json", "yarn.lock",
	"pnpm-lock.yaml", "bun.lockb", "Cargo.lock", "Gemfile.lock",
	"poetry.lock", "Pipfile.lock", "uv.lock", "composer.lock", "go.sum",
	"flake.lock", "/.github/*", "/.gitlab-ci.yml", "/.runbundle/*",
	/* git runs programs that these name, outside any sandbox, in the
	 * workspace's repository and in any nested one. commondir names
	 * another directory whose config and hooks git uses, and
	 * config.worktree adds to config when extensions.worktreeConfig
	 * is set. */
	"**/.git/config", "**/.git/hooks", "**/.git/commondir",
	"**/.git/config.worktree", ".git",
};

/* The sandbox policy's default exec denylist (docs/policy.md). */
static const char *const default_denied[] = {
	"sudo", "su", "doas", "pkexec", "mount", "umount", "nsenter",
	"unshare", "chroot", "setpriv", "capsh",
};

static const char *const default_allowed[] = { "*" };

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void list_release(struct inspect_gate_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		free(list->items[i]);
	free(list->items);
	list->items = NULL;
	list->count = 0;
}

static int list_set(struct inspect_gate_list *list, const char *const *items,
		    size_t count)
{
	list_release(list);
	list->items = calloc(count + 1, sizeof(*list->items));
	if (!list->items)
		goto oom;
	for (size_t i = 0; i < count; i++) {
		list->items[i] = strdup(items[i]);
		if (!list->items[i])
			goto oom;
		list->count++;
	}
	return 0;
oom:
	inspect_set_error("cannot load the gate rules: out of memory");
	return -1;
}

void inspect_gate_rules_release(struct inspect_gate_rules *rules)
{
	list_release(&rules->protected_paths);
	list_release(&rules->allowed_paths);
	list_release(&rules->denied_commands);
}

int inspect_gate_rules_default(struct inspect_gate_rules *rules)
{
	memset(rules, 0, sizeof(*rules));
	rules->max_files_changed = 100;
	rules->allow_network = 0;
	rules->require_complete = 1;
	rules->require_identical = 1;
	if (list_set(&rules->protected_paths, default_protected,
		     N(default_protected)) < 0 ||
	    list_set(&rules->allowed_paths, default_allowed,
		     N(default_allowed)) < 0 ||
	    list_set(&rules->denied_commands, default_denied,
		     N(default_denied)) < 0) {
		inspect_gate_rules_release(rules);
		return -1;
	}
	return 0;
}

static int bad(const char *name, const char *key, const cJSON *value,
	       const char *why)
{
	char *text = value ? cJSON_PrintUnformatted(value) : NULL;

	if (text && strlen(text) > 60)
		strcpy(text + 56, "...");
	if (text)
		inspect_set_error("invalid rules: '%s': %s: %s: %s", name, key,
				  text, why);
	else
		inspect_set_error("invalid rules: '%s': %s: %s", name, key,
				  why);
	inspect_set_hint("docs/gate.md lists the keys and their values");
	free(text);
	return -1;
}

static int parse_bool(const char *name, const cJSON *item, int *out)
{
	if (!cJSON_IsBool(item))
		return bad(name, item->string, item, "expected true or false");
	*out = cJSON_IsTrue(item);
	return 0;
}

static int parse_max(const char *name, const cJSON *item, int64_t *out)
{
	double v = item->valuedouble;

	if (cJSON_IsNull(item)) {
		*out = -1;
		return 0;
	}
	if (!cJSON_IsNumber(item) || v < 0 || v > 1e15 || floor(v) != v)
		return bad(name, item->string, item,
			   "expected a whole number from 0 to 10^15, or "
			   "null");
	*out = (int64_t)v;
	return 0;
}

/* Write into out the pattern without its '.' and empty components,
 * anchored at the workspace root: what a pattern such as "./out.txt" or
 * "docs/" means, for the hint. */
static void suggest_pattern(char *out, size_t len, const char *pattern)
{
	size_t at = 0;

	for (const char *p = pattern; *p && at + 1 < len;) {
		size_t n = strcspn(p, "/");

		if (n && !(n == 1 && *p == '.'))
			at += (size_t)snprintf(out + at, len - at, "/%.*s",
					       (int)n, p);
		p += n + (p[n] == '/');
	}
	if (at == 0)
		snprintf(out, len, "*");
}

static const char parent_fault[] = "a '..' component never matches";

/* Return the reason why the path component of n bytes at p, the last
 * one when last is nonzero, never matches, or NULL when it can. */
static const char *component_fault(const char *p, size_t n, int last)
{
	if (n == 2 && strncmp(p, "..", 2) == 0)
		return parent_fault;
	if (n == 1 && *p == '.')
		return "a '.' component never matches";
	if (n == 0 && last)
		return "a trailing '/' never matches";
	if (n == 0)
		return "an empty component ('//') never matches";
	return NULL;
}

/*
 * Reject a path pattern that can never match, which would pass a run
 * that the rules mean to fail. Paths in a snapshot are relative to the
 * workspace root, without a '.', '..' or empty component, so a pattern
 * that has one, or a trailing '/', matches nothing. A leading '/' only
 * anchors the pattern.
 */
static int check_components(const char *name, const char *key,
			    const cJSON *item)
{
	const char *s = item->valuestring;
	const char *p = s[0] == '/' ? s + 1 : s;
	const char *fault = NULL;
	char fix[4200];

	if (!strchr(s, '/'))
		return 0;
	while (!fault) {
		size_t n = strcspn(p, "/");

		fault = component_fault(p, n, !p[n]);
		if (!p[n])
			break;
		p += n + 1;
	}
	if (!fault)
		return 0;
	bad(name, key, item, fault);
	suggest_pattern(fix, sizeof(fix), s);
	if (fault == parent_fault)
		inspect_set_hint("remove it: the rules see only paths inside "
				 "the workspace");
	else if (strcmp(fix, "*") == 0)
		inspect_set_hint("write '*' to match every path");
	else
		inspect_set_hint("paths start at the workspace root: write "
				 "'%s' to match that path and everything "
				 "below it", fix);
	return -1;
}

static int check_pattern(const char *name, const char *key, size_t i,
			 const cJSON *item, int paths)
{
	char path[96];
	const char *s = item->valuestring;

	snprintf(path, sizeof(path), "%s[%zu]", key, i);
	if (!cJSON_IsString(item))
		return bad(name, path, item, "expected a string");
	if (!*s || strlen(s) > 4096)
		return bad(name, path, item,
			   "expected 1 to 4096 characters");
	for (; *s; s++) {
		if ((unsigned char)*s < 0x20)
			return bad(name, path, NULL,
				   "a control character in a pattern");
	}
	return paths ? check_components(name, path, item) : 0;
}

/* Parse a list of patterns. When paths is nonzero, check them as path
 * patterns too (check_components()). */
static int parse_list(const char *name, const cJSON *item,
		      struct inspect_gate_list *list, int paths)
{
	const char **items;
	size_t n = 0, count;
	const cJSON *el;
	int rc;

	if (!cJSON_IsArray(item))
		return bad(name, item->string, item,
			   "expected a list of strings");
	count = (size_t)cJSON_GetArraySize(item);
	items = calloc(count + 1, sizeof(*items));
	if (!items) {
		inspect_set_error("cannot load the gate rules: out of memory");
		return -1;
	}
	cJSON_ArrayForEach(el, item) {
		if (check_pattern(name, item->string, n, el, paths) < 0) {
			free(items);
			return -1;
		}
		items[n++] = el->valuestring;
	}
	rc = list_set(list, items, n);
	free(items);
	return rc;
}

static int parse_version(const char *name, const cJSON *item)
{
	if (!cJSON_IsNumber(item) || item->valuedouble != 1)
		return bad(name, "version", item, "expected 1");
	return 0;
}

static int parse_key(struct inspect_gate_rules *rules, const char *name,
		     const cJSON *item)
{
	const char *key = item->string;

	if (strcmp(key, "version") == 0)
		return parse_version(name, item);
	if (strcmp(key, "max_files_changed") == 0)
		return parse_max(name, item, &rules->max_files_changed);
	if (strcmp(key, "protected_paths") == 0)
		return parse_list(name, item, &rules->protected_paths, 1);
	if (strcmp(key, "allowed_paths") == 0)
		return parse_list(name, item, &rules->allowed_paths, 1);
	if (strcmp(key, "denied_commands") == 0)
		return parse_list(name, item, &rules->denied_commands, 0);
	if (strcmp(key, "allow_network") == 0)
		return parse_bool(name, item, &rules->allow_network);
	if (strcmp(key, "require_complete") == 0)
		return parse_bool(name, item, &rules->require_complete);
	if (strcmp(key, "require_identical") == 0)
		return parse_bool(name, item, &rules->require_identical);
	if (strcmp(key, "allow_timeout") == 0)
		return parse_bool(name, item, &rules->allow_timeout);
	if (strcmp(key, "allow_failure") == 0)
		return parse_bool(name, item, &rules->allow_failure);
	return bad(name, key, NULL, "unknown key");
}

/* Reject a key that the object has before item too: JSON leaves the
 * meaning of a repeated key open, and taking the last one would let a
 * second "protected_paths": [] hide the first. */
static int check_repeated(const char *name, const cJSON *root,
			  const cJSON *item)
{
	for (const cJSON *p = root->child; p != item; p = p->next) {
		if (strcmp(p->string, item->string) == 0) {
			bad(name, item->string, NULL, "the key is repeated");
			inspect_set_hint("keep one '%s' in the file",
					 item->string);
			return -1;
		}
	}
	return 0;
}

/* Reject anything but JSON whitespace after the object, because a file
 * with more text in it is not the file its author checked. */
static int check_trailing(const char *name, const char *text,
			  const char *end, size_t len)
{
	size_t at = (size_t)(end - text);

	while (at < len && strchr(" \t\r\n", text[at]) && text[at])
		at++;
	if (at >= len)
		return 0;
	inspect_set_error("invalid rules: '%s': unexpected text after the JSON "
			  "object at byte %zu", name, at);
	inspect_set_hint("a rules file is one JSON object: remove what "
			 "follows it");
	return -1;
}

/* Reject a NUL byte, or a \u0000 escape in a string. cJSON keeps it in
 * the decoded string, which C reads as its end, so a pattern would
 * match less than the file contains. */
static int check_nul(const char *name, const char *text, size_t len)
{
	bool in_string = false;

	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\0' ||
		    (in_string && text[i] == '\\' && len - i > 5 &&
		     memcmp(text + i + 1, "u0000", 5) == 0)) {
			inspect_set_error("invalid rules: '%s': invalid JSON "
					  "near byte %zu: a NUL character "
					  "(\\u0000), which no rule may "
					  "contain", name, i);
			return -1;
		}
		if (in_string && text[i] == '\\')
			i++;
		else if (text[i] == '"')
			in_string = !in_string;
	}
	return 0;
}

int inspect_gate_rules_parse(struct inspect_gate_rules *rules,
			     const char *name, const char *text, size_t len)
{
	const char *end = NULL;
	cJSON *root, *item;
	int rc = 0;

	if (check_nul(name, text, len) < 0)
		return -1;
	root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (!root) {
		inspect_set_error("invalid rules: '%s': invalid JSON near byte "
				  "%zu", name, end ? (size_t)(end - text) : 0);
		inspect_set_hint("docs/gate.md has a complete example");
		return -1;
	}
	if (check_trailing(name, text, end, len) < 0) {
		cJSON_Delete(root);
		return -1;
	}
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return bad(name, "(top level)", NULL, "expected an object");
	}
	if (!cJSON_GetObjectItemCaseSensitive(root, "version"))
		rc = bad(name, "version", NULL, "missing; set it to 1");
	cJSON_ArrayForEach(item, root) {
		if (rc == 0)
			rc = check_repeated(name, root, item);
		if (rc == 0)
			rc = parse_key(rules, name, item);
	}
	cJSON_Delete(root);
	return rc;
}

static char *read_small(const char *path, size_t *len)
{
	const char *reason;
	FILE *f = harness_fopen_input(path, &reason);
	char *buf = NULL;
	size_t n;

	if (!f) {
		inspect_set_error("cannot read rules: '%s': %s", path, reason);
		return NULL;
	}
	buf = malloc(GATE_RULES_MAX + 1);
	n = buf ? fread(buf, 1, GATE_RULES_MAX + 1, f) : 0;
	if (!buf || ferror(f) || n > GATE_RULES_MAX) {
		inspect_set_error("cannot read rules: '%s': %s", path,
				  buf && !ferror(f) ?
				  "larger than 1 MiB" : strerror(errno));
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = n;
	return buf;
}

/* Reject a SQLite file, a bundle most likely, with the fix: "gate
 * --rules run.rb x" is an easy slip, and the JSON parser would only
 * report a NUL byte in it. */
static int check_not_sqlite(const char *path, const char *text, size_t len)
{
	static const char header[16] = "SQLite format 3";
	static const unsigned char bundle_id[4] = { 0x52, 0x42, 0x4e, 0x44 };

	if (len < sizeof(header) || memcmp(text, header, sizeof(header)) != 0)
		return 0;
	if (len >= 72 && memcmp(text + 68, bundle_id, 4) == 0) {
		inspect_set_error("invalid rules: '%s': it is a bundle, not a "
				  "rules file", path);
		inspect_set_hint("name the rules file after --rules and the "
				 "bundle last: runbundle gate --rules "
				 "RULES.json %s", path);
	} else {
		inspect_set_error("invalid rules: '%s': it is a SQLite "
				  "database, not a rules file", path);
		inspect_set_hint("a rules file is one JSON object; "
				 "docs/gate.md has a complete example");
	}
	return -1;
}

int inspect_gate_rules_load(struct inspect_gate_rules *rules,
			    const char *path)
{
	size_t len;
	char *text = read_small(path, &len);
	int rc;

	if (!text)
		return -1;
	if (check_not_sqlite(path, text, len) < 0) {
		free(text);
		return -1;
	}
	rc = inspect_gate_rules_parse(rules, path, text, len);
	free(text);
	return rc;
}

/* Match pattern from the workspace root and from every directory
 * below it, for a pattern that starts with "**" and a '/'. */
static int match_any_depth(const char *pattern, const char *path,
			   int fold)
{
	for (const char *p = path;;) {
		if (fnmatch(pattern, p,
			    FNM_PATHNAME | FNM_LEADING_DIR | fold) == 0)
			return 1;
		p = strchr(p, '/');
		if (!p)
			return 0;
		p++;
	}
}

/* inspect_gate_path_match(), with FNM_CASEFOLD in fold or 0. */
static int path_match(const char *pattern, const char *path, int fold)
{
	const char *base = strrchr(path, '/');

	if (!strchr(pattern, '/'))
		return fnmatch(pattern, base ? base + 1 : path, fold) == 0;
	if (pattern[0] == '/')
		pattern++;
	if (strncmp(pattern, "**/", 3) == 0)
		return match_any_depth(pattern + 3, path, fold);
	return fnmatch(pattern, path,
		       FNM_PATHNAME | FNM_LEADING_DIR | fold) == 0;
}

int inspect_gate_path_match(const char *pattern, const char *path)
{
	return path_match(pattern, path, 0);
}

int inspect_gate_protected_match(const char *pattern, const char *path)
{
	return path_match(pattern, path, FNM_CASEFOLD);
}

/* Return whether pattern has more components than path and its first
 * ones match path, so that a path that it covers lies below path. */
static int match_above(const char *pattern, const char *path)
{
	size_t depth = 1, len = 0;
	char prefix[4096];

	for (const char *p = path; *p; p++)
		depth += *p == '/';
	for (const char *p = pattern; *p; p++) {
		if (*p == '/' && --depth == 0) {
			len = (size_t)(p - pattern);
			break;
		}
	}
	if (depth > 0 || len >= sizeof(prefix))
		return 0;
	memcpy(prefix, pattern, len);
	prefix[len] = '\0';
	return fnmatch(prefix, path, FNM_PATHNAME | FNM_CASEFOLD) == 0;
}

int inspect_gate_path_above(const char *pattern, const char *path)
{
	if (!strchr(pattern, '/'))
		return 0;
	if (pattern[0] == '/')
		pattern++;
	if (strncmp(pattern, "**/", 3) != 0)
		return match_above(pattern, path);
	for (const char *p = path;;) {
		if (match_above(pattern + 3, p))
			return 1;
		p = strchr(p, '/');
		if (!p)
			return 0;
		p++;
	}
}

int inspect_gate_command_match(const char *pattern, const char *command)
{
	const char *base = strrchr(command, '/');

	if (!strchr(pattern, '/'))
		return fnmatch(pattern, base ? base + 1 : command, 0) == 0;
	return fnmatch(pattern, command, FNM_PATHNAME) == 0;
}
