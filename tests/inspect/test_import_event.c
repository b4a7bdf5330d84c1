/*
 * test_import_event.c - unit tests of bundle_import_event() and
 * bundle_import_events(), which "runbundle import" uses: a chain copied
 * event by event or as lines keeps its root digest, and a line that is
 * not the next link is rejected without being stored.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "bundle/bundle.h"

struct pair {
	char dir[64];
	char from[96], to[96];
	struct bundle *source, *target;
	struct bundle_id ref;
};

static int setup(void **state)
{
	struct pair *p = calloc(1, sizeof(*p));
	cJSON *data = cJSON_CreateObject();

	assert_non_null(p);
	strcpy(p->dir, "/tmp/test_import_event.XXXXXX");
	assert_non_null(mkdtemp(p->dir));
	snprintf(p->from, sizeof(p->from), "%s/from.rb", p->dir);
	snprintf(p->to, sizeof(p->to), "%s/to.rb", p->dir);
	p->source = bundle_create(p->from, NULL);
	p->target = bundle_create(p->to, NULL);
	assert_non_null(p->source);
	assert_non_null(p->target);
	assert_int_equal(bundle_put(p->source, BUNDLE_JSON, "{}", 2, &p->ref),
			 0);
	cJSON_AddStringToObject(data, "note", "first");
	assert_int_equal(bundle_append_event(p->source, "note", data, NULL, 0,
					     NULL), 0);
	assert_int_equal(bundle_append_event(p->source, "ref", NULL, &p->ref,
					     1, NULL), 0);
	assert_int_equal(bundle_append_event(p->source, "end", data, NULL, 0,
					     NULL), 0);
	cJSON_Delete(data);
	*state = p;
	return 0;
}

static int teardown(void **state)
{
	struct pair *p = *state;
	char cmd[128];

	bundle_close(p->source);
	bundle_close(p->target);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p->dir);
	assert_int_equal(system(cmd), 0);
	free(p);
	return 0;
}

/* The stored text of event seq of the source, malloc'd. */
static char *source_text(struct pair *p, uint64_t seq)
{
	sqlite3 *db;
	sqlite3_stmt *stmt;
	char *text;

	assert_int_equal(sqlite3_open_v2(p->from, &db, SQLITE_OPEN_READONLY,
					 NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT event FROM events "
					    "WHERE seq = ?", -1, &stmt, NULL),
			 SQLITE_OK);
	sqlite3_bind_int64(stmt, 1, (sqlite3_int64)seq);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	text = strdup((const char *)sqlite3_column_text(stmt, 0));
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	assert_non_null(text);
	return text;
}

static int import(struct pair *p, uint64_t seq)
{
	char *text = source_text(p, seq);
	int rc = bundle_import_event(p->target, text, strlen(text), NULL);

	free(text);
	return rc;
}

static void chain_keeps_root(void **state)
{
	struct pair *p = *state;
	struct bundle_id want, got, ref;

	assert_int_equal(bundle_put(p->target, BUNDLE_JSON, "{}", 2, &ref), 0);
	for (uint64_t seq = 1; seq <= 3; seq++)
		assert_int_equal(import(p, seq), 0);
	assert_int_equal(bundle_event_count(p->target), 3);
	assert_int_equal(bundle_finalize(p->source, &want), 0);
	assert_int_equal(bundle_finalize(p->target, &got), 0);
	assert_memory_equal(want.bytes, got.bytes, BUNDLE_ID_LEN);
}

static void returns_hash_of_text(void **state)
{
	struct pair *p = *state;
	char *text = source_text(p, 1);
	struct bundle_id hash;

	assert_int_equal(bundle_import_event(p->target, text, strlen(text),
					     &hash), 0);
	free(text);
	text = source_text(p, 2);
	/* The second event links to the first one's hash. */
	assert_non_null(strstr(text, "\"prev\""));
	{
		char hex[BUNDLE_ID_HEX_LEN + 1];

		bundle_id_to_hex(&hash, hex);
		assert_non_null(strstr(text, hex));
	}
	free(text);
}

static void rejects_skipped_event(void **state)
{
	struct pair *p = *state;

	assert_int_equal(import(p, 2), -1);
	assert_non_null(strstr(bundle_error(), "'1'"));
	assert_non_null(strstr(bundle_error(), "seq"));
	assert_int_equal(bundle_event_count(p->target), 0);
}

static void rejects_broken_link(void **state)
{
	struct pair *p = *state;
	const char *other = "{\"seq\":1,\"kind\":\"x\",\"time\":\"t\","
			    "\"refs\":[]}";

	assert_int_equal(bundle_import_event(p->target, other, strlen(other),
					     NULL), 0);
	/* The source's second event links to its own first event. */
	assert_int_equal(import(p, 2), -1);
	assert_non_null(strstr(bundle_error(), "prev"));
	assert_int_equal(bundle_event_count(p->target), 1);
}

static void rejects_missing_object(void **state)
{
	struct pair *p = *state;

	assert_int_equal(import(p, 1), 0);
	assert_int_equal(import(p, 2), -1);
	assert_non_null(strstr(bundle_error(), "not stored"));
	assert_int_equal(bundle_event_count(p->target), 1);
}

static void rejects_bad_text(void **state)
{
	struct pair *p = *state;
	const char nul[] = "{\"seq\":1,\0\"kind\":\"x\",\"time\":\"t\"}";
	const char *cases[] = {
		"[1]",
		"{\"seq\":1,\"time\":\"t\"}",
		"{\"seq\":1,\"kind\":\"\",\"time\":\"t\"}",
		"{\"seq\":1,\"kind\":\"x\"}",
		"{\"seq\":1,\"kind\":\"x\",\"time\":\"t\",\"prev\":\"00\"}",
		"{\"seq\":1,\"kind\":\"x\",\"time\":\"t\",\"refs\":{}}",
		"{\"seq\":1,\"kind\":\"x\",\"time\":\"t\",\"refs\":[\"ab\"]}",
		"{\"seq\":1,\"kind\":\"x\",\"time\":\"t\"",
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		assert_int_equal(bundle_import_event(p->target, cases[i],
						     strlen(cases[i]), NULL),
				 -1);
		assert_non_null(strstr(bundle_error(), "cannot import event"));
	}
	assert_int_equal(bundle_import_event(p->target, nul, sizeof(nul) - 1,
					     NULL), -1);
	assert_non_null(strstr(bundle_error(), "NUL"));
	assert_int_equal(bundle_event_count(p->target), 0);
}

static void rejects_read_only(void **state)
{
	struct pair *p = *state;
	struct bundle *ro;
	char *text = source_text(p, 1);

	ro = bundle_open(p->from, BUNDLE_READ);
	assert_non_null(ro);
	assert_int_equal(bundle_import_event(ro, text, strlen(text), NULL),
			 -1);
	bundle_close(ro);
	free(text);
}

/* The source's events 1 to 3 as lines, malloc'd. */
static char *source_lines(struct pair *p)
{
	char *lines[3], *all;
	size_t len = 0;

	for (int i = 0; i < 3; i++) {
		lines[i] = source_text(p, (uint64_t)i + 1);
		len += strlen(lines[i]) + 1;
	}
	all = calloc(1, len + 1);
	assert_non_null(all);
	for (int i = 0; i < 3; i++) {
		strcat(all, lines[i]);
		strcat(all, "\n");
		free(lines[i]);
	}
	return all;
}

static void lines_keep_root(void **state)
{
	struct pair *p = *state;
	struct bundle_id want, got, last, ref;
	char *all = source_lines(p);

	assert_int_equal(bundle_put(p->target, BUNDLE_JSON, "{}", 2, &ref), 0);
	assert_int_equal(bundle_import_events(p->target, all, strlen(all),
					      &last), 0);
	free(all);
	assert_int_equal(bundle_event_count(p->target), 3);
	assert_int_equal(bundle_finalize(p->source, &want), 0);
	assert_int_equal(bundle_finalize(p->target, &got), 0);
	assert_memory_equal(want.bytes, got.bytes, BUNDLE_ID_LEN);
	assert_memory_equal(want.bytes, last.bytes, BUNDLE_ID_LEN);
}

static void lines_all_or_none(void **state)
{
	struct pair *p = *state;
	char *all = source_lines(p);

	/* Event 2 references an object that the target lacks. */
	assert_int_equal(bundle_import_events(p->target, all, strlen(all),
					      NULL), -1);
	assert_non_null(strstr(bundle_error(), "'2'"));
	assert_int_equal(bundle_event_count(p->target), 0);

	/* Without the last newline, nothing is imported. */
	all[strlen(all) - 1] = '\0';
	assert_int_equal(bundle_import_events(p->target, all, strlen(all),
					      NULL), -1);
	assert_non_null(strstr(bundle_error(), "newline"));
	assert_int_equal(bundle_event_count(p->target), 0);
	free(all);
}

static void rejects_newline_in_event(void **state)
{
	struct pair *p = *state;
	const char *two = "{\"seq\":1,\"kind\":\"x\",\"time\":\"t\"}\n{}";

	assert_int_equal(bundle_import_event(p->target, two, strlen(two),
					     NULL), -1);
	assert_non_null(strstr(bundle_error(), "newline"));
	assert_int_equal(bundle_import_event(p->target, "", 0, NULL), -1);
	assert_int_equal(bundle_event_count(p->target), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(chain_keeps_root, setup,
						teardown),
		cmocka_unit_test_setup_teardown(returns_hash_of_text, setup,
						teardown),
		cmocka_unit_test_setup_teardown(rejects_skipped_event, setup,
						teardown),
		cmocka_unit_test_setup_teardown(rejects_broken_link, setup,
						teardown),
		cmocka_unit_test_setup_teardown(rejects_missing_object, setup,
						teardown),
		cmocka_unit_test_setup_teardown(rejects_bad_text, setup,
						teardown),
		cmocka_unit_test_setup_teardown(rejects_read_only, setup,
						teardown),
		cmocka_unit_test_setup_teardown(lines_keep_root, setup,
						teardown),
		cmocka_unit_test_setup_teardown(lines_all_or_none, setup,
						teardown),
		cmocka_unit_test_setup_teardown(rejects_newline_in_event, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
