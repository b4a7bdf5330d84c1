/*
 * test_describe.c - unit tests of sandbox_description_compare(): mounts
 * compared by their path inside the sandbox, one line per mount, lists
 * such as the seccomp rules along what they have in common, and the
 * agent's session.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sandbox/sandbox.h"

/* A description whose mounts are /m0 ... /m(n-1), read-only binds, with
 * the mount at index skip left out (skip < 0: none). */
static cJSON *mounts_description(int n, int skip)
{
	cJSON *d = cJSON_CreateObject();
	cJSON *mounts = cJSON_AddArrayToObject(d, "mounts");
	char path[32], source[32];

	cJSON_AddStringToObject(d, "hostname", "runbundle");
	for (int i = 0; i < n; i++) {
		cJSON *m;

		if (i == skip)
			continue;
		m = cJSON_CreateObject();
		snprintf(path, sizeof(path), "/m%d", i);
		snprintf(source, sizeof(source), "/host/m%d", i);
		cJSON_AddStringToObject(m, "path", path);
		cJSON_AddStringToObject(m, "type", "bind");
		cJSON_AddStringToObject(m, "options", "ro,nosuid,nodev");
		cJSON_AddStringToObject(m, "host_source", source);
		cJSON_AddItemToArray(mounts, m);
	}
	return d;
}

/* The number of lines of text. */
static int lines(const char *text)
{
	int n = 0;

	for (const char *c = text; c && *c; c++)
		n += *c == '\n';
	return n;
}

static void compare_missing_mount_one_line(void **state)
{
	cJSON *recorded = mounts_description(40, -1);
	cJSON *present = mounts_description(40, 20);
	char *text = NULL;

	(void)state;
	assert_int_equal(sandbox_description_compare(recorded, present, &text),
			 1);
	assert_string_equal(text, "mounts /m20: recorded ro,nosuid,nodev "
				  "bind, now missing\n");
	free(text);

	assert_int_equal(sandbox_description_compare(present, recorded, &text),
			 1);
	assert_string_equal(text, "mounts /m20: recorded missing, now "
				  "ro,nosuid,nodev bind\n");
	free(text);
	cJSON_Delete(recorded);
	cJSON_Delete(present);
}

static void compare_changed_mount(void **state)
{
	cJSON *recorded = mounts_description(5, -1);
	cJSON *present = mounts_description(5, -1);
	cJSON *list = cJSON_GetObjectItem(present, "mounts");
	cJSON *m = cJSON_GetArrayItem(list, 3);
	char *text = NULL;

	(void)state;
	cJSON_ReplaceItemInObject(m, "options",
				  cJSON_CreateString("rw,nosuid,nodev"));
	cJSON_AddStringToObject(m, "covers", ".git/hooks");
	assert_int_equal(sandbox_description_compare(recorded, present, &text),
			 1);
	assert_string_equal(text, "mounts /m3: recorded ro,nosuid,nodev bind, "
				  "now rw,nosuid,nodev bind covers "
				  ".git/hooks\n");
	free(text);
	cJSON_Delete(recorded);
	cJSON_Delete(present);
}

static void compare_ignores_host_source(void **state)
{
	cJSON *recorded = mounts_description(5, -1);
	cJSON *present = mounts_description(5, -1);
	cJSON *list = cJSON_GetObjectItem(present, "mounts");
	cJSON *m = cJSON_GetArrayItem(list, 1);

	(void)state;
	cJSON_ReplaceItemInObject(m, "host_source",
				  cJSON_CreateString("/elsewhere"));
	assert_int_equal(sandbox_description_compare(recorded, present, NULL),
			 0);
	cJSON_Delete(recorded);
	cJSON_Delete(present);
}

/* A path mounted twice pairs by occurrence: one of the two missing is
 * one line, and the rest of the description is still compared. */
static void compare_repeated_path_and_rest(void **state)
{
	cJSON *recorded = mounts_description(3, -1);
	cJSON *present = mounts_description(3, -1);
	cJSON *again = cJSON_Duplicate(
		cJSON_GetArrayItem(cJSON_GetObjectItem(recorded, "mounts"), 1),
		1);
	char *text = NULL;

	(void)state;
	cJSON_AddItemToArray(cJSON_GetObjectItem(recorded, "mounts"), again);
	cJSON_ReplaceItemInObject(present, "hostname",
				  cJSON_CreateString("other"));
	assert_int_equal(sandbox_description_compare(recorded, present, &text),
			 2);
	assert_int_equal(lines(text), 2);
	assert_non_null(strstr(text, "hostname: recorded \"runbundle\", "
				     "present \"other\"\n"));
	assert_non_null(strstr(text, "mounts /m1: recorded ro,nosuid,nodev "
				     "bind, now missing\n"));
	free(text);
	cJSON_Delete(recorded);
	cJSON_Delete(present);
}

/* A description whose seccomp.rules deny syscalls s0 ... s(n-1), with
 * the rule for extra inserted before index at, unless extra is NULL. */
static cJSON *rules_description(int n, const char *extra, int at)
{
	cJSON *d = cJSON_CreateObject();
	cJSON *seccomp = cJSON_AddObjectToObject(d, "seccomp");
	cJSON *rules = cJSON_AddArrayToObject(seccomp, "rules");
	char name[32];

	for (int i = 0; i <= n; i++) {
		cJSON *r;

		if (extra && i == at) {
			r = cJSON_CreateObject();
			cJSON_AddStringToObject(r, "syscall", extra);
			cJSON_AddStringToObject(r, "action", "deny");
			cJSON_AddItemToArray(rules, r);
		}
		if (i == n)
			break;
		r = cJSON_CreateObject();
		snprintf(name, sizeof(name), "s%d", i);
		cJSON_AddStringToObject(r, "syscall", name);
		cJSON_AddStringToObject(r, "action", "deny");
		cJSON_AddItemToArray(rules, r);
	}
	return d;
}

/* One rule more in the middle of a list is one line, named by its
 * index in the list that has it, not a shift of every later rule. */
static void compare_inserted_rule_one_line(void **state)
{
	cJSON *recorded = rules_description(40, NULL, 0);
	cJSON *present = rules_description(40, "memfd_create", 20);
	char *text = NULL;

	(void)state;
	assert_int_equal(sandbox_description_compare(recorded, present, &text),
			 1);
	assert_string_equal(text, "seccomp.rules[20]: recorded missing, "
			    "present {\"syscall\":\"memfd_create\","
			    "\"action\":\"deny\"}\n");
	free(text);

	assert_int_equal(sandbox_description_compare(present, recorded, &text),
			 1);
	assert_string_equal(text, "seccomp.rules[20]: recorded "
			    "{\"syscall\":\"memfd_create\","
			    "\"action\":\"deny\"}, present missing\n");
	free(text);
	cJSON_Delete(recorded);
	cJSON_Delete(present);
}

/* A rule changed in place is still compared key by key. */
static void compare_changed_rule(void **state)
{
	cJSON *recorded = rules_description(10, NULL, 0);
	cJSON *present = rules_description(10, NULL, 0);
	cJSON *rules = cJSON_GetObjectItem(
		cJSON_GetObjectItem(present, "seccomp"), "rules");
	char *text = NULL;

	(void)state;
	cJSON_ReplaceItemInObject(cJSON_GetArrayItem(rules, 4), "action",
				  cJSON_CreateString("report"));
	assert_int_equal(sandbox_description_compare(recorded, present, &text),
			 1);
	assert_string_equal(text, "seccomp.rules[4].action: recorded "
			    "\"deny\", present \"report\"\n");
	free(text);
	cJSON_Delete(recorded);
	cJSON_Delete(present);
}

#define INHERITED "inherited, no controlling terminal"

/* A description with privileges.setsid, and privileges.session unless
 * session is NULL, as descriptions written before that key have it. */
static cJSON *session_description(bool setsid, const char *session)
{
	cJSON *d = cJSON_CreateObject();
	cJSON *p = cJSON_AddObjectToObject(d, "privileges");

	cJSON_AddBoolToObject(p, "no_new_privs", 1);
	cJSON_AddBoolToObject(p, "setsid", setsid);
	if (session)
		cJSON_AddStringToObject(p, "session", session);
	return d;
}

static int compare_sessions(cJSON *recorded, cJSON *present, char **text)
{
	int n = sandbox_description_compare(recorded, present, text);

	cJSON_Delete(recorded);
	cJSON_Delete(present);
	return n;
}

static void compare_session_same(void **state)
{
	(void)state;
	assert_int_equal(compare_sessions(session_description(false, INHERITED),
					  session_description(false, INHERITED),
					  NULL), 0);
	assert_int_equal(compare_sessions(session_description(true, "new"),
					  session_description(true, "new"),
					  NULL), 0);
	/* Before the session key, init always called setsid(). */
	assert_int_equal(compare_sessions(session_description(true, NULL),
					  session_description(true, "new"),
					  NULL), 0);
}

/* A new session against the caller's without a terminal: one line, for
 * setsid and session together, that names it the same protection. */
static void compare_session_same_protection(void **state)
{
	char *text = NULL;

	(void)state;
	assert_int_equal(compare_sessions(session_description(true, NULL),
					  session_description(false, INHERITED),
					  &text), 1);
	assert_int_equal(lines(text), 1);
	assert_string_equal(text, "privileges.session: recorded \"new\", "
			    "present \"inherited, no controlling terminal\" "
			    "(the same protection: in both, the agent has no "
			    "controlling terminal)\n");
	free(text);
}

static void compare_session_unknown(void **state)
{
	char *text = NULL;

	(void)state;
	assert_int_equal(compare_sessions(session_description(true, "new"),
					  session_description(false, "other"),
					  &text), 1);
	assert_string_equal(text, "privileges.session: recorded \"new\", "
			    "present \"other\"\n");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(compare_missing_mount_one_line),
		cmocka_unit_test(compare_changed_mount),
		cmocka_unit_test(compare_ignores_host_source),
		cmocka_unit_test(compare_repeated_path_and_rest),
		cmocka_unit_test(compare_inserted_rule_one_line),
		cmocka_unit_test(compare_changed_rule),
		cmocka_unit_test(compare_session_same),
		cmocka_unit_test(compare_session_same_protection),
		cmocka_unit_test(compare_session_unknown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
