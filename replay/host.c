/*
 * host.c - what differs between this host and the one that recorded a
 * run: the fingerprint comparison of harness/, with the executables that
 * the run executed hashed again here.
 */
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

/* The SHA-256 of a file as hex, or "" when it cannot be read. */
static void hash_file(const char *path, char hex[65])
{
	unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int len = 0;
	const char *reason;
	/* A FIFO or a device at the path would block the open or the read. */
	int fd = harness_open_input(path, &reason);
	ssize_t got = 0;

	hex[0] = '\0';
	if (fd < 0 || !ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
		goto out;
	while ((got = read(fd, buf, sizeof(buf))) > 0)
		EVP_DigestUpdate(ctx, buf, (size_t)got);
	if (got == 0 && EVP_DigestFinal_ex(ctx, md, &len)) {
		for (unsigned int i = 0; i < len && i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
	}
out:
	if (fd >= 0)
		close(fd);
	EVP_MD_CTX_free(ctx);
}

/* A path inside the recorded workspace comes from the bundle's own
 * snapshot, so it is the recorded file. */
static bool in_workspace(const struct replay_host_map *map, const char *path)
{
	size_t n = map->inside ? strlen(map->inside) : 0;

	return n && strncmp(path, map->inside, n) == 0 && path[n] == '/';
}

static int add_executables(cJSON *current, const cJSON *recorded,
			   const struct replay_host_map *map)
{
	const cJSON *list = cJSON_GetObjectItem(recorded, "executables");
	const cJSON *item;
	char hex[65];

	cJSON_ArrayForEach(item, list)
	{
		const char *p =
			cJSON_GetStringValue(cJSON_GetObjectItem(item, "path"));

		if (!p)
			continue;
		if (in_workspace(map, p))
			snprintf(hex, sizeof(hex), "%s",
				 cJSON_GetStringValue(
					 cJSON_GetObjectItem(item, "sha256"))
					 ?: "");
		else
			hash_file(p, hex);
		if (hex[0] &&
		    harness_fingerprint_add_executable(current, p, hex) < 0)
			return -1;
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
	cJSON *current, *diff = NULL;

	if (!recorded)
		return cJSON_CreateArray();
	current = harness_fingerprint_collect(&fo);
	if (!current || add_executables(current, recorded, map) < 0) {
		replay_set_error("cannot fingerprint this host: %s",
				 harness_error());
		cJSON_Delete(current);
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
	cJSON_Delete(current);
	return diff;
}
