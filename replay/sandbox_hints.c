/*
 * sandbox_hints.c - the cause and the fix of each difference of the
 * sandbox that a replay cannot rebuild. The note on the sandbox alone
 * gives only the two values.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "replay/sandbox_hints.h"

static const cJSON *member(const cJSON *object, const char *path)
{
	char name[64];
	const char *dot;

	while ((dot = strchr(path, '.')) != NULL) {
		snprintf(name, sizeof(name), "%.*s", (int)(dot - path), path);
		object = cJSON_GetObjectItemCaseSensitive(object, name);
		path = dot + 1;
	}
	return cJSON_GetObjectItemCaseSensitive(object, path);
}

static bool via_cgroup(const cJSON *limit)
{
	const char *via = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(limit, "via"));

	return via && strncmp(via, "cgroup", 6) == 0;
}

/* Return the rlimit that enforces a limit without a cgroup, named as
 * prlimit(1) names it, or NULL. */
static const char *rlimit_name(const char *limit)
{
	if (strcmp(limit, "processes") == 0)
		return "nproc";
	if (strcmp(limit, "memory_bytes") == 0)
		return "as";
	return NULL;
}

/* Print the soft value of rlimit name that description d gives the
 * agent unchanged, as text. */
static void print_inherited(FILE *out, const cJSON *d, const char *name)
{
	const cJSON *soft = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(
			member(d, "inherited.rlimits"), name),
		"soft");

	if (cJSON_IsNumber(soft))
		fprintf(out, "%.0f", soft->valuedouble);
	else if (cJSON_IsString(soft))
		fputs(soft->valuestring, out);
	else
		fputs("unknown", out);
}

static void print_value(FILE *out, const cJSON *limit)
{
	const cJSON *value = cJSON_GetObjectItemCaseSensitive(limit, "value");

	if (cJSON_IsNumber(value))
		fprintf(out, "%.0f", value->valuedouble);
	else
		fputs("unknown", out);
}

static void hint_limits(FILE *out, const cJSON *recorded,
			const cJSON *present)
{
	const cJSON *limit;

	cJSON_ArrayForEach(limit, member(recorded, "limits")) {
		const cJSON *other = cJSON_GetObjectItemCaseSensitive(
			member(present, "limits"), limit->string);
		const char *rlimit = rlimit_name(limit->string);
		bool a = via_cgroup(limit), b = via_cgroup(other);

		if (!other || a == b)
			continue;
		if (a) {
			fprintf(out, "hint: limits.%s: the recording enforced "
				"it with a cgroup, which this replay, as uid "
				"%u, cannot create, so it is an rlimit of "
				"each process", limit->string,
				(unsigned)getuid());
			if (rlimit) {
				fprintf(out, ": the agent's %s is ", rlimit);
				print_value(out, limit);
				fputs(", where the recorded agent's was ",
				      out);
				print_inherited(out, recorded, rlimit);
			}
			fputs("; replay as root, or in a cgroup v2 that this "
			      "user may manage, such as a systemd scope with "
			      "Delegate=yes (docs/policy.md, \"The "
			      "sandbox\")\n", out);
		} else {
			fprintf(out, "hint: limits.%s: the recording could "
				"not create a cgroup and enforced it as an "
				"rlimit of each process, where this replay "
				"uses a cgroup", limit->string);
			if (rlimit) {
				fprintf(out, ": the agent's %s is this "
					"host's ", rlimit);
				print_inherited(out, present, rlimit);
				fputs(", where the recorded agent's was ",
				      out);
				print_value(out, limit);
			}
			fputs("; replay as a user who cannot create a "
			      "cgroup, as the recording's user could not, to "
			      "rebuild it\n", out);
		}
	}
}

static void hint_memfd(FILE *out, const cJSON *recorded,
		       const cJSON *present)
{
	static const char key[] = "/proc/sys/vm/memfd_noexec";
	const char *a = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
		member(recorded, "sysctls"), key));
	const char *b = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
		member(present, "sysctls"), key));
	bool was = a && strcmp(a, "2") == 0, is = b && strcmp(b, "2") == 0;

	if (!a || !b || was == is)
		return;
	if (was && cJSON_IsTrue(member(present, "seccomp.options.seal_memfd")))
		fputs("hint: vm.memfd_noexec: only root on the host can set "
		      "it to 2, so the filter here denies memfd_create "
		      "without MFD_NOEXEC_SEAL (EPERM), where the recorded "
		      "agent could create such a memfd but not execute it; "
		      "replay as root to rebuild it\n", out);
	else if (!was && cJSON_IsTrue(member(recorded,
					     "seccomp.options.seal_memfd")))
		fputs("hint: vm.memfd_noexec: only root on the host can set "
		      "it to 2, which it is here, so memfd_create without "
		      "MFD_NOEXEC_SEAL succeeds and the memfd cannot be "
		      "executed, where the recorded filter denied the call "
		      "(EPERM); replay as a user who is not root on the "
		      "host to rebuild it\n", out);
	else
		fprintf(out, "hint: vm.memfd_noexec: only root on the host "
			"can set it to 2, so an agent that executes a memfd "
			"%s here; %s\n",
			was ? "could not when recorded and can"
			    : "could when recorded and cannot",
			was ? "replay as root to rebuild it"
			    : "replay as a user who is not root on the host "
			      "to rebuild it");
}

/* Print the entries of the recorded list at path that the present one
 * lacks, each after ", " or, for the first, " ". Return how many. */
static int print_missing(FILE *out, const cJSON *recorded,
			 const cJSON *present, const char *path, int n)
{
	const cJSON *item, *have;

	cJSON_ArrayForEach(item, member(recorded, path)) {
		bool found = false;

		if (!cJSON_IsString(item))
			continue;
		cJSON_ArrayForEach(have, member(present, path)) {
			if (cJSON_IsString(have) &&
			    strcmp(have->valuestring, item->valuestring) == 0)
				found = true;
		}
		if (found)
			continue;
		fprintf(out, "%s%s", n ? ", " : " ", item->valuestring);
		n++;
	}
	return n;
}

static void hint_landlock(FILE *out, const cJSON *recorded,
			  const cJSON *present)
{
	const cJSON *a = member(recorded, "landlock.abi");
	const cJSON *b = member(present, "landlock.abi");
	int n;

	if (!cJSON_IsNumber(a) || !cJSON_IsNumber(b) ||
	    b->valuedouble >= a->valuedouble)
		return;
	fprintf(out, "hint: landlock.abi: this kernel's Landlock ABI is "
		"%.0f, older than the recording's %.0f, so the sandbox here "
		"cannot restrict", b->valuedouble, a->valuedouble);
	n = print_missing(out, recorded, present, "landlock.handled_fs", 0);
	n = print_missing(out, recorded, present, "landlock.scoped", n);
	fprintf(out, "%s as the recording's did; replay on a kernel with "
		"Landlock ABI %.0f or later\n",
		n ? "" : " all that it", a->valuedouble);
}

char *replay_sandbox_hints(const cJSON *recorded, const cJSON *present)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	if (!out)
		return NULL;
	hint_limits(out, recorded, present);
	hint_memfd(out, recorded, present);
	hint_landlock(out, recorded, present);
	if (fclose(out) != 0) {
		free(text);
		return NULL;
	}
	return text;
}
