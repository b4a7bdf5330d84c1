/*
 * fingerprint.h - the environment a run happened in, and what differs
 * between two such environments.
 *
 * A fingerprint is a cJSON object, because it is stored in bundles as
 * JSON and compared field by field at replay. docs/tracing.md lists its
 * fields. The collector fills what it can read from this machine; the
 * caller adds the sandbox description, the policy and the executables
 * that ran.
 *
 * Invariants:
 *  1. Environment values whose names match a secret pattern are stored
 *     as null, never as their value.
 *  2. A field that cannot be read (when /etc/os-release is missing, for
 *     example) is null, not absent, so that a comparison reports it as
 *     unknown.
 *
 * Errors: functions return NULL or -1 when memory runs out or an
 * argument is invalid, with the message in harness_error().
 */
#ifndef HARNESS_FINGERPRINT_H
#define HARNESS_FINGERPRINT_H

struct cJSON;

struct harness_fingerprint_options {
	/* fnmatch(3) patterns of environment names whose values are
	 * secrets, NULL-terminated; NULL for none. */
	const char *const *secret_names;
	/* The environment to record; NULL for this process's. */
	char *const *environment;
};

/*
 * Name patterns of environment variables that usually hold secrets (API
 * keys, tokens, passwords), NULL-terminated: the default of the commands
 * when the user gives none.
 */
extern const char *const harness_default_secret_names[];

/* Collect this machine's fingerprint. The caller owns the result
 * (cJSON_Delete). */
struct cJSON *harness_fingerprint_collect(
	const struct harness_fingerprint_options *options);

/* Store the sandbox's description of what it enforced. Takes ownership
 * of description, also on failure. */
int harness_fingerprint_set_sandbox(struct cJSON *fingerprint,
				    struct cJSON *description);

/* Store the policy's digest and its content (either may be NULL). */
int harness_fingerprint_set_policy(struct cJSON *fingerprint,
				   const char *digest, const char *content);

/* Record an executable that ran: its resolved path and SHA-256 in hex.
 * A path already recorded with the same hash is not added again. */
int harness_fingerprint_add_executable(struct cJSON *fingerprint,
				       const char *path, const char *sha256);

/*
 * List every difference between a recorded and a current fingerprint that
 * could change how a run behaves: an array of objects with "field",
 * "recorded", "current" and "reason". An empty array when they match.
 * The caller owns the result. Executables are compared by path: a
 * recorded path that is now missing or has another hash is a difference;
 * one that only the current fingerprint has is not, because a replay
 * records its own.
 */
struct cJSON *harness_fingerprint_compare(const struct cJSON *recorded,
					  const struct cJSON *current);

/* The differences as text, one line each:
 * "FIELD: recorded 'A', now 'B': REASON". The caller frees. */
char *harness_fingerprint_diff_text(const struct cJSON *differences);

#endif
