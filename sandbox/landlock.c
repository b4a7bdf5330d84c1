/*
 * landlock.c - the Landlock ruleset of the agent, at the best ABI the
 * kernel offers.
 *
 * Reads are not handled: what the agent may read is what the mount
 * namespace shows it. Writes of every kind are handled and granted only
 * beneath the writable parts of the workspace, /tmp, HOME and the
 * devices. Execution is handled only when the policy has an exec
 * allowlist. It is then granted on the listed programs and on the
 * dynamic loaders, because the kernel opens those for execution too.
 * From ABI 6 the ruleset also scopes abstract Unix sockets and signals
 * to the sandbox.
 *
 * The Debian 12 headers define rights up to ABI 2 only, so the newer
 * constants and the three-field ruleset attribute are defined here
 * (values from the kernel's include/uapi/linux/landlock.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/error.h"
#include "sandbox/internal.h"

#define LL_TRUNCATE (1ULL << 14)		/* ABI 3 */
#define LL_IOCTL_DEV (1ULL << 15)		/* ABI 5 */
#define LL_SCOPE_ABSTRACT_UNIX (1ULL << 0)	/* ABI 6 */
#define LL_SCOPE_SIGNAL (1ULL << 1)		/* ABI 6 */

/* struct landlock_ruleset_attr as of ABI 6. */
struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

#define LL_WRITE_V1                                                        \
	(LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |   \
	 LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR |   \
	 LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |       \
	 LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO |     \
	 LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM)

/* The rights that a rule on a file (not a directory) may carry. */
#define LL_FILE_RIGHTS                                                     \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |      \
	 LANDLOCK_ACCESS_FS_READ_FILE | LL_TRUNCATE | LL_IOCTL_DEV)

/* Where the kernel's ELF interpreters live on glibc and musl systems. */
static const char *const loader_globs[] = {
	"/lib*/ld-linux*", "/lib/*/ld-linux*", "/usr/lib*/ld-linux*",
	"/usr/lib/*/ld-linux*", "/lib/ld-musl*",
};

int sandbox_landlock_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
			   LANDLOCK_CREATE_RULESET_VERSION);

	return abi < 0 ? 0 : (int)abi;
}

static uint64_t write_rights(int abi)
{
	uint64_t r = LL_WRITE_V1;

	if (abi >= 2)
		r |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		r |= LL_TRUNCATE;
	if (abi >= 5)
		r |= LL_IOCTL_DEV;
	return r;
}

static uint64_t handled_rights(const struct sandbox_plan *plan)
{
	uint64_t r = write_rights(plan->landlock_abi);

	if (plan->policy->exec_allow.count)
		r |= LANDLOCK_ACCESS_FS_EXECUTE;
	return r;
}

/* Grant rights beneath path. A missing path is skipped: it cannot be
 * reached anyway. */
static int add_rule(int ruleset, const char *path, uint64_t rights,
		    uint64_t handled)
{
	struct landlock_path_beneath_attr rule = { .parent_fd = -1 };
	struct stat st;
	int rc;

	rule.parent_fd = open(path, O_PATH | O_CLOEXEC);
	if (rule.parent_fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (fstat(rule.parent_fd, &st) == 0 && !S_ISDIR(st.st_mode))
		rights &= LL_FILE_RIGHTS;
	rule.allowed_access = rights & handled;
	rc = rule.allowed_access ?
		(int)syscall(SYS_landlock_add_rule, ruleset,
			     LANDLOCK_RULE_PATH_BENEATH, &rule, 0) : 0;
	close(rule.parent_fd);
	return rc;
}

static int add_write_rules(int ruleset, const struct sandbox_plan *plan,
			   uint64_t handled)
{
	const struct sandbox_strings *w = &plan->policy->workspace_writable;
	uint64_t all = write_rights(plan->landlock_abi);
	uint64_t dev = LANDLOCK_ACCESS_FS_WRITE_FILE | LL_TRUNCATE |
		       LL_IOCTL_DEV;
	char path[PATH_MAX * 2];

	for (size_t i = 0; i < w->count; i++) {
		if (strcmp(w->items[i], ".") == 0)
			snprintf(path, sizeof(path), "%s", plan->inside);
		else
			snprintf(path, sizeof(path), "%s/%s", plan->inside,
				 w->items[i]);
		if (add_rule(ruleset, path, all, handled) < 0)
			return -1;
	}
	if (add_rule(ruleset, "/tmp", all, handled) < 0 ||
	    add_rule(ruleset, plan->policy->home_path, all, handled) < 0 ||
	    add_rule(ruleset, "/dev", dev, handled) < 0 ||
	    add_rule(ruleset, "/dev/shm", all, handled) < 0)
		return -1;
	return 0;
}

/*
 * Grant execute on the program at path, and nothing on a directory. A
 * rule on a directory grants execute on every file beneath it, so the
 * entry "X11", found as /usr/bin/X11 -> ., would allow all of /usr/bin,
 * while the policy check warns that the entry allows nothing.
 */
static int add_program_rule(int ruleset, const char *path, uint64_t handled)
{
	struct landlock_path_beneath_attr rule = { .parent_fd = -1 };
	struct stat st;
	int rc = 0;

	rule.parent_fd = open(path, O_PATH | O_CLOEXEC);
	if (rule.parent_fd < 0)
		return errno == ENOENT ? 0 : -1;
	rule.allowed_access = LANDLOCK_ACCESS_FS_EXECUTE & handled;
	if (fstat(rule.parent_fd, &st) < 0)
		rc = -1;
	else if (S_ISREG(st.st_mode) && rule.allowed_access)
		rc = (int)syscall(SYS_landlock_add_rule, ruleset,
				  LANDLOCK_RULE_PATH_BENEATH, &rule, 0);
	close(rule.parent_fd);
	return rc;
}

/* Resolve a command name through PATH to the file that execve() runs. */
static int add_exec_rule(int ruleset, const struct sandbox_plan *plan,
			 const char *name, uint64_t handled)
{
	const char *dir = sandbox_plan_path(plan);
	char path[PATH_MAX * 2], real[PATH_MAX];

	if (name[0] == '/') {
		if (realpath(name, real))
			return add_program_rule(ruleset, real, handled);
		return 0;
	}
	while (*dir) {
		size_t n = strcspn(dir, ":");

		snprintf(path, sizeof(path), "%.*s/%s", (int)n, dir, name);
		if (n && realpath(path, real) &&
		    add_program_rule(ruleset, real, handled) < 0)
			return -1;
		dir += n;
		if (*dir == ':')
			dir++;
	}
	return 0;
}

/* Call fn with the real path of each file that pattern matches, until
 * fn returns nonzero. Returns that value, or 0. */
static int each_match(const char *pattern,
		      int (*fn)(const char *path, void *arg), void *arg)
{
	int rc = 0;
	glob_t g;

	if (glob(pattern, 0, NULL, &g) != 0)
		return 0;
	for (size_t j = 0; j < g.gl_pathc && rc == 0; j++) {
		char real[PATH_MAX];

		if (realpath(g.gl_pathv[j], real))
			rc = fn(real, arg);
	}
	globfree(&g);
	return rc;
}

int sandbox_each_loader(int (*fn)(const char *path, void *arg), void *arg)
{
	for (size_t i = 0; i < sizeof(loader_globs) / sizeof(*loader_globs);
	     i++) {
		int rc = each_match(loader_globs[i], fn, arg);

		if (rc)
			return rc;
	}
	return 0;
}

/* The ruleset and its handled rights, for add_loader_rule(). */
struct loader_rules {
	int ruleset;
	uint64_t handled;
};

static int add_loader_rule(const char *path, void *arg)
{
	const struct loader_rules *r = arg;

	return add_program_rule(r->ruleset, path, r->handled);
}

/* NOTE: a memfd lies outside every rule, so the allowlist stops
 * memfd_create() plus execveat() only where init could set
 * vm.memfd_noexec (mounts.c), which needs a caller that is host root. */
static int add_exec_rules(int ruleset, const struct sandbox_plan *plan,
			  uint64_t handled)
{
	const struct sandbox_strings *allow = &plan->policy->exec_allow;
	struct loader_rules rules = { ruleset, handled };

	for (size_t i = 0; i < allow->count; i++) {
		if (add_exec_rule(ruleset, plan, allow->items[i], handled) < 0)
			return -1;
	}
	return sandbox_each_loader(add_loader_rule, &rules) ? -1 : 0;
}

int sandbox_landlock_apply(const struct sandbox_plan *plan)
{
	struct ll_ruleset_attr attr = { 0 };
	size_t size = sizeof(uint64_t);
	int ruleset, rc = -1;

	if (plan->landlock_abi < 1)
		return 0;
	attr.handled_access_fs = handled_rights(plan);
	if (plan->landlock_abi >= 6) {
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
		size = sizeof(attr);
	} else if (plan->landlock_abi >= 4) {
		size = 2 * sizeof(uint64_t);
	}
	ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (ruleset < 0)
		goto out;
	if (add_write_rules(ruleset, plan, attr.handled_access_fs) < 0)
		goto out;
	if (plan->policy->exec_allow.count &&
	    add_exec_rules(ruleset, plan, attr.handled_access_fs) < 0)
		goto out;
	/* landlock_restrict_self needs no_new_privs without CAP_SYS_ADMIN
	 * in the initial namespace; sandbox_privs_drop() set it. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0)
		sandbox_set_error("cannot apply the Landlock ruleset: "
				  "'ABI %d': %s", plan->landlock_abi,
				  strerror(errno));
	if (ruleset >= 0)
		close(ruleset);
	return rc;
}

static void add_rights(cJSON *array, uint64_t rights)
{
	static const char *const names[] = {
		"execute", "write_file", "read_file", "read_dir",
		"remove_dir", "remove_file", "make_char", "make_dir",
		"make_reg", "make_sock", "make_fifo", "make_block",
		"make_sym", "refer", "truncate", "ioctl_dev",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		if (rights & (1ULL << i))
			cJSON_AddItemToArray(array,
					     cJSON_CreateString(names[i]));
	}
}

cJSON *sandbox_landlock_describe(const struct sandbox_plan *plan)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *scoped;

	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "abi", plan->landlock_abi);
	if (plan->landlock_abi < 1)
		return o;
	add_rights(cJSON_AddArrayToObject(o, "handled_fs"),
		   handled_rights(plan));
	scoped = cJSON_AddArrayToObject(o, "scoped");
	if (plan->landlock_abi >= 6) {
		cJSON_AddItemToArray(
			scoped, cJSON_CreateString("abstract_unix_socket"));
		cJSON_AddItemToArray(scoped, cJSON_CreateString("signal"));
	}
	return o;
}
