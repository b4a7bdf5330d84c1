/*
 * test_compress.c - unit tests of the compression pipeline with several
 * workers: each object is stored once and in full, and a rollback drops
 * every queued job.
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
#include "bundle/store.h"
#include "bundle/verify.h"
#include "fixture.h"

/* More workers than this machine may have cores, so that jobs finish
 * out of queue order even on one core. */
#define WORKERS 4
#define N_OBJECTS 600

static int setup(void **state)
{
	struct fixture *f;

	fixture_setup(state);
	f = *state;
	f->bundle->workers = WORKERS;
	return 0;
}

#define TEST(name) \
	cmocka_unit_test_setup_teardown(name, setup, fixture_teardown)

/* Object i: text that compresses, of a size from 64 bytes to 128 KiB,
 * so that some rows fill pages and some do not. */
static size_t make_object(unsigned char *buf, size_t cap, unsigned i)
{
	size_t len = 64 + (size_t)(i * 2654435761u) % (cap - 64);
	int n = 0;

	for (size_t at = 0; at < len; at += (size_t)n) {
		char line[64];

		n = snprintf(line, sizeof(line), "object %u line %zu\n", i, at);
		memcpy(buf + at, line, at + (size_t)n <= len ? (size_t)n
							     : len - at);
	}
	return len;
}

static int64_t query_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *stmt;
	int64_t n;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	n = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return n;
}

static void assert_verifies(const char *path)
{
	struct bundle_verify_report report;

	assert_int_equal(bundle_verify(path, &report), 0);
	assert_int_equal(report.n_problems, 0);
	bundle_verify_release(&report);
}

static void each_object_stored_once(void **state)
{
	struct fixture *f = *state;
	static unsigned char buf[128 * 1024];
	static struct bundle_id ids[N_OBJECTS];
	struct bundle_id again;

	assert_int_equal(bundle_begin(f->bundle), 0);
	for (unsigned i = 0; i < N_OBJECTS; i++) {
		size_t len = make_object(buf, sizeof(buf), i);

		assert_int_equal(bundle_put(f->bundle, BUNDLE_BLOB, buf, len,
					    &ids[i]),
				 0);
		/* The same content again, while the first copy is likely
		 * queued or being compressed. */
		assert_int_equal(bundle_put(f->bundle, BUNDLE_BLOB, buf, len,
					    &again),
				 0);
		assert_memory_equal(again.bytes, ids[i].bytes, BUNDLE_ID_LEN);
		if (i % 7 == 3) {
			len = make_object(buf, sizeof(buf), i / 2);
			assert_int_equal(bundle_put(f->bundle, BUNDLE_BLOB,
						    buf, len, &again),
					 0);
			assert_memory_equal(again.bytes, ids[i / 2].bytes,
					    BUNDLE_ID_LEN);
		}
	}
	assert_int_equal(bundle_commit(f->bundle), 0);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM objects "
					    "WHERE kind = 'blob'"),
			 N_OBJECTS);
	assert_int_equal(query_int(f->path, "SELECT count(DISTINCT id) "
					    "FROM objects"),
			 query_int(f->path, "SELECT count(*) FROM objects"));

	for (unsigned i = 0; i < N_OBJECTS; i += 37) {
		size_t len = make_object(buf, sizeof(buf), i);
		void *data;
		size_t got;

		assert_int_equal(bundle_get(f->bundle, &ids[i], &data, &got,
					    NULL),
				 0);
		assert_int_equal(got, len);
		assert_memory_equal(data, buf, len);
		free(data);
	}
	assert_int_equal(bundle_finalize(f->bundle, &again), 0);
	assert_verifies(f->path);
}

static void rollback_drops_every_queued_job(void **state)
{
	struct fixture *f = *state;
	static unsigned char buf[128 * 1024];
	struct bundle_id id, first;

	assert_int_equal(bundle_begin(f->bundle), 0);
	for (unsigned i = 0; i < 200; i++) {
		size_t len = make_object(buf, sizeof(buf), i);

		assert_int_equal(bundle_put(f->bundle, BUNDLE_BLOB, buf, len,
					    i ? &id : &first),
				 0);
	}
	bundle_rollback(f->bundle);
	assert_false(bundle_has(f->bundle, &first));
	assert_false(bundle_has(f->bundle, &id));
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM objects"),
			 0);

	/* The workers are still there for the next transaction. */
	assert_int_equal(bundle_begin(f->bundle), 0);
	for (unsigned i = 0; i < 200; i++) {
		size_t len = make_object(buf, sizeof(buf), i);

		assert_int_equal(bundle_put(f->bundle, BUNDLE_BLOB, buf, len,
					    &id),
				 0);
	}
	assert_int_equal(bundle_commit(f->bundle), 0);
	assert_true(bundle_has(f->bundle, &first));
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM objects "
					    "WHERE kind = 'blob'"),
			 200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(each_object_stored_once),
		TEST(rollback_drops_every_queued_job),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
