/*
 * host.c - what differs between this host and the one that recorded a
 * run: the fingerprint comparison of harness/, with the executables that
 * the run executed hashed again here.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "harness/error.h"
#include "harness/fingerprint.h"
#include "harness/input_file.h"
#include "harness/redact.h"
#include "replay/session.h"

/* Write the SHA-256 of the file at path into hex, or "" when the file
 * cannot be read, with *err set to its errno (0 for another cause) and
 * *cause to its text. */
static void hash_file(const char *path, char hex[65], int *err,
		      const char **cause)
{
	unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int len = 0;
	const char *reason;
	ssize_t got = 0;
	int fd;

	/* harness_open_input() leaves errno alone for a file that opens
	 * but is no regular file. */
	errno = 0;
	/* A FIFO or a device at the path would block the open or the read. */
	fd = harness_open_input(path, &reason);
	hex[0] = '\0';
	*err = errno;
	*cause = fd < 0 ? reason : "out of memory";
	if (fd < 0 || !ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
		goto out;
	while ((got = read(fd, buf, sizeof(buf))) > 0)
		EVP_DigestUpdate(ctx, buf, (size_t)got);
	if (got < 0) {
		*err = errno;
		*cause = strerror(errno);
	}
	if (got == 0 && EVP_DigestFinal_ex(ctx, md, &len)) {
		for (unsigned int i = 0; i < len && i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
	}
out:
	if (fd >= 0)
		close(fd);
	EVP_MD_CTX_free(ctx);
}

/*
 * Return why this host's file cannot replace the recorded executable.
 * The comparison alone prints "did not run or is missing", which hides
 * the usual cause in a replay: a program that only the recording's user
 * (root on CI) may read.
 */
static char *unhashed_reason(int err, const char *cause)
{
	char *text = NULL;

	if (err == ENOENT || err == ENOTDIR)
		return strdup("this executable is missing on this host, so "
			      "a run that needs it diverges; install it at "
			      "that path");
	if (err == EACCES || err == EPERM) {
		if (asprintf(&text, "this executable cannot be read here "
			     "(%s), so the replay cannot tell whether it is "
			     "the recorded one, and the agent, as uid %u on "
			     "this host, may not run it; make it readable "
			     "for this user, or replay as a user who can "
			     "read it", cause, (unsigned)getuid()) < 0)
			return NULL;
		return text;
	}
	if (asprintf(&text, "this executable cannot be read here (%s), so "
		     "the replay cannot tell whether it is the recorded one",
		     cause) < 0)
		return NULL;
	return text;
}

/* A path inside the recorded workspace comes from the bundle's own
 * snapshot, so it is the recorded file. */
static bool in_workspace(const struct replay_host_map *map, const char *path)
{
	size_t n = map->inside ? strlen(map->inside) : 0;

	return n && strncmp(path, map->inside, n) == 0 && path[n] == '/';
}

/* Store in reasons, by path, why the file at path could not be hashed
 * (errno err, text cause). */
static int note_unhashed(cJSON *reasons, const char *path, int err,
			 const char *cause)
{
	char *reason;

	if (cJSON_GetObjectItemCaseSensitive(reasons, path))
		return 0;
	reason = unhashed_reason(err, cause);
	if (!reason || !cJSON_AddStringToObject(reasons, path, reason)) {
		free(reason);
		harness_set_error("out of memory");
		return -1;
	}
	free(reason);
	return 0;
}

/* Hash each recorded executable here into current, and store in
 * reasons, by path, why each file that failed could not be hashed. */
static int add_executables(cJSON *current, const cJSON *recorded,
			   const struct replay_host_map *map, cJSON *reasons)
{
	const cJSON *list = cJSON_GetObjectItem(recorded, "executables");
	const cJSON *item;
	const char *cause;
	char hex[65];
	int err;

	cJSON_ArrayForEach(item, list)
	{
		const char *p =
			cJSON_GetStringValue(cJSON_GetObjectItem(item, "path"));

		if (!p)
			continue;
		if (in_workspace(map, p)) {
			snprintf(hex, sizeof(hex), "%s",
				 cJSON_GetStringValue(
					 cJSON_GetObjectItem(item, "sha256"))
					 ?: "");
		} else {
			hash_file(p, hex, &err, &cause);
			if (!hex[0] &&
			    note_unhashed(reasons, p, err, cause) < 0)
				return -1;
		}
		if (hex[0] &&
		    harness_fingerprint_add_executable(current, p, hex) < 0)
			return -1;
	}
	return 0;
}

/* Replace the reason of each executable in diff that this host lacks
 * with the one that add_executables() stored. */
static int explain_executables(cJSON *diff, const cJSON *reasons)
{
	static const char prefix[] = "executables.";
	cJSON *d;

	cJSON_ArrayForEach(d, diff) {
		const char *field = cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(d, "field"));
		const cJSON *reason;
		cJSON *text;

		if (!field || strncmp(field, prefix, sizeof(prefix) - 1) != 0)
			continue;
		reason = cJSON_GetObjectItemCaseSensitive(
			reasons, field + sizeof(prefix) - 1);
		if (!cJSON_IsString(reason))
			continue;
		text = cJSON_CreateString(reason->valuestring);
		if (!text || !cJSON_ReplaceItemInObjectCaseSensitive(
				     d, "reason", text)) {
			cJSON_Delete(text);
			return -1;
		}
	}
	return 0;
}

/* What the replay takes from the recording is no difference. */
static void copy_field(cJSON *current, const cJSON *recorded, const char *name)
{
	const cJSON *item = cJSON_GetObjectItem(recorded, name);

	if (item)
		cJSON_ReplaceItemInObject(current, name,
					  cJSON_Duplicate(item, 1));
}

/* Return whether the recorded sandbox had a UTS namespace, whose host
 * name the policy set. The replay's sandbox then has one too. */
static bool own_hostname(const cJSON *recorded)
{
	const cJSON *sandbox = cJSON_GetObjectItem(recorded, "sandbox");
	const cJSON *ns;

	cJSON_ArrayForEach(ns, cJSON_GetObjectItem(sandbox, "namespaces")) {
		if (cJSON_IsString(ns) && strcmp(ns->valuestring, "uts") == 0)
			return true;
	}
	return false;
}

cJSON *replay_host_differences(const cJSON *recorded,
			       const struct replay_host_map *map)
{
	struct harness_fingerprint_options fo = {
		.secret_names = harness_default_secret_names,
	};
	cJSON *current, *diff = NULL, *reasons;

	if (!recorded)
		return cJSON_CreateArray();
	current = harness_fingerprint_collect(&fo);
	reasons = cJSON_CreateObject();
	if (!current || !reasons ||
	    add_executables(current, recorded, map, reasons) < 0) {
		replay_set_error("cannot fingerprint this host: %s",
				 current && reasons ? harness_error()
						    : "out of memory");
		cJSON_Delete(current);
		cJSON_Delete(reasons);
		return NULL;
	}
	copy_field(current, recorded, "sandbox");
	copy_field(current, recorded, "policy");
	copy_field(current, recorded, "environment");
	if (own_hostname(recorded))
		copy_field(current, recorded, "hostname");
	if (map->recorded_env) {
		const cJSON *recorded_zone =
			cJSON_GetObjectItem(recorded, "timezone");
		cJSON *current_zone = cJSON_GetObjectItem(current, "timezone");

		copy_field(current, recorded, "locale");
		/* /etc/localtime and /etc/timezone are this host's files,
		 * which the sandbox shows the agent. */
		if (cJSON_IsObject(recorded_zone) &&
		    cJSON_IsObject(current_zone))
			copy_field(current_zone, recorded_zone, "TZ");
	}
	diff = harness_fingerprint_compare(recorded, current);
	if (!diff)
		replay_set_error("cannot compare fingerprints: %s",
				 harness_error());
	else if (explain_executables(diff, reasons) < 0) {
		replay_set_error("cannot compare fingerprints: out of "
				 "memory");
		cJSON_Delete(diff);
		diff = NULL;
	}
	cJSON_Delete(current);
	cJSON_Delete(reasons);
	return diff;
}
