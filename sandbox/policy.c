/*
 * policy.c - read, check and write the sandbox policy.
 *
 * A policy file starts from the built-in default: a key that the file
 * leaves out keeps its default value, and a key that it sets replaces
 * the default whole (lists are not merged).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox/error.h"
#include "sandbox/internal.h"
#include "sandbox/policy.h"

/* The largest policy file read, in bytes. */
#define POLICY_MAX_SIZE (1 << 20)

/* The deepest nesting of arrays and objects: a policy needs 3. */
#define POLICY_MAX_DEPTH 16

static const char *const default_read_only[] = {
	"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
	"/etc", "/opt",
};

static const char *const default_hidden[] = {
	"/home", "/root", "/run", "/var/run", "/etc/shadow", "/etc/shadow-",
	"/etc/gshadow", "/etc/gshadow-", "/etc/sudoers", "/etc/sudoers.d",
	"/etc/ssh", "/etc/ssl/private", "/etc/security/opasswd",
};

static const char *const default_exec_deny[] = {
	"sudo", "su", "doas", "pkexec", "mount", "umount", "nsenter",
	"unshare", "chroot", "setpriv", "capsh",
};

static const char *const default_env_pass[] = {
	"LANG", "LC_*", "TERM", "TZ", "COLORTERM", "NO_COLOR",
};

static const char *const default_env_set[][2] = {
	{ "PATH", SANDBOX_DEFAULT_PATH },
	{ "TMPDIR", "/tmp" },
};

static const struct sandbox_limits default_limits = {
	.timeout_seconds = 3600,
	.cpu_seconds = 0,
	.memory_bytes = 0,
	.processes = 4096,
	.file_size_bytes = 16ULL << 30,
	.open_files = 4096,
};

/* The parser's position for messages: the file name and the JSON path. */
struct parser {
	const char *what;	/* "policy" or "recorded policy" */
	const char *name;	/* the file or bundle containing it */
	char path[256];
	const char *text;	/* the policy's text, for the numbers in */
	size_t len;		/* messages (policy_number.c) */
	const cJSON *root;
};

static void strings_clear(struct sandbox_strings *list)
{
	for (size_t i = 0; i < list->count; i++)
		free(list->items[i]);
	free(list->items);
	list->items = NULL;
	list->count = 0;
}

static int strings_add(struct sandbox_strings *list, const char *value)
{
	char **grown;
	char *copy;

	copy = strdup(value);
	grown = realloc(list->items, (list->count + 1) * sizeof(*grown));
	if (!copy || !grown) {
		free(copy);
		if (grown)
			list->items = grown;
		sandbox_set_error("cannot build the policy: '%s': %s", value,
				  strerror(ENOMEM));
		return -1;
	}
	list->items = grown;
	list->items[list->count++] = copy;
	return 0;
}

static int strings_set(struct sandbox_strings *list, const char *const *v,
		       size_t n)
{
	strings_clear(list);
	for (size_t i = 0; i < n; i++) {
		if (strings_add(list, v[i]) < 0)
			return -1;
	}
	return 0;
}

static void env_set_clear(struct sandbox_policy *policy)
{
	for (size_t i = 0; i < policy->env_set_count; i++) {
		free(policy->env_set[i].name);
		free(policy->env_set[i].value);
	}
	free(policy->env_set);
	policy->env_set = NULL;
	policy->env_set_count = 0;
}

static int env_set_add(struct sandbox_policy *policy, const char *name,
		       const char *value)
{
	struct sandbox_env_pair *grown;
	size_t n = policy->env_set_count;

	grown = realloc(policy->env_set, (n + 1) * sizeof(*grown));
	if (!grown)
		goto nomem;
	policy->env_set = grown;
	grown[n].name = strdup(name);
	grown[n].value = strdup(value);
	policy->env_set_count++;
	if (!grown[n].name || !grown[n].value)
		goto nomem;
	return 0;
nomem:
	sandbox_set_error("cannot build the policy: '%s': %s", name,
			  strerror(ENOMEM));
	return -1;
}

void sandbox_policy_free(struct sandbox_policy *policy)
{
	if (!policy)
		return;
	strings_clear(&policy->workspace_writable);
	strings_clear(&policy->workspace_read_only);
	strings_clear(&policy->workspace_hidden);
	strings_clear(&policy->read_only);
	strings_clear(&policy->hidden);
	strings_clear(&policy->exec_allow);
	strings_clear(&policy->exec_deny);
	strings_clear(&policy->network_allow);
	strings_clear(&policy->env_pass);
	strings_clear(&policy->env_secrets);
	strings_clear(&policy->match_rules);
	strings_clear(&policy->snapshot_exclude);
	env_set_clear(policy);
	free(policy->home_path);
	free(policy->home_seed);
	free(policy->hostname);
	free(policy);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct sandbox_policy *sandbox_policy_default(void)
{
	struct sandbox_policy *p = calloc(1, sizeof(*p));
	static const char *const all[] = { "." };
	static const char *const git[] = { ".git/hooks", ".git/config" };

	if (!p)
		return NULL;
	p->limits = default_limits;
	p->home_path = strdup("/home/agent");
	p->hostname = strdup("runbundle");
	if (!p->home_path || !p->hostname ||
	    strings_set(&p->workspace_writable, all, 1) < 0 ||
	    strings_set(&p->workspace_read_only, git, N(git)) < 0 ||
	    strings_set(&p->read_only, default_read_only,
			N(default_read_only)) < 0 ||
	    strings_set(&p->hidden, default_hidden, N(default_hidden)) < 0 ||
	    strings_set(&p->exec_deny, default_exec_deny,
			N(default_exec_deny)) < 0 ||
	    strings_set(&p->env_pass, default_env_pass,
			N(default_env_pass)) < 0)
		goto fail;
	for (size_t i = 0; i < N(default_env_set); i++) {
		if (env_set_add(p, default_env_set[i][0],
				default_env_set[i][1]) < 0)
			goto fail;
	}
	return p;
fail:
	sandbox_policy_free(p);
	return NULL;
}

/* Report a bad value at the parser's current path. Returns -1. */
static int bad(struct parser *ps, const cJSON *value, const char *why)
{
	char *text = NULL;

	/* cJSON prints a number as the double it keeps, so a number is
	 * quoted from the policy's text. */
	if (cJSON_IsNumber(value) && ps->root)
		text = policy_number_text(ps->text, ps->len, ps->root, value);
	if (value && !text)
		text = cJSON_PrintUnformatted(value);

	if (text && strlen(text) > 120)
		strcpy(text + 117, "...");
	if (text && ps->path[0])
		sandbox_set_error("invalid %s: '%s': %s: %s: %s", ps->what,
				  ps->name, ps->path, text, why);
	else if (text)
		sandbox_set_error("invalid %s: '%s': %s: %s", ps->what,
				  ps->name, text, why);
	else if (ps->path[0])
		sandbox_set_error("invalid %s: '%s': %s: %s", ps->what,
				  ps->name, ps->path, why);
	else
		sandbox_set_error("invalid %s: '%s': %s", ps->what, ps->name,
				  why);
	free(text);
	return -1;
}

/* Append ".key" or "[i]" to the path; returns the old length. */
static size_t path_push(struct parser *ps, const char *key, int index)
{
	size_t len = strlen(ps->path);

	if (key)
		snprintf(ps->path + len, sizeof(ps->path) - len, "%s%s",
			 len ? "." : "", key);
	else
		snprintf(ps->path + len, sizeof(ps->path) - len, "[%d]",
			 index);
	return len;
}

static void path_pop(struct parser *ps, size_t len)
{
	ps->path[len] = '\0';
}

/*
 * Check that every key of object is in known (a NULL-terminated list).
 */
static int check_keys(struct parser *ps, const cJSON *object,
		      const char *const *known)
{
	const cJSON *item;

	if (!cJSON_IsObject(object))
		return bad(ps, object, "not an object");
	cJSON_ArrayForEach(item, object) {
		size_t i;

		for (i = 0; known[i]; i++) {
			if (strcmp(item->string, known[i]) == 0)
				break;
		}
		if (!known[i]) {
			size_t len = path_push(ps, item->string, 0);

			bad(ps, NULL, "unknown key");
			sandbox_set_hint("docs/policy.md lists the keys of "
					 "each section");
			path_pop(ps, len);
			return -1;
		}
	}
	return 0;
}

/*
 * Reject a key that appears twice in one object, anywhere in the tree.
 * cJSON keeps both members and its lookups return the first, while jq
 * and Python return the last, so a reviewer would read another policy.
 */
static int check_duplicates(struct parser *ps, const cJSON *node)
{
	const cJSON *item;
	int i = 0;

	cJSON_ArrayForEach(item, node) {
		size_t len = path_push(ps, cJSON_IsObject(node) ? item->string
								: NULL, i++);

		for (const cJSON *later = item->next;
		     cJSON_IsObject(node) && later; later = later->next) {
			if (strcmp(item->string, later->string) != 0)
				continue;
			bad(ps, NULL, "duplicate key");
			sandbox_set_hint("keep one '%s' in the object",
					 item->string);
			return -1;
		}
		if (check_duplicates(ps, item) < 0)
			return -1;
		path_pop(ps, len);
	}
	return 0;
}

/* Normalised means no empty, "." or ".." component and no trailing '/'. */
static bool path_is_normal(const char *path)
{
	const char *p = path;

	if (*p == '/')
		p++;
	if (*p == '\0')
		return path[0] == '/';
	while (*p) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += n;
		if (*p == '/' && p[1] == '\0')
			return false;
		if (*p == '/')
			p++;
	}
	return true;
}

enum path_kind { PATH_ABSOLUTE, PATH_RELATIVE, PATH_NAME_OR_ABSOLUTE };

static int check_path(struct parser *ps, const cJSON *v, enum path_kind kind)
{
	const char *s = v->valuestring;

	if (strlen(s) >= PATH_MAX)
		return bad(ps, v, "path too long");
	if (kind == PATH_RELATIVE) {
		if (strcmp(s, ".") == 0)
			return 0;
		if (s[0] == '/')
			return bad(ps, v, "not relative to the workspace");
	} else if (kind == PATH_ABSOLUTE && s[0] != '/') {
		return bad(ps, v, "not an absolute path");
	} else if (kind == PATH_NAME_OR_ABSOLUTE && s[0] != '/') {
		if (s[0] == '\0' || strchr(s, '/') || strcmp(s, ".") == 0 ||
		    strcmp(s, "..") == 0)
			return bad(ps, v, "neither a command name nor an "
					  "absolute path");
		return 0;
	}
	if (!path_is_normal(s))
		return bad(ps, v, "not a normalised path (no '.', '..', "
				  "'//' or trailing '/')");
	return 0;
}

/* Check that a bracketed host is an IPv6 address. The proxy takes
 * anything else in brackets as a name: "[example.com]:443" allowed
 * example.com. */
static int check_bracketed(struct parser *ps, const cJSON *v,
			   const char *text, size_t len)
{
	char host[INET6_ADDRSTRLEN];
	struct in6_addr address;

	if (len == 0 || len >= sizeof(host))
		return bad(ps, v, "not an IPv6 address in brackets");
	memcpy(host, text, len);
	host[len] = '\0';
	if (inet_pton(AF_INET6, host, &address) != 1)
		return bad(ps, v, "not an IPv6 address in brackets");
	return 0;
}

/* Check that a host name has labels of 1 to 63 characters and at most
 * one trailing dot. DNS has no other names, so no lookup would work. */
static int check_name(struct parser *ps, const cJSON *v, const char *name,
		      size_t len)
{
	size_t label = 0;
	char text[256];
	struct in_addr address;
	/* An older runbundle recorded such entries, and they act in the
	 * replay as they did in the recording, so the bundle replays. */
	bool recorded = strcmp(ps->what, "policy") != 0;

	/* The proxy matches names exactly and reads only these characters
	 * in a request, so an entry with any other could never match. */
	for (size_t i = 0; i < len && !recorded; i++) {
		unsigned char c = (unsigned char)name[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_')
			continue;
		bad(ps, v, c == '*' ? "wildcards are not supported" :
			   c >= 0x80 ? "host name is not ASCII" :
				       "invalid character in host");
		if (c == '*')
			sandbox_set_hint("list each host name that the agent "
					 "needs, such as registry.npmjs.org");
		else if (c >= 0x80)
			sandbox_set_hint("write an international name in its "
					 "ASCII form (xn--...), as DNS does");
		return -1;
	}
	/* The proxy matches "127.1" as a name, which getaddrinfo() then
	 * reads as the address 127.0.0.1, so the entry must be that. */
	if (len < sizeof(text) && !recorded) {
		memcpy(text, name, len);
		text[len] = '\0';
		if (inet_aton(text, &address) &&
		    inet_pton(AF_INET, text, &address) != 1) {
			char quad[INET_ADDRSTRLEN];

			inet_ntop(AF_INET, &address, quad, sizeof(quad));
			bad(ps, v, "IPv4 address not in dotted-quad form");
			sandbox_set_hint("write it as %s", quad);
			return -1;
		}
	}
	if (len > 1 && name[len - 1] == '.')
		len--;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && name[i] != '.') {
			if (++label > 63)
				return bad(ps, v, "host name label longer "
					   "than 63 characters");
			continue;
		}
		if (label == 0)
			return bad(ps, v, "empty label in host name");
		label = 0;
	}
	return 0;
}

static int check_host_port(struct parser *ps, const cJSON *v)
{
	const char *s = v->valuestring;
	const char *colon = strrchr(s, ':');
	char *end;
	long port;

	if (!colon || colon == s)
		return bad(ps, v, "not host:port");
	if (s[0] == '[' && colon[-1] != ']')
		return bad(ps, v, "IPv6 address without a closing ']'");
	if (s[0] != '[' && memchr(s, ':', (size_t)(colon - s)))
		return bad(ps, v, "IPv6 address not in brackets");
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end != '\0')
		return bad(ps, v, "port is not a number");
	if (errno == ERANGE || port < 1 || port > 65535)
		return bad(ps, v, "port out of range");
	for (const char *p = s; p < colon; p++) {
		if ((unsigned char)*p <= ' ' || *p == '/' || *p == '@')
			return bad(ps, v, "invalid character in host");
	}
	if (s[0] == '[')
		return check_bracketed(ps, v, s + 1, (size_t)(colon - s) - 2);
	return check_name(ps, v, s, (size_t)(colon - s));
}

enum item_check { ITEM_ANY, ITEM_ABS, ITEM_REL, ITEM_EXEC, ITEM_HOSTPORT,
		  ITEM_ENVNAME, ITEM_MATCH_RULE, ITEM_EXCLUDE, ITEM_HIDDEN,
		  ITEM_READ_ONLY };

static bool env_name_is_valid(const char *s, bool allow_star)
{
	if (!*s || (*s >= '0' && *s <= '9'))
		return false;
	for (const char *p = s; *p; p++) {
		if (*p == '*' && allow_star && p[1] == '\0')
			return true;
		if (!(*p == '_' || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
			return false;
	}
	return true;
}

/*
 * Only the rule's kind is checked here: the sandbox does not link the
 * regular expression engine, so the gateway compiles the pattern, and
 * names the policy's rule when it does not compile.
 */
static int check_match_rule(struct parser *ps, const cJSON *v)
{
	const char *s = v->valuestring;

	if ((strncmp(s, "regex:", 6) == 0 && s[6]) ||
	    (strncmp(s, "path:", 5) == 0 && s[5]))
		return 0;
	return bad(ps, v, "not a rule ('regex:PATTERN' or 'path:JSONPATH')");
}

/* Return whether s ends with suffix. */
static bool ends_with(const char *s, const char *suffix)
{
	size_t len = strlen(s), n = strlen(suffix);

	return len >= n && strcmp(s + len - n, suffix) == 0;
}

const char *sandbox_exclude_flaw(const char *pattern, const char **fix)
{
	const char *rest = pattern[0] == '/' ? pattern + 1 : pattern;
	size_t len = strlen(pattern);

	*fix = NULL;
	if (!*rest) {
		*fix = "give a name, or a path from the snapshot's root";
		return "not a pattern";
	}
	if (len >= PATH_MAX)
		return "too long: a path has at most PATH_MAX bytes";
	if (pattern[len - 1] == '/') {
		*fix = "drop the '/': a pattern matches directories and files "
		       "alike";
		return "ends with '/'";
	}
	if (strstr(pattern, "//") || strcmp(rest, ".") == 0 ||
	    strcmp(rest, "..") == 0 || strncmp(rest, "./", 2) == 0 ||
	    strncmp(rest, "../", 3) == 0 || strstr(rest, "/./") ||
	    strstr(rest, "/../") || ends_with(rest, "/.") ||
	    ends_with(rest, "/.."))
		return "has an empty, '.' or '..' component, which no path in "
		       "a snapshot has";
	return NULL;
}

/* Reject a snapshot exclude that would never match, with the fix. */
static int check_exclude(struct parser *ps, const cJSON *v)
{
	const char *fix, *flaw = sandbox_exclude_flaw(v->valuestring, &fix);
	char why[256];

	if (!flaw)
		return 0;
	if (fix)
		snprintf(why, sizeof(why), "%s, so %s", flaw, fix);
	else
		snprintf(why, sizeof(why), "%s", flaw);
	return bad(ps, v, why);
}

static int check_item(struct parser *ps, const cJSON *v, enum item_check c)
{
	switch (c) {
	case ITEM_ABS:
		return check_path(ps, v, PATH_ABSOLUTE);
	case ITEM_READ_ONLY:
		/* The read-only binds come after the sandbox's own /proc
		 * and /dev, and would cover them. */
		if (check_path(ps, v, PATH_ABSOLUTE) < 0)
			return -1;
		if (sandbox_path_within(v->valuestring, "/proc"))
			return bad(ps, v, "the sandbox has a /proc of its own, "
				   "and the host's, bound over it, would show "
				   "every process of the host");
		if (sandbox_path_within(v->valuestring, "/dev"))
			return bad(ps, v, "the sandbox has a /dev of its own, "
				   "and the host's devices, bound over it, "
				   "cannot be opened (the binds are nodev)");
		return 0;
	case ITEM_HIDDEN:
		/* Hiding all of /dev takes /dev/null and the terminal from
		 * every command, and Landlock's rules for them fail. */
		if (check_path(ps, v, PATH_ABSOLUTE) < 0)
			return -1;
		if (strcmp(v->valuestring, "/dev") == 0)
			return bad(ps, v, "the sandbox needs its /dev; hide "
				   "single devices instead, such as "
				   "\"/dev/tty\"");
		return 0;
	case ITEM_REL:
		return check_path(ps, v, PATH_RELATIVE);
	case ITEM_EXEC:
		return check_path(ps, v, PATH_NAME_OR_ABSOLUTE);
	case ITEM_HOSTPORT:
		return check_host_port(ps, v);
	case ITEM_MATCH_RULE:
		return check_match_rule(ps, v);
	case ITEM_EXCLUDE:
		return check_exclude(ps, v);
	case ITEM_ENVNAME:
		if (!env_name_is_valid(v->valuestring, true))
			return bad(ps, v, "not a variable name (letters, "
					  "digits, '_', optional final '*')");
		return 0;
	case ITEM_ANY:
		break;
	}
	return 0;
}

/* Read an array of strings at key into list, when the key is present. */
static int read_strings(struct parser *ps, const cJSON *object,
			const char *key, struct sandbox_strings *list,
			enum item_check check)
{
	const cJSON *array = cJSON_GetObjectItemCaseSensitive(object, key);
	const cJSON *item;
	size_t len;
	int i = 0;

	if (!array)
		return 0;
	len = path_push(ps, key, 0);
	if (!cJSON_IsArray(array))
		return bad(ps, array, "not an array of strings");
	strings_clear(list);
	cJSON_ArrayForEach(item, array) {
		size_t len2 = path_push(ps, NULL, i++);

		if (!cJSON_IsString(item))
			return bad(ps, item, "not a string");
		if (check_item(ps, item, check) < 0 ||
		    strings_add(list, item->valuestring) < 0)
			return -1;
		path_pop(ps, len2);
	}
	path_pop(ps, len);
	return 0;
}

static int read_string(struct parser *ps, const cJSON *object,
		       const char *key, char **out, enum item_check check,
		       bool nullable)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(object, key);
	size_t len;
	char *copy;

	if (!v)
		return 0;
	len = path_push(ps, key, 0);
	if (nullable && cJSON_IsNull(v)) {
		free(*out);
		*out = NULL;
		path_pop(ps, len);
		return 0;
	}
	if (!cJSON_IsString(v))
		return bad(ps, v, nullable ? "not a string or null"
					   : "not a string");
	if (check_item(ps, v, check) < 0)
		return -1;
	copy = strdup(v->valuestring);
	if (!copy)
		return bad(ps, NULL, strerror(ENOMEM));
	free(*out);
	*out = copy;
	path_pop(ps, len);
	return 0;
}

/* The largest integer that a JSON number (a double) keeps exactly. */
#define MAX_EXACT_NUMBER 9007199254740992.0

/*
 * A size is a non-negative integer of bytes, or a string with a K, M,
 * G or T suffix (powers of 1024). Returns -2 for an integer too large,
 * -1 for any other invalid value.
 */
static int parse_size(const cJSON *v, bool bytes, uint64_t *out)
{
	const char *s;
	char *end;
	unsigned long long n;
	int shift = 0;

	if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;

		/* Every double above 2^53 is an integer. */
		if (d > MAX_EXACT_NUMBER)
			return -2;
		if (d < 0 || d != (double)(uint64_t)d)
			return -1;
		*out = (uint64_t)d;
		return 0;
	}
	if (!bytes || !cJSON_IsString(v))
		return -1;
	s = v->valuestring;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -2;
	switch (*end) {
	case 'K': shift = 10; break;
	case 'M': shift = 20; break;
	case 'G': shift = 30; break;
	case 'T': shift = 40; break;
	case '\0': break;
	default: return -1;
	}
	if (*end && end[1] != '\0')
		return -1;
	if (n > (UINT64_MAX >> shift))
		return -2;
	*out = (uint64_t)n << shift;
	return 0;
}

/* Reject a limit below its minimum (policy.h). Checks nothing unless
 * field, the limit just read, is limit. */
static int check_minimum(struct parser *ps, const cJSON *v,
			 const uint64_t *field, const uint64_t *limit,
			 uint64_t minimum, const char *shown)
{
	char why[160];

	if (field != limit || *limit == 0 || *limit >= minimum)
		return 0;
	snprintf(why, sizeof(why), "too small: use at least %" PRIu64
		 "%s%s%s, because a shell may fail to start with less, or 0 "
		 "for no limit", minimum, shown ? " (" : "",
		 shown ? shown : "", shown ? ")" : "");
	return bad(ps, v, why);
}

static int read_limits(struct parser *ps, const cJSON *object,
		       struct sandbox_limits *limits)
{
	static const char *const keys[] = {
		"timeout_seconds", "cpu_seconds", "memory_bytes",
		"processes", "file_size_bytes", "open_files", NULL,
	};
	uint64_t *fields[] = {
		&limits->timeout_seconds, &limits->cpu_seconds,
		&limits->memory_bytes, &limits->processes,
		&limits->file_size_bytes, &limits->open_files,
	};

	if (check_keys(ps, object, keys) < 0)
		return -1;
	for (size_t i = 0; keys[i]; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(object,
								  keys[i]);
		bool bytes = strstr(keys[i], "bytes") != NULL;
		size_t len;
		int rc;

		if (!v)
			continue;
		len = path_push(ps, keys[i], 0);
		rc = parse_size(v, bytes, fields[i]);
		if (rc == -2)
			return bad(ps, v, cJSON_IsNumber(v) ?
				"too large: a JSON number is exact up to "
				"9007199254740992 (2^53)" :
				"too large: the limit is 2^64 - 1 bytes");
		if (rc < 0)
			return bad(ps, v, bytes ?
				"not a byte count (integer, or string with K, "
				"M, G or T)" : "not a non-negative integer");
		if (fields[i] == &limits->processes && limits->processes &&
		    limits->processes < SANDBOX_MIN_PROCESSES)
			return bad(ps, v, "too small: the sandbox's helper, "
				   "init and the command count against it, so "
				   "raise it to at least 3, or 0 for no limit");
		if (fields[i] == &limits->file_size_bytes &&
		    limits->file_size_bytes > SANDBOX_MAX_FILE_SIZE_BYTES)
			return bad(ps, v, "too large: the kernel reads a file "
				   "size limit above 2^63 - 1 bytes as "
				   "negative, so every write would fail; use "
				   "at most \"8388607T\", or 0 for no limit");
		if (check_minimum(ps, v, fields[i], &limits->memory_bytes,
				  SANDBOX_MIN_MEMORY_BYTES, "\"16M\"") < 0 ||
		    check_minimum(ps, v, fields[i], &limits->open_files,
				  SANDBOX_MIN_OPEN_FILES, NULL) < 0)
			return -1;
		path_pop(ps, len);
	}
	return 0;
}

static int read_env_set(struct parser *ps, const cJSON *env,
			struct sandbox_policy *p)
{
	const cJSON *set = cJSON_GetObjectItemCaseSensitive(env, "set");
	const cJSON *item;
	size_t len;

	if (!set)
		return 0;
	len = path_push(ps, "set", 0);
	if (!cJSON_IsObject(set))
		return bad(ps, set, "not an object of strings");
	env_set_clear(p);
	cJSON_ArrayForEach(item, set) {
		size_t len2 = path_push(ps, item->string, 0);

		if (!env_name_is_valid(item->string, false))
			return bad(ps, NULL, "not a variable name");
		if (!cJSON_IsString(item))
			return bad(ps, item, "not a string");
		if (env_set_add(p, item->string, item->valuestring) < 0)
			return -1;
		path_pop(ps, len2);
	}
	path_pop(ps, len);
	return 0;
}

/* Run fn on the object at key when present, with the path extended. */
#define SECTION(ps, root, key, body)                                        \
	do {                                                                \
		const cJSON *sec = cJSON_GetObjectItemCaseSensitive(root,   \
								    key);   \
		if (sec) {                                                  \
			size_t len_ = path_push(ps, key, 0);                \
			if (body)                                           \
				return -1;                                  \
			path_pop(ps, len_);                                 \
		}                                                           \
	} while (0)

static int read_workspace(struct parser *ps, const cJSON *o,
			  struct sandbox_policy *p)
{
	static const char *const keys[] = { "writable", "read_only",
					    "hidden", NULL };

	return check_keys(ps, o, keys) < 0 ||
	       read_strings(ps, o, "writable", &p->workspace_writable,
			    ITEM_REL) < 0 ||
	       read_strings(ps, o, "read_only", &p->workspace_read_only,
			    ITEM_REL) < 0 ||
	       read_strings(ps, o, "hidden", &p->workspace_hidden,
			    ITEM_REL) < 0;
}

static int read_filesystem(struct parser *ps, const cJSON *o,
			   struct sandbox_policy *p)
{
	static const char *const keys[] = { "read_only", "hidden", NULL };

	return check_keys(ps, o, keys) < 0 ||
	       read_strings(ps, o, "read_only", &p->read_only,
			    ITEM_READ_ONLY) < 0 ||
	       read_strings(ps, o, "hidden", &p->hidden, ITEM_HIDDEN) < 0;
}

static int read_home(struct parser *ps, const cJSON *o,
		     struct sandbox_policy *p)
{
	static const char *const keys[] = { "path", "seed", NULL };

	if (check_keys(ps, o, keys) < 0 ||
	    read_string(ps, o, "path", &p->home_path, ITEM_ABS, false) < 0 ||
	    read_string(ps, o, "seed", &p->home_seed, ITEM_ABS, true) < 0)
		return -1;
	if (strcmp(p->home_path, "/") == 0) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "path");
		size_t len = path_push(ps, "path", 0);
		int rc = bad(ps, v, "HOME cannot be the root directory");

		path_pop(ps, len);
		return rc;
	}
	return 0;
}

static int read_exec(struct parser *ps, const cJSON *o,
		     struct sandbox_policy *p)
{
	static const char *const keys[] = { "allow", "deny", NULL };

	return check_keys(ps, o, keys) < 0 ||
	       read_strings(ps, o, "allow", &p->exec_allow, ITEM_EXEC) < 0 ||
	       read_strings(ps, o, "deny", &p->exec_deny, ITEM_EXEC) < 0;
}

static int read_network(struct parser *ps, const cJSON *o,
			struct sandbox_policy *p)
{
	static const char *const keys[] = { "allow", NULL };

	return check_keys(ps, o, keys) < 0 ||
	       read_strings(ps, o, "allow", &p->network_allow,
			    ITEM_HOSTPORT) < 0;
}

static int read_matching(struct parser *ps, const cJSON *o,
			 struct sandbox_policy *p)
{
	static const char *const keys[] = { "rules", NULL };

	return check_keys(ps, o, keys) < 0 ||
	       read_strings(ps, o, "rules", &p->match_rules,
			    ITEM_MATCH_RULE) < 0;
}

static int read_snapshot(struct parser *ps, const cJSON *o,
			 struct sandbox_policy *p)
{
	static const char *const keys[] = { "exclude", NULL };

	return check_keys(ps, o, keys) < 0 ||
	       read_strings(ps, o, "exclude", &p->snapshot_exclude,
			    ITEM_EXCLUDE) < 0;
}

/*
 * Reject a variable of env.set that env.secrets names. The command never
 * gets it, and the policy with its value is stored in the bundle, where
 * a secret must never go.
 */
static int check_set_secrets(struct parser *ps, struct sandbox_policy *p)
{
	for (size_t i = 0; i < p->env_set_count; i++) {
		const char *name = p->env_set[i].name;
		size_t len;

		if (!sandbox_env_matches(&p->env_secrets, name))
			continue;
		len = path_push(ps, "set", 0);
		path_push(ps, name, 0);
		bad(ps, NULL, "also named by env.secrets, so the command never "
			      "gets it, yet the bundle would store its value");
		sandbox_set_hint("take '%s' out of env.set or out of "
				 "env.secrets", name);
		path_pop(ps, len);
		return -1;
	}
	return 0;
}

static int read_env(struct parser *ps, const cJSON *o,
		    struct sandbox_policy *p)
{
	static const char *const keys[] = { "pass", "set", "secrets", NULL };

	return check_keys(ps, o, keys) < 0 ||
	       read_strings(ps, o, "pass", &p->env_pass, ITEM_ENVNAME) < 0 ||
	       read_env_set(ps, o, p) < 0 ||
	       read_strings(ps, o, "secrets", &p->env_secrets,
			    ITEM_ENVNAME) < 0 ||
	       check_set_secrets(ps, p) < 0;
}

/*
 * HOME is a fresh tmpfs, so over a read-only or system path it would
 * hide the toolchain. The workspace is checked at launch, when its path
 * inside is known.
 */
static int check_home(struct parser *ps, const cJSON *root,
		      const struct sandbox_policy *p)
{
	const char *conflict;
	char reason[PATH_MAX + 64];
	const cJSON *home, *v;

	conflict = sandbox_placement_conflict(p->home_path, p, false, false);
	if (!conflict)
		return 0;
	home = cJSON_GetObjectItemCaseSensitive(root, "home");
	v = cJSON_GetObjectItemCaseSensitive(home, "path");
	snprintf(ps->path, sizeof(ps->path), "home.path");
	snprintf(reason, sizeof(reason), "HOME cannot be, contain or lie "
		 "inside the system or read-only path '%s'", conflict);
	if (v)
		return bad(ps, v, reason);

	/* HOME is at its default, so a filesystem.read_only entry
	 * conflicts. The file names neither, so the message does. */
	snprintf(reason, sizeof(reason), "\"%s\" (the default): HOME cannot "
		 "be, contain or lie inside the system or read-only path "
		 "'%s'", p->home_path, conflict);
	bad(ps, NULL, reason);
	sandbox_set_hint("set home.path to a path outside '%s', or take "
			 "'%s' out of filesystem.read_only", conflict,
			 conflict);
	return -1;
}

static int read_version(struct parser *ps, const cJSON *root)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "version");
	size_t len = path_push(ps, "version", 0);

	if (!v)
		return bad(ps, NULL, "missing (the current version is 1)");
	if (!cJSON_IsNumber(v) || v->valuedouble != SANDBOX_POLICY_VERSION)
		return bad(ps, v, "unsupported version (this runbundle "
				  "reads version 1)");
	path_pop(ps, len);
	return 0;
}

/* An RFC 1123 host name label: what sethostname() gets inside. */
static bool hostname_is_label(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (const char *c = s; *c; c++) {
		if (!(*c == '-' || (*c >= 'a' && *c <= 'z') ||
		      (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')))
			return false;
	}
	return true;
}

static int read_top(struct parser *ps, const cJSON *root,
		    struct sandbox_policy *p)
{
	static const char *const keys[] = {
		"version", "hostname", "nested_userns", "workspace",
		"filesystem", "home", "exec", "network", "limits", "env",
		"matching", "snapshot", NULL,
	};
	const cJSON *nested;

	if (check_keys(ps, root, keys) < 0 || read_version(ps, root) < 0 ||
	    read_string(ps, root, "hostname", &p->hostname, ITEM_ANY,
			false) < 0)
		return -1;
	if (!hostname_is_label(p->hostname)) {
		path_push(ps, "hostname", 0);
		return bad(ps, cJSON_GetObjectItem(root, "hostname"),
			   "not a host name label (1 to 63 letters, digits "
			   "and '-', not starting or ending with '-')");
	}
	nested = cJSON_GetObjectItemCaseSensitive(root, "nested_userns");
	if (nested) {
		path_push(ps, "nested_userns", 0);
		if (!cJSON_IsBool(nested))
			return bad(ps, nested, "not true or false");
		p->allow_nested_userns = cJSON_IsTrue(nested);
		path_pop(ps, 0);
	}
	SECTION(ps, root, "workspace", read_workspace(ps, sec, p));
	SECTION(ps, root, "filesystem", read_filesystem(ps, sec, p));
	SECTION(ps, root, "home", read_home(ps, sec, p));
	SECTION(ps, root, "exec", read_exec(ps, sec, p));
	SECTION(ps, root, "network", read_network(ps, sec, p));
	SECTION(ps, root, "limits", read_limits(ps, sec, &p->limits));
	SECTION(ps, root, "env", read_env(ps, sec, p));
	SECTION(ps, root, "matching", read_matching(ps, sec, p));
	SECTION(ps, root, "snapshot", read_snapshot(ps, sec, p));
	return check_home(ps, root, p);
}

/*
 * Return the length of the JSON number at s (at most len bytes), or 0
 * when the text there is not one (RFC 8259, section 6). cJSON reads a
 * number with strtod(), so it also takes "01", "1." and "-.5".
 */
static size_t number_length(const char *s, size_t len)
{
	size_t i = 0, digits;

#define DIGIT(k) ((k) < len && s[k] >= '0' && s[k] <= '9')
	if (i < len && s[i] == '-')
		i++;
	if (i < len && s[i] == '0')
		i++;
	else if (DIGIT(i))
		while (DIGIT(i))
			i++;
	else
		return 0;
	if (i < len && s[i] == '.') {
		for (digits = ++i; DIGIT(i); i++)
			;
		if (i == digits)
			return 0;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		for (digits = i; DIGIT(i); i++)
			;
		if (i == digits)
			return 0;
	}
	if (i < len && strchr("0123456789+-.eE", s[i]) && s[i])
		return 0;
#undef DIGIT
	return i;
}

/*
 * Reject what cJSON lets through or reports without a reason. Nesting
 * deeper than POLICY_MAX_DEPTH is only invalid JSON to cJSON past its
 * own limit of 1000. A number that JSON does not allow, such as "01", is
 * read by strtod(). A NUL byte or a \u0000 escape stays in the decoded
 * string, which is then silently cut short. Scans the raw text, because
 * the parsed tree shows none of these.
 */
static int scan_text(const struct parser *ps)
{
	const char *text = ps->text;
	size_t len = ps->len;
	bool in_string = false;
	int depth = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		char c = text[i];

		if (c == '\0' || (in_string && c == '\\' && len - i > 5 &&
				   memcmp(text + i + 1, "u0000", 5) == 0))
			goto nul;
		if (in_string && c == '\\')
			i++;
		else if (c == '"')
			in_string = !in_string;
		else if (!in_string && (c == '[' || c == '{') &&
			 ++depth > POLICY_MAX_DEPTH)
			goto deep;
		else if (!in_string && (c == ']' || c == '}'))
			depth--;
		else if (!in_string && (c == '-' || (c >= '0' && c <= '9'))) {
			size_t n = number_length(text + i, len - i);

			if (n == 0)
				goto number;
			i += n - 1;
		}
	}
	return 0;
number:
	sandbox_set_error("invalid %s: '%s': invalid JSON near byte %zu: not "
			  "a JSON number (no leading zeros, digits on both "
			  "sides of '.')", ps->what, ps->name, i);
	sandbox_set_hint("write numbers as JSON does, for example 1, 0.5 "
			 "or 1e3");
	return -1;
nul:
	sandbox_set_error("invalid %s: '%s': invalid JSON near byte %zu: a NUL "
			  "character (\\u0000), which no policy value may "
			  "contain", ps->what, ps->name, i);
	return -1;
deep:
	sandbox_set_error("invalid %s: '%s': invalid JSON near byte %zu: "
			  "nested too deep (more than %d levels)", ps->what,
			  ps->name, i, POLICY_MAX_DEPTH);
	return -1;
}

/*
 * Reject text after the top-level value, which a truncated paste or two
 * concatenated files leave. cJSON 1.7.15's require_null_terminated flag
 * also rejects a buffer of exactly len bytes with no NUL, so the end is
 * checked here. Moves *end past trailing whitespace.
 */
static int trailing_text(const char *text, size_t len, const char **end)
{
	while (*end < text + len && strchr(" \t\r\n", **end) && **end)
		(*end)++;
	return *end < text + len ? -1 : 0;
}

static struct sandbox_policy *parse(const char *text, size_t len,
				    const char *what, const char *name)
{
	struct parser ps = { .what = what, .name = name, .text = text,
			     .len = len };
	struct sandbox_policy *p;
	const char *end = NULL;
	cJSON *root;

	if (scan_text(&ps) < 0)
		return NULL;
	root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (!root) {
		size_t at = end && end >= text ? (size_t)(end - text) : 0;
		const char *why = policy_syntax_reason(text, len, at);

		sandbox_set_error("invalid %s: '%s': invalid JSON near "
				  "byte %zu%s%s", what, name, at,
				  why ? ": " : "", why ? why : "");
		sandbox_set_hint("docs/policy.md has a complete example");
		return NULL;
	}
	if (trailing_text(text, len, &end) < 0) {
		sandbox_set_error("invalid %s: '%s': invalid JSON near "
				  "byte %zu: text after the end of the policy",
				  what, name, (size_t)(end - text));
		sandbox_set_hint("a policy is one JSON object: remove what "
				 "follows it");
		cJSON_Delete(root);
		return NULL;
	}
	ps.root = root;
	p = sandbox_policy_default();
	if (!p) {
		sandbox_set_error("cannot read %s: '%s': %s", what, name,
				  strerror(ENOMEM));
	} else if (!cJSON_IsObject(root)) {
		bad(&ps, NULL, "the policy must be a JSON object");
		sandbox_policy_free(p);
		p = NULL;
	} else if (check_duplicates(&ps, root) < 0 ||
		   read_top(&ps, root, p) < 0) {
		sandbox_policy_free(p);
		p = NULL;
	}
	cJSON_Delete(root);
	return p;
}

struct sandbox_policy *sandbox_policy_parse(const char *text, size_t len,
					    const char *name)
{
	return parse(text, len, "policy", name);
}

struct sandbox_policy *sandbox_policy_parse_recorded(const char *text,
						     size_t len,
						     const char *bundle)
{
	return parse(text, len, "recorded policy", bundle);
}

static char *read_small_file(const char *path, const char *what,
			     size_t *len)
{
	struct stat st;
	char *buf = NULL;
	ssize_t n = 0;
	int fd;

	/* O_NONBLOCK: opening a FIFO with no writer must not hang; fstat()
	 * then rejects it as not a regular file. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode) || st.st_size > POLICY_MAX_SIZE) {
		errno = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
		goto fail;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		goto fail;
	while ((size_t)n < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size - (size_t)n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += r;
	}
	buf[n] = '\0';
	*len = (size_t)n;
	close(fd);
	return buf;
fail:
	sandbox_set_error("cannot read %s: '%s': %s", what, path,
			  errno == EFBIG ? "larger than 1 MiB" :
			  errno == EINVAL ? "not a regular file" :
			  strerror(errno));
	free(buf);
	if (fd >= 0)
		close(fd);
	return NULL;
}

/* The kernel's maximum of RLIMIT_NOFILE, or 0 when it cannot be read. */
static uint64_t read_nr_open(void)
{
	unsigned long long n = 0;
	FILE *f = fopen("/proc/sys/fs/nr_open", "re");

	if (!f)
		return 0;
	if (fscanf(f, "%llu", &n) != 1)
		n = 0;
	fclose(f);
	return n;
}

/*
 * The sandbox sets RLIMIT_NOFILE inside its user namespace, which has no
 * CAP_SYS_RESOURCE over the host, so setrlimit() fails with EPERM above
 * the caller's hard limit, even for root, and above fs.nr_open always.
 * Check it here, where the message can name the value and the maximum.
 * NOTE: with --sandbox none, root could raise the hard limit up to
 * fs.nr_open, which this check does not allow.
 */
static int check_open_files(const struct sandbox_policy *p,
			    const char *what, const char *name)
{
	uint64_t nr_open = read_nr_open(), want = p->limits.open_files;
	/* The user cannot lower the limit in a recorded policy, only
	 * replay under a policy file of their own. */
	const char *limit_fix = strcmp(what, "policy") == 0
				    ? "lower limits.open_files to at most"
				    : "replay with --policy FILE whose "
				      "limits.open_files is at most";
	struct rlimit rl;

	if (nr_open && want > nr_open) {
		sandbox_set_error("cannot apply %s: '%s': limits.open_files: "
				  "%" PRIu64 ": more than the kernel allows "
				  "(%" PRIu64 ")", what, name, want, nr_open);
		sandbox_set_hint("%s %" PRIu64 ", the kernel's maximum in "
				 "/proc/sys/fs/nr_open", limit_fix, nr_open);
		return -1;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_max == RLIM_INFINITY ||
	    want <= rl.rlim_max)
		return 0;
	sandbox_set_error("cannot apply %s: '%s': limits.open_files: %" PRIu64
			  ": more than the hard limit of this process "
			  "(%" PRIu64 ")", what, name, want,
			  (uint64_t)rl.rlim_max);
	sandbox_set_hint("%s %" PRIu64 ", or raise the hard limit with "
			 "'ulimit -Hn' before running runbundle, up to the "
			 "kernel's maximum in /proc/sys/fs/nr_open "
			 "(%" PRIu64 ")", limit_fix, (uint64_t)rl.rlim_max,
			 nr_open);
	return -1;
}

static struct sandbox_policy *load(const char *path, const char *what,
				   const char *name)
{
	struct sandbox_policy *p;
	size_t len;
	char *text;

	text = read_small_file(path, what, &len);
	if (!text)
		return NULL;
	p = parse(text, len, what, name);
	free(text);
	if (p && check_open_files(p, what, name) < 0) {
		sandbox_policy_free(p);
		return NULL;
	}
	return p;
}

struct sandbox_policy *sandbox_policy_load(const char *path)
{
	return load(path, "policy", path);
}

struct sandbox_policy *sandbox_policy_load_recorded(const char *path,
						    const char *bundle)
{
	return load(path, "recorded policy", bundle);
}

/* The PATH that sandbox_env_build() gives the command. */
static const char *sandbox_path(const struct sandbox_policy *p)
{
	const char *host = getenv("PATH");

	for (size_t i = 0; i < p->env_set_count; i++) {
		if (strcmp(p->env_set[i].name, "PATH") == 0 &&
		    !sandbox_env_matches(&p->env_secrets, "PATH"))
			return p->env_set[i].value;
	}
	if (host && sandbox_env_matches(&p->env_pass, "PATH") &&
	    !sandbox_env_matches(&p->env_secrets, "PATH"))
		return host;
	return SANDBOX_DEFAULT_PATH;
}

static bool is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Look name up the way the Landlock rules do (landlock.c): an absolute
 * path as it is, a name in each directory of the PATH. */
static bool exec_exists(const char *name, const char *dirs)
{
	char path[PATH_MAX * 2];

	if (name[0] == '/')
		return is_file(name);
	while (*dirs) {
		size_t n = strcspn(dirs, ":");

		snprintf(path, sizeof(path), "%.*s/%s", (int)n, dirs, name);
		if (n && is_file(path))
			return true;
		dirs += n;
		if (*dirs == ':')
			dirs++;
	}
	return false;
}

const char *sandbox_policy_missing_exec(const struct sandbox_policy *policy,
					size_t *next)
{
	const struct sandbox_strings *allow = &policy->exec_allow;
	const char *dirs = sandbox_path(policy);

	while (*next < allow->count) {
		const char *name = allow->items[(*next)++];

		if (!exec_exists(name, dirs))
			return name;
	}
	return NULL;
}

const char *sandbox_policy_missing_exec_reason(const char *name)
{
	struct stat st;

	if (name[0] != '/')
		return "not found in the sandbox's PATH";
	return stat(name, &st) == 0 ? "not a regular file" : "no such file";
}

bool sandbox_env_matches(const struct sandbox_strings *patterns,
			 const char *name)
{
	for (size_t i = 0; i < patterns->count; i++) {
		const char *pat = patterns->items[i];
		size_t n = strlen(pat);

		if (n && pat[n - 1] == '*') {
			if (strncmp(pat, name, n - 1) == 0)
				return true;
		} else if (strcmp(pat, name) == 0) {
			return true;
		}
	}
	return false;
}

static cJSON *strings_json(const struct sandbox_strings *list)
{
	cJSON *array = cJSON_CreateArray();

	for (size_t i = 0; array && i < list->count; i++)
		cJSON_AddItemToArray(array,
				     cJSON_CreateString(list->items[i]));
	return array;
}

static void add_section(cJSON *root, const char *key, const char *const *k,
			const struct sandbox_strings *const *v, size_t n)
{
	cJSON *o = cJSON_AddObjectToObject(root, key);

	for (size_t i = 0; o && i < n; i++)
		cJSON_AddItemToObject(o, k[i], strings_json(v[i]));
}

static void add_limits(cJSON *root, const struct sandbox_limits *l)
{
	cJSON *o = cJSON_AddObjectToObject(root, "limits");

	if (!o)
		return;
	cJSON_AddNumberToObject(o, "timeout_seconds",
				(double)l->timeout_seconds);
	cJSON_AddNumberToObject(o, "cpu_seconds", (double)l->cpu_seconds);
	cJSON_AddNumberToObject(o, "memory_bytes", (double)l->memory_bytes);
	cJSON_AddNumberToObject(o, "processes", (double)l->processes);
	cJSON_AddNumberToObject(o, "file_size_bytes",
				(double)l->file_size_bytes);
	cJSON_AddNumberToObject(o, "open_files", (double)l->open_files);
}

static void add_env(cJSON *root, const struct sandbox_policy *p)
{
	cJSON *o = cJSON_AddObjectToObject(root, "env");
	cJSON *set;

	if (!o)
		return;
	cJSON_AddItemToObject(o, "pass", strings_json(&p->env_pass));
	set = cJSON_AddObjectToObject(o, "set");
	for (size_t i = 0; set && i < p->env_set_count; i++)
		cJSON_AddStringToObject(set, p->env_set[i].name,
					p->env_set[i].value);
	cJSON_AddItemToObject(o, "secrets", strings_json(&p->env_secrets));
}

cJSON *sandbox_policy_to_json(const struct sandbox_policy *p)
{
	static const char *const ws_keys[] = { "writable", "read_only",
					       "hidden" };
	static const char *const fs_keys[] = { "read_only", "hidden" };
	static const char *const ex_keys[] = { "allow", "deny" };
	static const char *const net_keys[] = { "allow" };
	static const char *const match_keys[] = { "rules" };
	static const char *const snap_keys[] = { "exclude" };
	const struct sandbox_strings *ws[] = { &p->workspace_writable,
					       &p->workspace_read_only,
					       &p->workspace_hidden };
	const struct sandbox_strings *fs[] = { &p->read_only, &p->hidden };
	const struct sandbox_strings *ex[] = { &p->exec_allow, &p->exec_deny };
	const struct sandbox_strings *net[] = { &p->network_allow };
	const struct sandbox_strings *match[] = { &p->match_rules };
	const struct sandbox_strings *snap[] = { &p->snapshot_exclude };
	cJSON *root = cJSON_CreateObject();
	cJSON *home;

	if (!root)
		return NULL;
	cJSON_AddNumberToObject(root, "version", SANDBOX_POLICY_VERSION);
	cJSON_AddStringToObject(root, "hostname", p->hostname);
	cJSON_AddBoolToObject(root, "nested_userns", p->allow_nested_userns);
	add_section(root, "workspace", ws_keys, ws, N(ws));
	add_section(root, "filesystem", fs_keys, fs, N(fs));
	home = cJSON_AddObjectToObject(root, "home");
	if (home) {
		cJSON_AddStringToObject(home, "path", p->home_path);
		if (p->home_seed)
			cJSON_AddStringToObject(home, "seed", p->home_seed);
		else
			cJSON_AddNullToObject(home, "seed");
	}
	add_section(root, "exec", ex_keys, ex, N(ex));
	add_section(root, "network", net_keys, net, N(net));
	add_limits(root, &p->limits);
	add_env(root, p);
	add_section(root, "matching", match_keys, match, N(match));
	add_section(root, "snapshot", snap_keys, snap, N(snap));
	return root;
}
