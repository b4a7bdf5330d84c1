/*
 * gate_rules.c - parse and check the rules file of "runbundle gate".
 */
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
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
	/* git runs programs that these name, outside any sandbox. */
	"/.git/config", "/.git/hooks", ".git",
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
		inspect_set_error("%s: %s: %s: %s", name, key, text, why);
	else
		inspect_set_error("%s: %s: %s", name, key, why);
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
			   "expected a whole number from 0, or null");
	*out = (int64_t)v;
	return 0;
}

static int check_pattern(const char *name, const char *key, size_t i,
			 const cJSON *item)
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
	return 0;
}

static int parse_list(const char *name, const cJSON *item,
		      struct inspect_gate_list *list)
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
		if (check_pattern(name, item->string, n, el) < 0) {
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
		return parse_list(name, item, &rules->protected_paths);
	if (strcmp(key, "allowed_paths") == 0)
		return parse_list(name, item, &rules->allowed_paths);
	if (strcmp(key, "denied_commands") == 0)
		return parse_list(name, item, &rules->denied_commands);
	if (strcmp(key, "allow_network") == 0)
		return parse_bool(name, item, &rules->allow_network);
	if (strcmp(key, "require_complete") == 0)
		return parse_bool(name, item, &rules->require_complete);
	if (strcmp(key, "require_identical") == 0)
		return parse_bool(name, item, &rules->require_identical);
	if (strcmp(key, "allow_timeout") == 0)
		return parse_bool(name, item, &rules->allow_timeout);
	return bad(name, key, NULL, "unknown key");
}

int inspect_gate_rules_parse(struct inspect_gate_rules *rules,
			     const char *name, const char *text, size_t len)
{
	const char *end = NULL;
	cJSON *root, *item;
	int rc = 0;

	root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (!root) {
		inspect_set_error("%s: invalid JSON near byte %zu", name,
				  end ? (size_t)(end - text) : 0);
		inspect_set_hint("docs/gate.md has a complete example");
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
		inspect_set_error("cannot read the gate rules: '%s': %s",
				  path, reason);
		return NULL;
	}
	buf = malloc(GATE_RULES_MAX + 1);
	n = buf ? fread(buf, 1, GATE_RULES_MAX + 1, f) : 0;
	if (!buf || ferror(f) || n > GATE_RULES_MAX) {
		inspect_set_error("cannot read the gate rules: '%s': %s",
				  path, buf && !ferror(f) ?
				  "larger than 1 MiB" : strerror(errno));
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = n;
	return buf;
}

int inspect_gate_rules_load(struct inspect_gate_rules *rules,
			    const char *path)
{
	size_t len;
	char *text = read_small(path, &len);
	int rc;

	if (!text)
		return -1;
	rc = inspect_gate_rules_parse(rules, path, text, len);
	free(text);
	return rc;
}

int inspect_gate_path_match(const char *pattern, const char *path)
{
	const char *base = strrchr(path, '/');

	if (!strchr(pattern, '/'))
		return fnmatch(pattern, base ? base + 1 : path, 0) == 0;
	if (pattern[0] == '/')
		pattern++;
	return fnmatch(pattern, path, FNM_PATHNAME | FNM_LEADING_DIR) == 0;
}

int inspect_gate_command_match(const char *pattern, const char *command)
{
	const char *base = strrchr(command, '/');

	if (!strchr(pattern, '/'))
		return fnmatch(pattern, base ? base + 1 : command, 0) == 0;
	return fnmatch(pattern, command, FNM_PATHNAME) == 0;
}
