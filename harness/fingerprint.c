/*
 * fingerprint.c - collect the environment fingerprint of this machine.
 */
#include <errno.h>
#include <fnmatch.h>
#include <gnu/libc-version.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "config.h"
#include "harness/error.h"
#include "harness/fingerprint.h"
#include "harness/input_file.h"

extern char **environ;

/* Secret name patterns, matched without regard to case, because a name
 * in lower case, such as openai_api_key, can name a secret too. */
const char *const harness_default_secret_names[] = {
	"*_KEY", "*_KEY_*", "*KEY_ID", "*TOKEN*", "*SECRET*", "*PASSWORD*",
	"*PASSWD*", "*CREDENTIAL*", "*_AUTH", "AUTHORIZATION", NULL,
};

/* Add s, or null when s is NULL. */
static void add_text(cJSON *obj, const char *name, const char *s)
{
	if (s)
		cJSON_AddStringToObject(obj, name, s);
	else
		cJSON_AddNullToObject(obj, name);
}

static cJSON *kernel_json(void)
{
	cJSON *obj = cJSON_CreateObject();
	struct utsname u;

	if (uname(&u) < 0) {
		add_text(obj, "sysname", NULL);
		add_text(obj, "release", NULL);
		add_text(obj, "version", NULL);
		add_text(obj, "machine", NULL);
		return obj;
	}
	add_text(obj, "sysname", u.sysname);
	add_text(obj, "release", u.release);
	add_text(obj, "version", u.version);
	add_text(obj, "machine", u.machine);
	return obj;
}

/* One os-release value, unquoted. Shell escapes inside quotes are rare
 * enough in practice that only \" \\ \$ \` are undone. */
static char *os_release_value(const char *raw)
{
	size_t len = strcspn(raw, "\n");
	char *v = malloc(len + 1), *o = v;
	char quote = 0;

	if (!v)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		char c = raw[i];

		if (!quote && (c == '"' || c == '\'') && i == 0) {
			quote = c;
			continue;
		}
		if (quote && c == quote)
			break;
		if (quote == '"' && c == '\\' && i + 1 < len &&
		    strchr("\"\\$`", raw[i + 1]))
			c = raw[++i];
		*o++ = c;
	}
	*o = '\0';
	return v;
}

/* The distribution, from os-release(5): /etc first, then /usr/lib. */
static cJSON *os_json(void)
{
	static const char *const keys[] = { "ID", "VERSION_ID",
					     "VERSION_CODENAME",
					     "PRETTY_NAME" };
	cJSON *obj = cJSON_CreateObject();
	FILE *f = fopen("/etc/os-release", "re");
	char line[1024];

	if (!f)
		f = fopen("/usr/lib/os-release", "re");
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		cJSON_AddNullToObject(obj, keys[i]);
	while (f && fgets(line, sizeof(line), f)) {
		char *eq = strchr(line, '=');

		if (!eq)
			continue;
		*eq = '\0';
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			char *v;

			if (strcmp(line, keys[i]) != 0)
				continue;
			v = os_release_value(eq + 1);
			cJSON_ReplaceItemInObject(obj, keys[i],
						  cJSON_CreateString(v ? v
								       : ""));
			free(v);
		}
	}
	if (f)
		fclose(f);
	return obj;
}

static char *cpu_model(void)
{
	FILE *f = fopen("/proc/cpuinfo", "re");
	char line[512], *model = NULL;

	while (f && !model && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) != 0 || !colon)
			continue;
		colon++;
		colon += strspn(colon, " \t");
		colon[strcspn(colon, "\n")] = '\0';
		model = strdup(colon);
	}
	if (f)
		fclose(f);
	return model;
}

static cJSON *cpu_json(void)
{
	cJSON *obj = cJSON_CreateObject();
	char *model = cpu_model();
	cpu_set_t set;

	add_text(obj, "model", model);
	free(model);
	cJSON_AddNumberToObject(obj, "online",
				(double)sysconf(_SC_NPROCESSORS_ONLN));
	/* What nproc(1) prints: the CPUs this process may run on. */
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		cJSON_AddNumberToObject(obj, "available", CPU_COUNT(&set));
	else
		cJSON_AddNullToObject(obj, "available");
	return obj;
}

static cJSON *memory_json(void)
{
	cJSON *obj = cJSON_CreateObject();
	struct sysinfo si;

	if (sysinfo(&si) == 0) {
		cJSON_AddNumberToObject(obj, "total_bytes",
					(double)si.totalram * si.mem_unit);
		cJSON_AddNumberToObject(obj, "swap_bytes",
					(double)si.totalswap * si.mem_unit);
	} else {
		cJSON_AddNullToObject(obj, "total_bytes");
		cJSON_AddNullToObject(obj, "swap_bytes");
	}
	return obj;
}

static const char *env_get(char *const *env, const char *name)
{
	size_t len = strlen(name);

	for (; env && *env; env++) {
		if (strncmp(*env, name, len) == 0 && (*env)[len] == '=')
			return *env + len + 1;
	}
	return NULL;
}

/* The locale as the environment selects it; see locale(7). */
static cJSON *locale_json(char *const *env)
{
	static const char *const names[] = {
		"LC_ALL", "LC_CTYPE", "LC_COLLATE", "LC_MESSAGES",
		"LC_NUMERIC", "LC_TIME", "LANG", "LANGUAGE",
	};
	cJSON *obj = cJSON_CreateObject();

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		add_text(obj, names[i], env_get(env, names[i]));
	return obj;
}

static char *read_first_line(const char *path)
{
	FILE *f = fopen(path, "re");
	char line[256];
	char *s = NULL;

	if (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		s = strdup(line);
	}
	if (f)
		fclose(f);
	return s;
}

static cJSON *timezone_json(char *const *env)
{
	cJSON *obj = cJSON_CreateObject();
	char link[4096];
	ssize_t n = readlink("/etc/localtime", link, sizeof(link) - 1);
	char *name = read_first_line("/etc/timezone");

	add_text(obj, "TZ", env_get(env, "TZ"));
	if (n >= 0)
		link[n] = '\0';
	add_text(obj, "localtime", n >= 0 ? link : NULL);
	add_text(obj, "name", name);
	free(name);
	return obj;
}

static cJSON *user_json(void)
{
	cJSON *obj = cJSON_CreateObject();
	cJSON *list = cJSON_AddArrayToObject(obj, "groups");
	gid_t groups[256];
	int n = getgroups(256, groups);

	cJSON_AddNumberToObject(obj, "uid", getuid());
	cJSON_AddNumberToObject(obj, "gid", getgid());
	cJSON_AddNumberToObject(obj, "euid", geteuid());
	cJSON_AddNumberToObject(obj, "egid", getegid());
	for (int i = 0; i < n; i++)
		cJSON_AddItemToArray(list, cJSON_CreateNumber(groups[i]));
	return obj;
}

static int is_secret(const char *const *patterns, const char *name)
{
	for (; patterns && *patterns; patterns++) {
		if (fnmatch(*patterns, name, FNM_CASEFOLD) == 0)
			return 1;
	}
	return 0;
}

/* NAME: value, or NAME: null for a secret. An entry without '=' is
 * left out, because no program can read it with getenv. */
static cJSON *environment_json(char *const *env, const char *const *secret)
{
	cJSON *obj = cJSON_CreateObject();

	for (; env && *env; env++) {
		const char *eq = strchr(*env, '=');
		char *name;

		if (!eq)
			continue;
		name = strndup(*env, (size_t)(eq - *env));
		if (!name)
			continue;
		if (!cJSON_GetObjectItemCaseSensitive(obj, name)) {
			if (is_secret(secret, name))
				cJSON_AddNullToObject(obj, name);
			else
				cJSON_AddStringToObject(obj, name, eq + 1);
		}
		free(name);
	}
	return obj;
}

/*
 * Files of this host that the sandbox shows the agent, from which
 * programs take user, group and host names and how names resolve. The
 * recording never stores their content, only its SHA-256, because
 * /etc/passwd and /etc/hosts name the host's users and machines.
 */
static const char *const shown_files[] = {
	"/etc/passwd", "/etc/group", "/etc/hosts", "/etc/resolv.conf",
	"/etc/nsswitch.conf", "/etc/host.conf", "/etc/gai.conf", NULL,
};

/* Return the SHA-256 of path as hex, or NULL when it cannot be read. */
static char *hash_file(const char *path)
{
	unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int len = 0;
	const char *reason;
	int fd = harness_open_input(path, &reason);
	char *hex = NULL;
	ssize_t got = 0;

	if (fd < 0 || !ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
		goto out;
	while ((got = read(fd, buf, sizeof(buf))) > 0)
		EVP_DigestUpdate(ctx, buf, (size_t)got);
	if (got != 0 || !EVP_DigestFinal_ex(ctx, md, &len))
		goto out;
	hex = malloc(2 * len + 1);
	for (unsigned int i = 0; hex && i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
out:
	if (fd >= 0)
		close(fd);
	EVP_MD_CTX_free(ctx);
	return hex;
}

static cJSON *files_json(void)
{
	cJSON *obj = cJSON_CreateObject();

	for (size_t i = 0; obj && shown_files[i]; i++) {
		char *hex = hash_file(shown_files[i]);

		add_text(obj, shown_files[i], hex);
		free(hex);
	}
	return obj;
}

static void add_item(cJSON *fp, const char *name, cJSON *item)
{
	if (!cJSON_AddItemToObject(fp, name, item))
		cJSON_Delete(item);
}

cJSON *harness_fingerprint_collect(
	const struct harness_fingerprint_options *options)
{
	char *const *env = options && options->environment
				   ? options->environment : environ;
	const char *const *secret = options ? options->secret_names : NULL;
	cJSON *fp = cJSON_CreateObject();
	char host[256];

	if (!fp)
		goto oom;
	add_text(fp, "runbundle_version", RUNBUNDLE_VERSION);
	add_item(fp, "kernel", kernel_json());
	add_item(fp, "os", os_json());
	add_item(fp, "libc", cJSON_CreateObject());
	add_text(cJSON_GetObjectItem(fp, "libc"), "name", "glibc");
	add_text(cJSON_GetObjectItem(fp, "libc"), "version",
		 gnu_get_libc_version());
	add_item(fp, "cpu", cpu_json());
	add_item(fp, "memory", memory_json());
	add_item(fp, "locale", locale_json(env));
	add_item(fp, "timezone", timezone_json(env));
	add_item(fp, "user", user_json());
	host[sizeof(host) - 1] = '\0';
	add_text(fp, "hostname",
		 gethostname(host, sizeof(host) - 1) == 0 ? host : NULL);
	add_item(fp, "environment", environment_json(env, secret));
	add_item(fp, "files", files_json());
	cJSON_AddNullToObject(fp, "sandbox");
	cJSON_AddNullToObject(fp, "policy");
	cJSON_AddArrayToObject(fp, "executables");
	if (!cJSON_GetObjectItem(fp, "executables"))
		goto oom;
	return fp;
oom:
	cJSON_Delete(fp);
	harness_set_error("cannot collect the fingerprint: out of memory");
	return NULL;
}

int harness_fingerprint_set_sandbox(cJSON *fingerprint, cJSON *description)
{
	if (!description)
		description = cJSON_CreateNull();
	if (!description || !cJSON_ReplaceItemInObject(fingerprint, "sandbox",
						       description)) {
		cJSON_Delete(description);
		harness_set_error("cannot store the sandbox description: "
				  "out of memory");
		return -1;
	}
	return 0;
}

int harness_fingerprint_set_policy(cJSON *fingerprint, const char *digest,
				   const char *content)
{
	cJSON *policy = cJSON_CreateObject();

	if (policy) {
		add_text(policy, "digest", digest);
		add_text(policy, "content", content);
	}
	if (!policy ||
	    !cJSON_ReplaceItemInObject(fingerprint, "policy", policy)) {
		cJSON_Delete(policy);
		harness_set_error("cannot store the policy: out of memory");
		return -1;
	}
	return 0;
}

int harness_fingerprint_add_executable(cJSON *fingerprint, const char *path,
				       const char *sha256)
{
	cJSON *list = cJSON_GetObjectItem(fingerprint, "executables");
	cJSON *item;

	if (!cJSON_IsArray(list) || !path) {
		harness_set_error("cannot record executable: '%s': %s",
				  path ? path : "(null)",
				  path ? "not a fingerprint" : "no path");
		return -1;
	}
	cJSON_ArrayForEach(item, list) {
		const char *p = cJSON_GetStringValue(
			cJSON_GetObjectItem(item, "path"));
		const char *h = cJSON_GetStringValue(
			cJSON_GetObjectItem(item, "sha256"));

		if (p && strcmp(p, path) == 0 && h && sha256 &&
		    strcmp(h, sha256) == 0)
			return 0;
	}
	item = cJSON_CreateObject();
	if (item) {
		add_text(item, "path", path);
		add_text(item, "sha256", sha256);
	}
	if (!item || !cJSON_AddItemToArray(list, item)) {
		cJSON_Delete(item);
		harness_set_error("cannot record executable: '%s': out of "
				  "memory", path);
		return -1;
	}
	return 0;
}
