/*
 * policy.h - the sandbox policy: what an agent may see, write, execute
 * and reach, read from a versioned JSON file (docs/policy.md).
 *
 * Invariants of a parsed policy:
 *
 *  1. Every path in filesystem.* and exec.* is absolute and normalised:
 *     no ".", "..", empty or trailing components. Every path in
 *     workspace.* is relative to the workspace and normalised the same
 *     way, and "." means the whole workspace.
 *  2. Every network.allow entry is "host:port" with port 1 to 65535.
 *  3. A limit of 0 means "no limit". limits.processes is 0 or at least
 *     SANDBOX_MIN_PROCESSES, limits.memory_bytes 0 or at least
 *     SANDBOX_MIN_MEMORY_BYTES, limits.open_files 0 or at least
 *     SANDBOX_MIN_OPEN_FILES, limits.file_size_bytes at most
 *     SANDBOX_MAX_FILE_SIZE_BYTES. A policy read by sandbox_policy_load()
 *     also has limits.open_files within the caller's hard RLIMIT_NOFILE
 *     and the kernel's maximum, /proc/sys/fs/nr_open.
 *  4. hostname is an RFC 1123 label, no string contains a NUL, and no
 *     object repeats a key.
 *  5. home.path is not, does not contain and does not lie inside a
 *     system path or a path of filesystem.read_only, and is not and
 *     does not contain / or /tmp. Whether it overlaps the workspace is
 *     checked at launch.
 *  6. Every string is owned by the policy and freed by
 *     sandbox_policy_free().
 *
 * Errors: parsing functions return NULL and store a message that names
 * the file, the JSON path and the reason, for example
 *
 *	policy.json: network.allow[2]: "example.com:99999": port out of range
 */
#ifndef SANDBOX_POLICY_H
#define SANDBOX_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* The policy format version this library reads and writes. */
#define SANDBOX_POLICY_VERSION 1

/* A list of strings, owned by the policy. */
struct sandbox_strings {
	char **items;
	size_t count;
};

/* One "NAME": "VALUE" pair of env.set. */
struct sandbox_env_pair {
	char *name;
	char *value;
};

/* The sandbox's helper, init and the command count against
 * limits.processes from the start, so a smaller limit is rejected. */
#define SANDBOX_MIN_PROCESSES 3

/* The smallest limits.memory_bytes: 16 MiB. Under RLIMIT_AS, /bin/true
 * needs about 2.5 MiB of address space, dash and bash about 4 MiB and
 * python3 16 MiB (measured on Debian 12, x86_64). */
#define SANDBOX_MIN_MEMORY_BYTES (16ULL << 20)

/* The smallest limits.open_files: 32. /bin/true needs 4 descriptors,
 * and dash needs 11, because it moves the descriptors that it saves
 * around a redirection to 10 and above. */
#define SANDBOX_MIN_OPEN_FILES 32

/* The largest limits.file_size_bytes: 2^63 - 1. The kernel compares a
 * file offset, a signed 64-bit number, with RLIMIT_FSIZE taken as one,
 * so a larger limit reads as negative and every write fails with
 * SIGXFSZ. */
#define SANDBOX_MAX_FILE_SIZE_BYTES ((uint64_t)INT64_MAX)

struct sandbox_limits {
	uint64_t timeout_seconds;	/* wall clock, whole tree */
	uint64_t cpu_seconds;		/* per process under rlimits */
	uint64_t memory_bytes;
	uint64_t processes;
	uint64_t file_size_bytes;
	uint64_t open_files;
};

struct sandbox_policy {
	struct sandbox_strings workspace_writable;	/* relative */
	struct sandbox_strings workspace_read_only;	/* relative */
	struct sandbox_strings workspace_hidden;	/* relative */

	struct sandbox_strings read_only;	/* host dirs bound read-only */
	struct sandbox_strings hidden;		/* masked inside the sandbox */

	char *home_path;	/* HOME inside the sandbox */
	char *home_seed;	/* host directory copied into HOME, or NULL */

	struct sandbox_strings exec_allow;	/* names or absolute paths;
						 * empty: everything */
	struct sandbox_strings exec_deny;	/* names or absolute paths */

	struct sandbox_strings network_allow;	/* "host:port" via proxy */

	struct sandbox_limits limits;

	struct sandbox_strings env_pass;	/* names, "PREFIX*" */
	struct sandbox_env_pair *env_set;
	size_t env_set_count;
	struct sandbox_strings env_secrets;	/* never inside */

	char *hostname;
	bool allow_nested_userns;

	struct sandbox_strings match_rules;	/* "regex:..." or "path:...",
						 * for replay's matcher */

	struct sandbox_strings snapshot_exclude;	/* fnmatch(3) patterns
							 * that the recorder
							 * leaves out of its
							 * snapshots */
};

/*
 * Read and check the policy file at path, for a launch on this machine:
 * beyond what sandbox_policy_parse() checks, limits.open_files must not
 * exceed the caller's hard RLIMIT_NOFILE or /proc/sys/fs/nr_open. The
 * messages name the file as path gives it. Returns a policy the caller
 * frees with sandbox_policy_free(), or NULL with a message and a hint.
 */
struct sandbox_policy *sandbox_policy_load(const char *path);

/*
 * As sandbox_policy_load(), for the policy that bundle recorded, copied
 * to path: the messages name the bundle, because path is a copy that
 * the user never wrote.
 */
struct sandbox_policy *sandbox_policy_load_recorded(const char *path,
						    const char *bundle);

/*
 * Find the next entry of exec.allow, from index *next on, that names
 * no regular file: an absolute path that is not one, or a name found
 * in no directory of the sandbox's PATH. That PATH is env.set's,
 * else the caller's when env.pass lets it through, else the default.
 * Such an entry allows nothing, so a command warns about it.
 * Returns the entry, owned by the policy, and moves *next past it, or
 * returns NULL when no entry is left. Start with *next = 0.
 */
const char *sandbox_policy_missing_exec(const struct sandbox_policy *policy,
					size_t *next);

/* Return why the exec.allow entry name, which
 * sandbox_policy_missing_exec() returned, allows nothing. */
const char *sandbox_policy_missing_exec_reason(const char *name);

/*
 * Parse and check a policy from JSON text. The messages quote name, the
 * file that the text came from. Returns a policy the caller frees, or
 * NULL with a message.
 */
struct sandbox_policy *sandbox_policy_parse(const char *text, size_t len,
					    const char *name);

/* As sandbox_policy_parse(), for the policy that bundle recorded. */
struct sandbox_policy *sandbox_policy_parse_recorded(const char *text,
						     size_t len,
						     const char *bundle);

/* The built-in default policy (docs/policy.md lists it). Returns a
 * policy the caller frees, or NULL when memory runs out. */
struct sandbox_policy *sandbox_policy_default(void);

/* The policy as JSON in the file format, every key written out. The
 * caller owns the object. Returns NULL when memory runs out. */
cJSON *sandbox_policy_to_json(const struct sandbox_policy *policy);

void sandbox_policy_free(struct sandbox_policy *policy);

/* True when the environment variable name matches a pattern list
 * entry: an exact name, or a prefix ending in '*'. */
bool sandbox_env_matches(const struct sandbox_strings *patterns,
			 const char *name);

/*
 * Return why pattern, a snapshot exclude, can match no path of a
 * snapshot, or NULL when it can. A snapshot exclude is an fnmatch(3)
 * pattern in the snapshot code's syntax (bundle/snapshot.h): a name, or
 * with '/' a path from the snapshot's root. *fix is set to the fix, or
 * NULL when the reason says it. Both texts are static.
 */
const char *sandbox_exclude_flaw(const char *pattern, const char **fix);

#endif
