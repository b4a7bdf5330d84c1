/*
 * test_fingerprint.c - the environment fingerprint and its comparison.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <gnu/libc-version.h>

#include "harness/fingerprint.h"

static const char *secrets[] = { "*_KEY", NULL };
static char *test_env[] = { "PATH=/usr/bin", "OPENAI_API_KEY=sk-abc",
			    "LANG=C.UTF-8", "NOEQUALS", NULL };

static cJSON *collect(void)
{
	struct harness_fingerprint_options o = { secrets, test_env };
	cJSON *fp = harness_fingerprint_collect(&o);

	assert_non_null(fp);
	return fp;
}

static const char *str_at(const cJSON *fp, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItem(fp, a);

	if (b)
		v = cJSON_GetObjectItem(v, b);
	return cJSON_GetStringValue(v);
}

static void collect_reads_this_machine(void **state)
{
	cJSON *fp = collect();
	struct utsname u;

	(void)state;
	assert_int_equal(uname(&u), 0);
	assert_string_equal(str_at(fp, "kernel", "release"), u.release);
	assert_string_equal(str_at(fp, "kernel", "machine"), u.machine);
	assert_string_equal(str_at(fp, "libc", "version"),
			    gnu_get_libc_version());
	assert_true(cJSON_GetObjectItem(cJSON_GetObjectItem(fp, "cpu"),
					"available")->valuedouble >= 1);
	assert_true(cJSON_GetObjectItem(cJSON_GetObjectItem(fp, "memory"),
					"total_bytes")->valuedouble > 0);
	assert_string_equal(str_at(fp, "locale", "LANG"), "C.UTF-8");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(
		cJSON_GetObjectItem(fp, "locale"), "LC_ALL")));
	assert_non_null(str_at(fp, "runbundle_version", NULL));
	assert_true(cJSON_IsArray(cJSON_GetObjectItem(fp, "executables")));
	cJSON_Delete(fp);
}

static void collect_redacts_secrets(void **state)
{
	cJSON *fp = collect();
	cJSON *env = cJSON_GetObjectItem(fp, "environment");
	char *text = cJSON_PrintUnformatted(fp);

	(void)state;
	assert_string_equal(str_at(env, "PATH", NULL), "/usr/bin");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(env, "OPENAI_API_KEY")));
	assert_null(cJSON_GetObjectItem(env, "NOEQUALS"));
	assert_null(strstr(text, "sk-abc"));
	free(text);
	cJSON_Delete(fp);
}

static void compare_identical_is_empty(void **state)
{
	cJSON *a = collect(), *b = collect();
	cJSON *d = harness_fingerprint_compare(a, b);

	(void)state;
	assert_non_null(d);
	assert_int_equal(cJSON_GetArraySize(d), 0);
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(d);
}

static const cJSON *find_field(const cJSON *diffs, const char *field)
{
	const cJSON *d;

	cJSON_ArrayForEach(d, diffs) {
		if (strcmp(str_at(d, "field", NULL), field) == 0)
			return d;
	}
	return NULL;
}

static void set_string(cJSON *fp, const char *a, const char *b,
		       const char *value)
{
	cJSON *obj = cJSON_GetObjectItem(fp, a);

	cJSON_ReplaceItemInObject(obj, b, cJSON_CreateString(value));
}

static void compare_lists_each_difference(void **state)
{
	cJSON *a = collect(), *b = collect();
	cJSON *cpu = cJSON_GetObjectItem(b, "cpu");
	cJSON *d;
	const cJSON *k;

	(void)state;
	set_string(a, "kernel", "release", "5.10.0-old");
	set_string(b, "libc", "version", "2.99");
	cJSON_ReplaceItemInObject(cpu, "available", cJSON_CreateNumber(64));
	d = harness_fingerprint_compare(a, b);
	assert_int_equal(cJSON_GetArraySize(d), 3);
	k = find_field(d, "kernel.release");
	assert_non_null(k);
	assert_string_equal(str_at(k, "recorded", NULL), "5.10.0-old");
	assert_non_null(str_at(k, "reason", NULL));
	assert_non_null(find_field(d, "libc.version"));
	assert_non_null(find_field(d, "cpu.available"));
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(d);
}

static void compare_environment_values(void **state)
{
	cJSON *a = collect(), *b = collect();
	cJSON *env_b = cJSON_GetObjectItem(b, "environment");
	cJSON *d;

	(void)state;
	cJSON_ReplaceItemInObject(env_b, "PATH", cJSON_CreateString("/bin"));
	cJSON_AddStringToObject(env_b, "NEW_VAR", "1");
	cJSON_DeleteItemFromObject(cJSON_GetObjectItem(a, "environment"),
				   "LANG");
	d = harness_fingerprint_compare(a, b);
	assert_non_null(find_field(d, "environment.PATH"));
	assert_non_null(find_field(d, "environment.NEW_VAR"));
	assert_non_null(find_field(d, "environment.LANG"));
	/* A secret is null on both sides: no difference. */
	assert_null(find_field(d, "environment.OPENAI_API_KEY"));
	assert_int_equal(cJSON_GetArraySize(d), 3);
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(d);
}

static void compare_executables_by_path(void **state)
{
	cJSON *a = collect(), *b = collect();
	const char *h1 = "1111111111111111111111111111111111111111111111111111"
			 "111111111111";
	const char *h2 = "2222222222222222222222222222222222222222222222222222"
			 "222222222222";
	cJSON *d;
	char *text;

	(void)state;
	assert_int_equal(harness_fingerprint_add_executable(a,
			 "/usr/bin/python3", h1), 0);
	assert_int_equal(harness_fingerprint_add_executable(a,
			 "/usr/bin/python3", h1), 0);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(a,
			 "executables")), 1);
	assert_int_equal(harness_fingerprint_add_executable(a, "/bin/gone",
							    h1), 0);
	assert_int_equal(harness_fingerprint_add_executable(b,
			 "/usr/bin/python3", h2), 0);
	assert_int_equal(harness_fingerprint_add_executable(b, "/bin/extra",
							    h2), 0);
	d = harness_fingerprint_compare(a, b);
	assert_int_equal(cJSON_GetArraySize(d), 2);
	assert_non_null(find_field(d, "executables./usr/bin/python3"));
	assert_non_null(find_field(d, "executables./bin/gone"));
	text = harness_fingerprint_diff_text(d);
	assert_non_null(strstr(text, "executables./usr/bin/python3: recorded "
				     "'1111"));
	assert_non_null(strstr(text, "executables./bin/gone: recorded "
				     "'1111"));
	assert_non_null(strstr(text, "1111', now 'unset': "));
	free(text);
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(d);
}

/* A program built twice during the run has two hashes at one path, in
 * both fingerprints, and that is no difference. */
static void compare_executables_rebuilt(void **state)
{
	cJSON *a = collect(), *b = collect();
	const char *h1 = "1111111111111111111111111111111111111111111111111111"
			 "111111111111";
	const char *h2 = "2222222222222222222222222222222222222222222222222222"
			 "222222222222";
	const char *h3 = "3333333333333333333333333333333333333333333333333333"
			 "333333333333";
	cJSON *d;

	(void)state;
	assert_int_equal(harness_fingerprint_add_executable(a, "/ws/prog",
							    h1), 0);
	assert_int_equal(harness_fingerprint_add_executable(a, "/ws/prog",
							    h2), 0);
	assert_int_equal(harness_fingerprint_add_executable(b, "/ws/prog",
							    h1), 0);
	assert_int_equal(harness_fingerprint_add_executable(b, "/ws/prog",
							    h2), 0);
	d = harness_fingerprint_compare(a, b);
	assert_int_equal(cJSON_GetArraySize(d), 0);
	cJSON_Delete(d);

	/* The second build differs now: one difference, of that hash. */
	cJSON_DeleteItemFromArray(cJSON_GetObjectItem(b, "executables"), 1);
	assert_int_equal(harness_fingerprint_add_executable(b, "/ws/prog",
							    h3), 0);
	d = harness_fingerprint_compare(a, b);
	assert_int_equal(cJSON_GetArraySize(d), 1);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(
		cJSON_GetArrayItem(d, 0), "recorded")), h2);
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(d);
}

static void sandbox_and_policy_compare(void **state)
{
	cJSON *a = collect(), *b = collect();
	cJSON *d;

	(void)state;
	assert_int_equal(harness_fingerprint_set_sandbox(a,
			 cJSON_Parse("{\"network\":\"none\"}")), 0);
	assert_int_equal(harness_fingerprint_set_sandbox(b,
			 cJSON_Parse("{\"network\":\"gateway\"}")), 0);
	assert_int_equal(harness_fingerprint_set_policy(a, "sha256:aa",
							"x = 1"), 0);
	assert_int_equal(harness_fingerprint_set_policy(b, "sha256:bb",
							"x = 2"), 0);
	d = harness_fingerprint_compare(a, b);
	assert_int_equal(cJSON_GetArraySize(d), 2);
	assert_non_null(find_field(d, "sandbox"));
	assert_non_null(find_field(d, "policy.digest"));
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(collect_reads_this_machine),
		cmocka_unit_test(collect_redacts_secrets),
		cmocka_unit_test(compare_identical_is_empty),
		cmocka_unit_test(compare_lists_each_difference),
		cmocka_unit_test(compare_environment_values),
		cmocka_unit_test(compare_executables_by_path),
		cmocka_unit_test(compare_executables_rebuilt),
		cmocka_unit_test(sandbox_and_policy_compare),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
