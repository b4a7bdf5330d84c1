/*
 * test_store.c - unit tests of the bundle store: objects, content,
 * transactions, the event log and finalize.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "bundle/bundle.h"
#include "bundle/chunk.h"
#include "bundle/verify.h"
#include "fixture.h"

/* A case that starts from a new fixture. */
#define TEST(name) \
	cmocka_unit_test_setup_teardown(name, fixture_setup, fixture_teardown)

static void fill_random(unsigned char *buf, size_t len, uint64_t seed)
{
	for (size_t i = 0; i < len; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		buf[i] = (unsigned char)(seed >> 56);
	}
}

static uint64_t count_objects(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *stmt;
	uint64_t n;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM objects",
					    -1, &stmt, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	n = (uint64_t)sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return n;
}

static void id_hex_round_trip(void **state)
{
	struct bundle_id id, back;
	char hex[BUNDLE_ID_HEX_LEN + 1];

	(void)state;
	for (int i = 0; i < BUNDLE_ID_LEN; i++)
		id.bytes[i] = (unsigned char)(i * 37);
	bundle_id_to_hex(&id, hex);
	assert_int_equal(strlen(hex), BUNDLE_ID_HEX_LEN);
	assert_int_equal(bundle_id_from_hex(&back, hex), 0);
	assert_memory_equal(id.bytes, back.bytes, BUNDLE_ID_LEN);
	assert_int_equal(bundle_id_from_hex(&back, "abc"), -1);
	hex[5] = 'g';
	assert_int_equal(bundle_id_from_hex(&back, hex), -1);
}

static void put_returns_sha256_id(void **state)
{
	struct fixture *f = *state;
	struct bundle_id id;
	char hex[BUNDLE_ID_HEX_LEN + 1];

	assert_int_equal(bundle_put(f->bundle, BUNDLE_BLOB, "abc", 3, &id), 0);
	bundle_id_to_hex(&id, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
				 "b00361a396177a9cb410ff61f20015ad");
	assert_true(bundle_has(f->bundle, &id));
}

static void put_twice_stores_once(void **state)
{
	struct fixture *f = *state;
	unsigned char buf[10000];
	struct bundle_id a, b;
	uint64_t before;

	memset(buf, 'x', sizeof(buf));
	assert_int_equal(
		bundle_put(f->bundle, BUNDLE_BLOB, buf, sizeof(buf), &a), 0);
	before = count_objects(f->path);
	assert_int_equal(
		bundle_put(f->bundle, BUNDLE_BLOB, buf, sizeof(buf), &b), 0);
	assert_memory_equal(a.bytes, b.bytes, BUNDLE_ID_LEN);
	assert_int_equal(count_objects(f->path), before);
}

static void get_round_trips(void **state)
{
	struct fixture *f = *state;
	static unsigned char buf[300000];
	size_t sizes[] = {0, 1, 63, 64, 1000, sizeof(buf)};

	fill_random(buf, sizeof(buf) / 2, 7);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct bundle_id id;
		enum bundle_kind kind;
		void *data;
		size_t len;

		assert_int_equal(
			bundle_put(f->bundle, BUNDLE_JSON, buf, sizes[i], &id),
			0);
		assert_int_equal(bundle_get(f->bundle, &id, &data, &len, &kind),
				 0);
		assert_int_equal(len, sizes[i]);
		assert_int_equal(kind, BUNDLE_JSON);
		assert_memory_equal(data, buf, len);
		assert_int_equal(((char *)data)[len], '\0');
		free(data);
	}
}

static void get_missing_fails(void **state)
{
	struct fixture *f = *state;
	struct bundle_id id;
	void *data;
	size_t len;

	memset(&id, 0xab, sizeof(id));
	assert_false(bundle_has(f->bundle, &id));
	assert_int_equal(bundle_get(f->bundle, &id, &data, &len, NULL), -1);
	assert_non_null(strstr(bundle_error(), "not found"));
}

static void structural_kind_wins(void **state)
{
	struct fixture *f = *state;
	struct bundle_id id;
	enum bundle_kind kind;
	void *data;
	size_t len;

	assert_int_equal(bundle_put(f->bundle, BUNDLE_BLOB, "same", 4, &id), 0);
	assert_int_equal(bundle_put(f->bundle, BUNDLE_TREE, "same", 4, &id), 0);
	assert_int_equal(bundle_get(f->bundle, &id, &data, &len, &kind), 0);
	assert_int_equal(kind, BUNDLE_TREE);
	free(data);
}

/* Write len pseudo-random bytes (seed) to a new file, with insert bytes
 * of other content in front. Returns an fd open for reading at 0. */
static int make_file(const char *dir, size_t len, uint64_t seed, size_t insert)
{
	char path[128];
	unsigned char *buf = malloc(len + insert);
	int fd;

	assert_non_null(buf);
	fill_random(buf, insert, seed + 1);
	fill_random(buf + insert, len, seed);
	snprintf(path, sizeof(path), "%s/file.XXXXXX", dir);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, buf, len + insert), (ssize_t)(len + insert));
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	free(buf);
	return fd;
}

static int temp_fd(const char *dir)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/out.XXXXXX", dir);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	return fd;
}

static void assert_same_content(int a, int b)
{
	unsigned char x[65536], y[65536];
	ssize_t nx, ny;

	assert_int_equal(lseek(a, 0, SEEK_SET), 0);
	assert_int_equal(lseek(b, 0, SEEK_SET), 0);
	do {
		nx = read(a, x, sizeof(x));
		ny = read(b, y, sizeof(y));
		assert_int_equal(nx, ny);
		assert_memory_equal(x, y, (size_t)nx);
	} while (nx > 0);
}

static void put_fd_small_is_one_blob(void **state)
{
	struct fixture *f = *state;
	int fd = make_file(f->dir, 5000, 1, 0);
	struct bundle_id ref, content;
	enum bundle_kind kind;
	uint64_t size;
	void *data;
	size_t len;

	assert_int_equal(bundle_put_fd(f->bundle, fd, &ref, &content, &size),
			 0);
	assert_int_equal(size, 5000);
	assert_memory_equal(ref.bytes, content.bytes, BUNDLE_ID_LEN);
	assert_int_equal(bundle_get(f->bundle, &ref, &data, &len, &kind), 0);
	assert_int_equal(kind, BUNDLE_BLOB);
	free(data);
	close(fd);
}

static void put_fd_large_round_trips(void **state)
{
	struct fixture *f = *state;
	int fd = make_file(f->dir, 5 * 1024 * 1024 + 17, 2, 0);
	int out = temp_fd(f->dir);
	struct bundle_id ref, content;
	enum bundle_kind kind;
	uint64_t size;
	void *data;
	size_t len;

	assert_int_equal(bundle_put_fd(f->bundle, fd, &ref, &content, &size),
			 0);
	assert_int_equal(size, 5 * 1024 * 1024 + 17);
	assert_memory_not_equal(ref.bytes, content.bytes, BUNDLE_ID_LEN);
	assert_int_equal(bundle_get(f->bundle, &ref, &data, &len, &kind), 0);
	assert_int_equal(kind, BUNDLE_CHUNKS);
	free(data);

	assert_int_equal(bundle_write_content(f->bundle, &ref, out), 0);
	assert_same_content(fd, out);
	close(fd);
	close(out);
}

/* A descriptor that fails to read (a directory gives EISDIR) is a read
 * failure, not a store failure: the bundle stays usable. */
static void put_fd_read_error_reported(void **state)
{
	struct fixture *f = *state;
	int fd = open(f->dir, O_RDONLY | O_DIRECTORY);
	struct bundle_id ref, id;
	int read_errno = -1;

	assert_true(fd >= 0);
	assert_int_equal(bundle_begin(f->bundle), 0);
	assert_int_equal(bundle_put_fd_errno(f->bundle, fd, &ref, NULL, NULL,
					     &read_errno),
			 -1);
	assert_int_equal(read_errno, EISDIR);
	assert_int_equal(bundle_put(f->bundle, BUNDLE_BLOB, "after", 5, &id),
			 0);
	assert_int_equal(bundle_commit(f->bundle), 0);
	assert_true(bundle_has(f->bundle, &id));
	close(fd);
}

static void put_fd_success_clears_read_errno(void **state)
{
	struct fixture *f = *state;
	int fd = make_file(f->dir, 100, 4, 0);
	struct bundle_id ref;
	int read_errno = -1;

	assert_int_equal(bundle_put_fd_errno(f->bundle, fd, &ref, NULL, NULL,
					     &read_errno),
			 0);
	assert_int_equal(read_errno, 0);
	close(fd);
}

static void insert_at_front_adds_few_chunks(void **state)
{
	struct fixture *f = *state;
	int a = make_file(f->dir, 8 * 1024 * 1024, 3, 0);
	int b = make_file(f->dir, 8 * 1024 * 1024, 3, 100);
	struct bundle_id ref;
	uint64_t before;

	assert_int_equal(bundle_put_fd(f->bundle, a, &ref, NULL, NULL), 0);
	before = count_objects(f->path);
	assert_int_equal(bundle_put_fd(f->bundle, b, &ref, NULL, NULL), 0);
	/* The first chunk changes, and the chunk list. */
	assert_in_range(count_objects(f->path) - before, 2, 3);
	close(a);
	close(b);
}

static void chunker_respects_limits(void **state)
{
	struct chunker chunker;
	static unsigned char buf[4 * 1024 * 1024];
	size_t pos = 0, n = 0, total = 0;

	(void)state;
	assert_int_equal(chunker_init(&chunker, 100000), -1);
	assert_int_equal(chunker_init(&chunker, 65536), 0);
	fill_random(buf, sizeof(buf), 9);
	while (pos < sizeof(buf)) {
		size_t cut =
			chunker_cut(&chunker, buf + pos, sizeof(buf) - pos);

		assert_true(cut <= chunker.max);
		if (pos + cut < sizeof(buf))
			assert_true(cut >= chunker.min);
		pos += cut;
		total += cut;
		n++;
	}
	assert_int_equal(total, sizeof(buf));
	/* About 64 KiB on average, within a factor of two. */
	assert_in_range(sizeof(buf) / n, 32768, 131072);
}

static void events_chain(void **state)
{
	struct fixture *f = *state;
	struct bundle_id id;
	cJSON *data = cJSON_CreateObject();
	cJSON *first, *second;
	uint64_t seq;

	cJSON_AddStringToObject(data, "path", "a.txt");
	assert_int_equal(bundle_put(f->bundle, BUNDLE_BLOB, "a", 1, &id), 0);
	assert_int_equal(
		bundle_append_event(f->bundle, "test", data, &id, 1, &seq), 0);
	assert_int_equal(seq, 1);
	assert_int_equal(
		bundle_append_event(f->bundle, "test", NULL, NULL, 0, &seq), 0);
	assert_int_equal(seq, 2);
	assert_int_equal(bundle_event_count(f->bundle), 2);

	first = bundle_get_event(f->bundle, 1);
	second = bundle_get_event(f->bundle, 2);
	assert_non_null(first);
	assert_non_null(second);
	assert_null(cJSON_GetObjectItem(first, "prev"));
	assert_string_equal(
		cJSON_GetObjectItem(cJSON_GetObjectItem(first, "data"), "path")
			->valuestring,
		"a.txt");
	assert_true(cJSON_IsString(cJSON_GetObjectItem(second, "prev")));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(first, "refs")),
			 1);
	cJSON_Delete(first);
	cJSON_Delete(second);
	cJSON_Delete(data);
	assert_null(bundle_get_event(f->bundle, 3));
}

/* A reader in a read transaction keeps the state that it read first
 * while the writer appends, and reads the new event once the
 * transaction ends. */
static void read_transaction_keeps_state(void **state)
{
	struct fixture *f = *state;
	struct bundle *reader;
	cJSON *event;

	assert_int_equal(
		bundle_append_event(f->bundle, "test", NULL, NULL, 0, NULL), 0);
	reader = bundle_open(f->path, BUNDLE_READ);
	assert_non_null(reader);
	assert_int_equal(bundle_read_begin(reader), 0);
	event = bundle_get_event(reader, 1);
	assert_non_null(event);
	cJSON_Delete(event);

	assert_int_equal(
		bundle_append_event(f->bundle, "test", NULL, NULL, 0, NULL), 0);
	assert_int_equal(bundle_event_count(reader), 1);
	assert_null(bundle_get_event(reader, 2));
	bundle_read_end(reader);

	assert_int_equal(bundle_event_count(reader), 2);
	event = bundle_get_event(reader, 2);
	assert_non_null(event);
	cJSON_Delete(event);
	bundle_close(reader);
}

static void read_begin_in_transaction_fails(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(bundle_begin(f->bundle), 0);
	assert_int_equal(bundle_read_begin(f->bundle), -1);
	assert_non_null(strstr(bundle_error(), "a transaction is open"));
	bundle_rollback(f->bundle);
}

static void event_with_missing_ref_fails(void **state)
{
	struct fixture *f = *state;
	struct bundle_id id;

	memset(&id, 1, sizeof(id));
	assert_int_equal(
		bundle_append_event(f->bundle, "test", NULL, &id, 1, NULL), -1);
	assert_non_null(strstr(bundle_error(), "not stored"));
	assert_int_equal(bundle_event_count(f->bundle), 0);
}

static void rollback_drops_objects(void **state)
{
	struct fixture *f = *state;
	struct bundle_id id;

	assert_int_equal(bundle_begin(f->bundle), 0);
	assert_int_equal(bundle_begin(f->bundle), -1);
	assert_int_equal(bundle_put(f->bundle, BUNDLE_BLOB, "gone", 4, &id), 0);
	bundle_rollback(f->bundle);
	assert_false(bundle_has(f->bundle, &id));
}

static void finalize_then_read_only(void **state)
{
	struct fixture *f = *state;
	struct bundle_id root, again, id;
	char wal[128];
	struct stat st;

	assert_int_equal(
		bundle_append_event(f->bundle, "test", NULL, NULL, 0, NULL), 0);
	assert_int_equal(bundle_root(f->bundle, &root), -1);
	assert_int_equal(bundle_finalize(f->bundle, &root), 0);
	assert_true(bundle_is_finalized(f->bundle));
	assert_int_equal(bundle_put(f->bundle, BUNDLE_BLOB, "x", 1, &id), -1);
	bundle_close(f->bundle);

	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	assert_int_equal(stat(wal, &st), -1);
	assert_int_equal(errno, ENOENT);

	assert_null(bundle_open(f->path, BUNDLE_APPEND));
	assert_non_null(strstr(bundle_error(), "finalized"));
	f->bundle = bundle_open(f->path, BUNDLE_READ);
	assert_non_null(f->bundle);
	assert_true(bundle_is_finalized(f->bundle));
	assert_int_equal(bundle_root(f->bundle, &again), 0);
	assert_memory_equal(root.bytes, again.bytes, BUNDLE_ID_LEN);
	assert_int_equal(bundle_event_count(f->bundle), 1);
}

static void reopen_appends(void **state)
{
	struct fixture *f = *state;
	uint64_t seq;

	assert_int_equal(
		bundle_append_event(f->bundle, "a", NULL, NULL, 0, NULL), 0);
	bundle_close(f->bundle);
	f->bundle = bundle_open(f->path, BUNDLE_APPEND);
	assert_non_null(f->bundle);
	assert_false(bundle_is_finalized(f->bundle));
	assert_int_equal(
		bundle_append_event(f->bundle, "b", NULL, NULL, 0, &seq), 0);
	assert_int_equal(seq, 2);
}

static void create_existing_fails(void **state)
{
	struct fixture *f = *state;

	assert_null(bundle_create(f->path, NULL));
	assert_non_null(strstr(bundle_error(), "File exists"));
}

/* Drain the events of inotify descriptor fd, and return whether one
 * named a created file whose name ends in suffix. */
static bool created_with_suffix(int fd, const char *suffix)
{
	char buf[4096] __attribute__((aligned(8)));
	bool found = false;
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;
			size_t len = ev->len ? strlen(ev->name) : 0;
			size_t at = len - strlen(suffix);

			if (len >= strlen(suffix) &&
			    strcmp(ev->name + at, suffix) == 0)
				found = true;
			p += sizeof(*ev) + ev->len;
		}
	}
	return found;
}

/* Creating a bundle makes no journal file, because the temporary
 * file's journal stays in memory. */
static void create_writes_no_journal_file(void **state)
{
	struct fixture *f = *state;
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	char path[128];

	assert_true(fd >= 0);
	assert_true(inotify_add_watch(fd, f->dir, IN_CREATE) >= 0);
	snprintf(path, sizeof(path), "%s/c.rb", f->dir);
	bundle_close(bundle_create(path, NULL));
	assert_false(created_with_suffix(fd, "-journal"));

	/* Finalizing does make one, so the watch would have seen it. */
	assert_int_equal(bundle_finalize(f->bundle, NULL), 0);
	assert_true(created_with_suffix(fd, "-journal"));
	close(fd);
}

static void open_other_file_fails(void **state)
{
	struct fixture *f = *state;
	char path[128];
	sqlite3 *db;
	FILE *file;

	snprintf(path, sizeof(path), "%s/text", f->dir);
	file = fopen(path, "w");
	assert_non_null(file);
	fputs("hello\n", file);
	fclose(file);
	assert_null(bundle_open(path, BUNDLE_READ));
	assert_non_null(strstr(bundle_error(), "not a runbundle bundle"));

	snprintf(path, sizeof(path), "%s/other.db", f->dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
		sqlite3_exec(db, "CREATE TABLE t (x)", NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close(db);
	assert_null(bundle_open(path, BUNDLE_READ));
	assert_non_null(strstr(bundle_error(), "not a runbundle bundle"));

	snprintf(path, sizeof(path), "%s/missing", f->dir);
	assert_null(bundle_open(path, BUNDLE_READ));
	assert_non_null(strstr(bundle_error(), "No such file"));
}

static void invalid_options_fail(void **state)
{
	struct fixture *f = *state;
	struct bundle_options options = {.zstd_level = 99};
	char path[128];

	snprintf(path, sizeof(path), "%s/c.rb", f->dir);
	assert_null(bundle_create(path, &options));
	options.zstd_level = 0;
	options.chunk_avg = 1000;
	assert_null(bundle_create(path, &options));
	options.chunk_avg = 65536;
	bundle_close(bundle_create(path, &options));
}

static void put_be64_at(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (unsigned char)v;
		v >>= 8;
	}
}

static void chunk_list_rejects_malformed(void **state)
{
	unsigned char list[CHUNK_HEADER_LEN + 2 * CHUNK_RECORD_LEN];
	unsigned char *first = list + CHUNK_HEADER_LEN;
	unsigned char *second = first + CHUNK_RECORD_LEN;
	struct chunk_list parsed;

	(void)state;
	memset(list, 0, sizeof(list));
	memcpy(list, CHUNK_MAGIC, 8);
	put_be64_at(list + 8, 300);
	put_be64_at(first + 32, 100);
	put_be64_at(second + 32, 200);
	assert_int_equal(chunk_list_parse(list, sizeof(list), &parsed), 0);
	assert_int_equal(parsed.n_chunks, 2);
	assert_int_equal(parsed.size, 300);

	assert_int_equal(chunk_list_parse(list, 10, &parsed), -1);
	assert_int_equal(chunk_list_parse(list, sizeof(list) - 1, &parsed), -1);
	put_be64_at(list + 8, 301);
	assert_int_equal(chunk_list_parse(list, sizeof(list), &parsed), -1);
	put_be64_at(list + 8, 300);

	/* Sizes that wrap around 2^64 must not add up to the total. */
	put_be64_at(first + 32, UINT64_MAX);
	put_be64_at(second + 32, 301);
	assert_int_equal(chunk_list_parse(list, sizeof(list), &parsed), -1);
	put_be64_at(first + 32, 0);
	put_be64_at(second + 32, 300);
	assert_int_equal(chunk_list_parse(list, sizeof(list), &parsed), -1);

	list[0] = 'X';
	assert_int_equal(chunk_list_parse(list, sizeof(list), &parsed), -1);
}

static void verify_intact_bundle(void **state)
{
	struct fixture *f = *state;
	struct bundle_verify_report report;
	struct bundle_id id, root;

	assert_int_equal(bundle_put(f->bundle, BUNDLE_BLOB, "abc", 3, &id), 0);
	assert_int_equal(
		bundle_append_event(f->bundle, "test", NULL, &id, 1, NULL), 0);
	assert_int_equal(bundle_verify(f->path, &report), 0);
	assert_int_equal(report.n_problems, 0);
	assert_false(report.finalized);
	assert_int_equal(report.verified_events, 1);
	bundle_verify_release(&report);

	assert_int_equal(bundle_finalize(f->bundle, &root), 0);
	assert_int_equal(bundle_verify(f->path, &report), 0);
	assert_int_equal(report.n_problems, 0);
	assert_true(report.finalized);
	assert_true(report.has_root);
	assert_memory_equal(report.root.bytes, root.bytes, BUNDLE_ID_LEN);
	assert_int_equal(report.n_objects, 1);
	bundle_verify_release(&report);
}

/* An object that no event references is counted, not a problem; one
 * behind a chunk list that an event references is referenced. */
static void verify_counts_unreferenced(void **state)
{
	struct fixture *f = *state;
	int fd = make_file(f->dir, 3 * 1024 * 1024, 5, 0);
	struct bundle_verify_report report;
	struct bundle_id orphan, ref;

	assert_int_equal(bundle_put_fd(f->bundle, fd, &ref, NULL, NULL), 0);
	assert_int_equal(
		bundle_append_event(f->bundle, "test", NULL, &ref, 1, NULL), 0);
	assert_int_equal(bundle_verify(f->path, &report), 0);
	assert_int_equal(report.n_unreferenced, 0);
	bundle_verify_release(&report);

	assert_int_equal(
		bundle_put(f->bundle, BUNDLE_BLOB, "orphan", 6, &orphan), 0);
	assert_int_equal(bundle_verify(f->path, &report), 0);
	assert_int_equal(report.n_problems, 0);
	assert_int_equal(report.n_unreferenced, 1);
	bundle_verify_release(&report);
	close(fd);
}

static void verify_empty_bundle(void **state)
{
	struct fixture *f = *state;
	struct bundle_verify_report report;
	struct bundle_id root;

	assert_int_equal(bundle_finalize(f->bundle, &root), 0);
	assert_int_equal(bundle_verify(f->path, &report), 0);
	assert_int_equal(report.n_problems, 0);
	assert_int_equal(report.n_events, 0);
	bundle_verify_release(&report);
}

static void transaction_queues_objects(void **state)
{
	struct fixture *f = *state;
	static unsigned char buf[200000];
	struct bundle_id ids[40], kept;
	enum bundle_kind kind;
	void *data;
	size_t len;

	assert_int_equal(bundle_begin(f->bundle), 0);
	for (int i = 0; i < 40; i++) {
		fill_random(buf, sizeof(buf) / 2, (uint64_t)i);
		assert_int_equal(bundle_put(f->bundle, BUNDLE_BLOB, buf,
					    sizeof(buf), &ids[i]),
				 0);
		assert_true(bundle_has(f->bundle, &ids[i]));
	}
	/* A queued object takes a structural kind too. */
	assert_int_equal(bundle_put(f->bundle, BUNDLE_TREE, buf, sizeof(buf),
				    &kept),
			 0);
	assert_memory_equal(kept.bytes, ids[39].bytes, BUNDLE_ID_LEN);
	assert_int_equal(bundle_get(f->bundle, &ids[0], &data, &len, &kind),
			 0);
	assert_int_equal(len, sizeof(buf));
	free(data);
	assert_int_equal(bundle_commit(f->bundle), 0);
	assert_int_equal(count_objects(f->path), 40);
	assert_int_equal(bundle_get(f->bundle, &ids[39], &data, &len, &kind),
			 0);
	assert_int_equal(kind, BUNDLE_TREE);
	free(data);

	/* Rolled back while queued: gone. */
	assert_int_equal(bundle_begin(f->bundle), 0);
	fill_random(buf, sizeof(buf), 99);
	assert_int_equal(bundle_put(f->bundle, BUNDLE_BLOB, buf, sizeof(buf),
				    &kept),
			 0);
	bundle_rollback(f->bundle);
	assert_false(bundle_has(f->bundle, &kept));
	assert_int_equal(count_objects(f->path), 40);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(id_hex_round_trip),
		cmocka_unit_test(chunker_respects_limits),
		cmocka_unit_test(chunk_list_rejects_malformed),
		TEST(put_returns_sha256_id),
		TEST(put_twice_stores_once),
		TEST(get_round_trips),
		TEST(get_missing_fails),
		TEST(structural_kind_wins),
		TEST(put_fd_small_is_one_blob),
		TEST(put_fd_large_round_trips),
		TEST(put_fd_read_error_reported),
		TEST(put_fd_success_clears_read_errno),
		TEST(insert_at_front_adds_few_chunks),
		TEST(events_chain),
		TEST(read_transaction_keeps_state),
		TEST(read_begin_in_transaction_fails),
		TEST(event_with_missing_ref_fails),
		TEST(rollback_drops_objects),
		TEST(transaction_queues_objects),
		TEST(finalize_then_read_only),
		TEST(reopen_appends),
		TEST(create_existing_fails),
		TEST(create_writes_no_journal_file),
		TEST(open_other_file_fails),
		TEST(invalid_options_fail),
		TEST(verify_intact_bundle),
		TEST(verify_empty_bundle),
		TEST(verify_counts_unreferenced),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
