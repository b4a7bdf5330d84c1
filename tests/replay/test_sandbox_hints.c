/*
 * test_sandbox_hints.c - unit tests of replay_sandbox_hints(): the cause
 * and the fix of a limit that moved between a cgroup and an rlimit, of
 * vm.memfd_noexec, and of an older Landlock ABI.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "replay/sandbox_hints.h"

static cJSON *parse(const char *text)
{
	cJSON *d = cJSON_Parse(text);

	assert_non_null(d);
	return d;
}

static void hints_of(const char *recorded, const char *present,
		     char **text)
{
	cJSON *a = parse(recorded), *b = parse(present);

	*text = replay_sandbox_hints(a, b);
	assert_non_null(*text);
	cJSON_Delete(a);
	cJSON_Delete(b);
}

static void hints_none_when_same(void **state)
{
	const char *d = "{\"limits\": {\"processes\": {\"value\": 200, "
			"\"via\": \"cgroup1\"}}, \"landlock\": {\"abi\": 7}, "
			"\"sysctls\": {\"/proc/sys/vm/memfd_noexec\": \"2\"}}";
	char *text;

	(void)state;
	hints_of(d, d, &text);
	assert_string_equal(text, "");
	free(text);
}

static void hints_cgroup_lost(void **state)
{
	char *text, want[1024];

	(void)state;
	hints_of("{\"limits\": {\"processes\": {\"value\": 200, \"via\": "
		 "\"cgroup1\"}}, \"inherited\": {\"rlimits\": {\"nproc\": "
		 "{\"soft\": 96369, \"hard\": 96369}}}}",
		 "{\"limits\": {\"processes\": {\"value\": 200, \"via\": "
		 "\"rlimit\"}}, \"inherited\": {\"rlimits\": {}}}",
		 &text);
	snprintf(want, sizeof(want),
		 "hint: limits.processes: the recording enforced it with a "
		 "cgroup, which this replay, as uid %u, cannot create, so it "
		 "is an rlimit of each process: the agent's nproc is 200, "
		 "where the recorded agent's was 96369; replay as root, or "
		 "in a cgroup v2 that this user may manage, such as a "
		 "systemd scope with Delegate=yes (docs/policy.md, \"The "
		 "sandbox\")\n",
		 (unsigned)getuid());
	assert_string_equal(text, want);
	free(text);
}

static void hints_cgroup_gained(void **state)
{
	char *text;

	(void)state;
	hints_of("{\"limits\": {\"memory_bytes\": {\"value\": 1048576, "
		 "\"via\": \"rlimit (address space, per process)\"}}}",
		 "{\"limits\": {\"memory_bytes\": {\"value\": 1048576, "
		 "\"via\": \"cgroup2 memory.max\"}}, \"inherited\": "
		 "{\"rlimits\": {\"as\": {\"soft\": \"unlimited\"}}}}",
		 &text);
	assert_string_equal(text,
		"hint: limits.memory_bytes: the recording could not create a "
		"cgroup and enforced it as an rlimit of each process, where "
		"this replay uses a cgroup: the agent's as is this host's "
		"unlimited, where the recorded agent's was 1048576; replay "
		"as a user who cannot create a cgroup, as the recording's "
		"user could not, to rebuild it\n");
	free(text);
}

static void hints_memfd_sealed(void **state)
{
	char *text;

	(void)state;
	hints_of("{\"sysctls\": {\"/proc/sys/vm/memfd_noexec\": \"2\"}}",
		 "{\"sysctls\": {\"/proc/sys/vm/memfd_noexec\": \"0\"}, "
		 "\"seccomp\": {\"options\": {\"seal_memfd\": true}}}",
		 &text);
	assert_string_equal(text,
		"hint: vm.memfd_noexec: only root on the host can set it to "
		"2, so the filter here denies memfd_create without "
		"MFD_NOEXEC_SEAL (EPERM), where the recorded agent could "
		"create such a memfd but not execute it; replay as root to "
		"rebuild it\n");
	free(text);
}

static void hints_memfd_open(void **state)
{
	char *text;

	(void)state;
	hints_of("{\"sysctls\": {\"/proc/sys/vm/memfd_noexec\": \"2\"}}",
		 "{\"sysctls\": {\"/proc/sys/vm/memfd_noexec\": \"0\"}}",
		 &text);
	assert_string_equal(text,
		"hint: vm.memfd_noexec: only root on the host can set it to "
		"2, so an agent that executes a memfd could not when "
		"recorded and can here; replay as root to rebuild it\n");
	free(text);
}

static void hints_landlock_older(void **state)
{
	char *text;

	(void)state;
	hints_of("{\"landlock\": {\"abi\": 6, \"handled_fs\": [\"make_dir\", "
		 "\"truncate\", \"ioctl_dev\"], \"scoped\": [\"signal\"]}}",
		 "{\"landlock\": {\"abi\": 3, \"handled_fs\": [\"make_dir\", "
		 "\"truncate\"]}}",
		 &text);
	assert_string_equal(text,
		"hint: landlock.abi: this kernel's Landlock ABI is 3, older "
		"than the recording's 6, so the sandbox here cannot restrict "
		"ioctl_dev, signal as the recording's did; replay on a kernel "
		"with Landlock ABI 6 or later\n");
	free(text);
}

static void hints_landlock_newer(void **state)
{
	char *text;

	(void)state;
	hints_of("{\"landlock\": {\"abi\": 3}}", "{\"landlock\": {\"abi\": 6}}",
		 &text);
	assert_string_equal(text, "");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hints_none_when_same),
		cmocka_unit_test(hints_cgroup_lost),
		cmocka_unit_test(hints_cgroup_gained),
		cmocka_unit_test(hints_memfd_sealed),
		cmocka_unit_test(hints_memfd_open),
		cmocka_unit_test(hints_landlock_older),
		cmocka_unit_test(hints_landlock_newer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
