/*
 * fingerprint_compare.c - what differs between two fingerprints, for a
 * replay to report before it runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness/error.h"
#include "harness/fingerprint.h"

/* The fields compared one to one, and why a difference matters. */
static const struct {
	const char *field;	/* "object.member" or "member" */
	const char *reason;
} fields[] = {
	{ "kernel.release", "system calls and /proc may behave differently" },
	{ "kernel.machine", "another architecture runs other binaries" },
	{ "os.ID", "another distribution ships other tools and libraries" },
	{ "os.VERSION_ID", "another release ships other versions" },
	{ "libc.version", "C library behavior and symbols may differ" },
	{ "cpu.available", "parallel builds and thread pools size by it" },
	{ "cpu.model", "instruction sets and timing may differ" },
	{ "memory.total_bytes", "memory limits and caches size by it" },
	{ "locale.LC_ALL", "sorting, messages and encodings may differ" },
	{ "locale.LC_CTYPE", "character encoding may differ" },
	{ "locale.LC_COLLATE", "sort order may differ" },
	{ "locale.LC_MESSAGES", "program messages may differ" },
	{ "locale.LANG", "sorting, messages and encodings may differ" },
	{ "timezone.TZ", "local times may differ" },
	{ "timezone.localtime", "local times may differ" },
	{ "user.uid", "file ownership and permission checks may differ" },
	{ "user.gid", "file ownership and permission checks may differ" },
	{ "hostname", "programs may read the host name" },
	{ "runbundle_version", "the recorder and the replayer differ" },
	{ "policy.digest", "the sandbox enforces another policy" },
};

static const cJSON *lookup(const cJSON *fp, const char *field)
{
	const char *dot = strchr(field, '.');
	char head[64];

	if (!dot)
		return cJSON_GetObjectItemCaseSensitive(fp, field);
	snprintf(head, sizeof(head), "%.*s", (int)(dot - field), field);
	return cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(fp, head), dot + 1);
}

/* A copy of a value for the report; JSON null when absent. */
static cJSON *copy_or_null(const cJSON *v)
{
	return v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull();
}

static int add_difference(cJSON *list, const char *field, const cJSON *a,
			  const cJSON *b, const char *reason)
{
	cJSON *d = cJSON_CreateObject();

	if (!d || !cJSON_AddStringToObject(d, "field", field) ||
	    !cJSON_AddItemToObject(d, "recorded", copy_or_null(a)) ||
	    !cJSON_AddItemToObject(d, "current", copy_or_null(b)) ||
	    !cJSON_AddStringToObject(d, "reason", reason) ||
	    !cJSON_AddItemToArray(list, d)) {
		cJSON_Delete(d);
		return -1;
	}
	return 0;
}

/* Absent and null are the same: "unknown". */
static int same(const cJSON *a, const cJSON *b)
{
	if (!a || cJSON_IsNull(a))
		return !b || cJSON_IsNull(b);
	return b && cJSON_Compare(a, b, 1);
}

/*
 * Every variable set in either environment with another value. A secret
 * is null on both sides and so compares equal; one that is set on one
 * side only still shows, with null for its value.
 */
static int compare_environment(cJSON *list, const cJSON *ra,
			       const cJSON *rb)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(ra, "environment");
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(rb, "environment");
	const cJSON *item;
	char field[300];

	cJSON_ArrayForEach(item, a) {
		const cJSON *other = cJSON_GetObjectItemCaseSensitive(
			b, item->string);

		if (other && same(item, other))
			continue;
		snprintf(field, sizeof(field), "environment.%s",
			 item->string);
		if (add_difference(list, field, item, other,
				   other ? "the variable has another value"
					 : "the variable is not set now") < 0)
			return -1;
	}
	cJSON_ArrayForEach(item, b) {
		if (cJSON_GetObjectItemCaseSensitive(a, item->string))
			continue;
		snprintf(field, sizeof(field), "environment.%s",
			 item->string);
		if (add_difference(list, field, NULL, item,
				   "the variable was not set") < 0)
			return -1;
	}
	return 0;
}

/*
 * Add a difference for every file of "files" whose SHA-256 differs, or
 * that exists on one side only. A fingerprint written before "files"
 * existed has nothing to compare.
 */
static int compare_files(cJSON *list, const cJSON *ra, const cJSON *rb)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(ra, "files");
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(rb, "files");
	const cJSON *item;
	char field[4200];

	if (!cJSON_IsObject(a))
		return 0;
	cJSON_ArrayForEach(item, a) {
		const cJSON *other =
			cJSON_GetObjectItemCaseSensitive(b, item->string);

		if (same(item, other))
			continue;
		snprintf(field, sizeof(field), "files.%s", item->string);
		if (add_difference(list, field, item, other,
				   "the sandbox shows this host's file, from "
				   "which programs take user, group and host "
				   "names") < 0)
			return -1;
	}
	return 0;
}

/* Return the entry of path in list with the hash sha256, else its first
 * entry, else NULL. A path lists several hashes when the file was
 * replaced during the run, as a program that the agent builds twice. */
static const cJSON *find_executable(const cJSON *list, const char *path,
				    const cJSON *sha256)
{
	const cJSON *item, *first = NULL;

	cJSON_ArrayForEach(item, list) {
		const char *p = cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(item, "path"));

		if (!p || strcmp(p, path) != 0)
			continue;
		if (same(sha256, cJSON_GetObjectItemCaseSensitive(item,
								  "sha256")))
			return item;
		if (!first)
			first = item;
	}
	return first;
}

static int compare_executables(cJSON *list, const cJSON *ra,
			       const cJSON *rb)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(ra, "executables");
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(rb, "executables");
	const cJSON *item;
	char field[4200];

	cJSON_ArrayForEach(item, a) {
		const char *path = cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(item, "path"));
		const cJSON *other;
		const cJSON *ha, *hb;

		if (!path)
			continue;
		ha = cJSON_GetObjectItemCaseSensitive(item, "sha256");
		other = find_executable(b, path, ha);
		hb = other ? cJSON_GetObjectItemCaseSensitive(other, "sha256")
			   : NULL;
		if (other && same(ha, hb))
			continue;
		snprintf(field, sizeof(field), "executables.%s", path);
		if (add_difference(list, field, ha, hb,
				   other ? "a different binary at this path"
					 : "this executable did not run "
					   "or is missing") < 0)
			return -1;
	}
	return 0;
}

cJSON *harness_fingerprint_compare(const cJSON *recorded,
				   const cJSON *current)
{
	cJSON *list = cJSON_CreateArray();
	size_t n = sizeof(fields) / sizeof(fields[0]);

	if (!list)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		const cJSON *a = lookup(recorded, fields[i].field);
		const cJSON *b = lookup(current, fields[i].field);

		if (!same(a, b) && add_difference(list, fields[i].field, a,
						  b, fields[i].reason) < 0)
			goto oom;
	}
	if (!same(cJSON_GetObjectItemCaseSensitive(recorded, "sandbox"),
		  cJSON_GetObjectItemCaseSensitive(current, "sandbox")) &&
	    add_difference(list, "sandbox",
			   cJSON_GetObjectItemCaseSensitive(recorded,
							    "sandbox"),
			   cJSON_GetObjectItemCaseSensitive(current, "sandbox"),
			   "the sandbox enforced something else") < 0)
		goto oom;
	if (compare_environment(list, recorded, current) < 0 ||
	    compare_files(list, recorded, current) < 0 ||
	    compare_executables(list, recorded, current) < 0)
		goto oom;
	return list;
oom:
	cJSON_Delete(list);
	harness_set_error("cannot compare fingerprints: out of memory");
	return NULL;
}

/* A value for a text line: strings bare, null as "unset", other JSON as
 * printed. The caller frees. */
static char *value_text(const cJSON *v)
{
	if (!v || cJSON_IsNull(v))
		return strdup("unset");
	if (cJSON_IsString(v))
		return strdup(v->valuestring);
	return cJSON_PrintUnformatted(v);
}

char *harness_fingerprint_diff_text(const cJSON *differences)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	const cJSON *d;

	if (!out) {
		harness_set_error("cannot format differences: out of memory");
		return NULL;
	}
	cJSON_ArrayForEach(d, differences) {
		char *a = value_text(cJSON_GetObjectItem(d, "recorded"));
		char *b = value_text(cJSON_GetObjectItem(d, "current"));

		fprintf(out, "%s: recorded '%s', now '%s': %s\n",
			cJSON_GetStringValue(cJSON_GetObjectItem(d, "field")),
			a ? a : "?", b ? b : "?",
			cJSON_GetStringValue(cJSON_GetObjectItem(d,
								 "reason")));
		free(a);
		free(b);
	}
	if (fclose(out) != 0) {
		free(text);
		harness_set_error("cannot format differences: out of memory");
		return NULL;
	}
	return text;
}
