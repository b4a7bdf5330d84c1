/*
 * chain.c - read the events table: each event's stored text, and the
 * hash of it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "inspect/chain.h"
#include "inspect/error.h"

/* Nonzero when path + suffix exists; *size receives its size. */
static int sidecar(const char *path, const char *suffix, off_t *size)
{
	char name[4096];
	struct stat st;

	*size = 0;
	if ((size_t)snprintf(name, sizeof(name), "%s%s", path, suffix) >=
	    sizeof(name))
		return 0;
	if (stat(name, &st) != 0)
		return 0;
	*size = st.st_size;
	return 1;
}

/* "file:PATH?immutable=1" with the characters that a URI reserves
 * percent-encoded; malloc'd, or NULL when memory runs out. */
static char *immutable_uri(const char *path)
{
	static const char suffix[] = "?immutable=1";
	size_t len = strlen(path);
	char *uri = malloc(8 + 3 * len + sizeof(suffix));
	char *q = uri;

	if (!uri)
		return NULL;
	/* "file:///abs" keeps a path that starts with "//" from being read
	 * as an authority. */
	q += sprintf(q, "%s", path[0] == '/' ? "file://" : "file:");
	for (const char *p = path; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (strchr("/-._~", c) || (c >= '0' && c <= '9') ||
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
			*q++ = (char)c;
		else
			q += sprintf(q, "%%%02X", c);
	}
	memcpy(q, suffix, sizeof(suffix));
	return uri;
}

/*
 * Open path read-only as bundle_open(BUNDLE_READ) does: with
 * immutable=1 when no WAL with content and no rollback journal is
 * beside it, so that SQLite takes no lock and creates no -wal or -shm
 * file, and as a plain read-only connection otherwise.
 */
static sqlite3 *open_events(const char *path)
{
	off_t wal_size, journal_size;
	int wal = sidecar(path, "-wal", &wal_size);
	int journal = sidecar(path, "-journal", &journal_size);
	int flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX;
	char *uri = NULL;
	sqlite3 *db = NULL;
	int rc;

	if ((!wal || wal_size == 0) && !journal) {
		uri = immutable_uri(path);
		if (!uri) {
			inspect_set_error("cannot read events: '%s': out of "
					  "memory", path);
			return NULL;
		}
		flags |= SQLITE_OPEN_URI;
	}
	rc = sqlite3_open_v2(uri ? uri : path, &db, flags, NULL);
	free(uri);
	if (rc != SQLITE_OK) {
		inspect_set_error("cannot read events: '%s': %s", path,
				  db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return NULL;
	}
	/* The file may come from anyone, as in bundle/store.c. */
	sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_VIEW, 0, NULL);
	sqlite3_busy_timeout(db, 5000);
	return db;
}

typedef int (*row_fn)(const struct inspect_chain_row *row, void *arg);

static int read_rows(sqlite3 *db, const char *path, uint64_t max,
		     row_fn fn, void *arg)
{
	struct inspect_chain_row row;
	sqlite3_stmt *stmt = NULL;
	int rc = SQLITE_DONE, failed = 0;

	if (sqlite3_prepare_v2(db, "SELECT seq, hash, event FROM events "
			       "ORDER BY seq LIMIT ?", -1, &stmt,
			       NULL) != SQLITE_OK) {
		inspect_set_error("cannot read events: '%s': %s", path,
				  sqlite3_errmsg(db));
		return -1;
	}
	sqlite3_bind_int64(stmt, 1, (sqlite3_int64)max);
	while (!failed && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		row.seq = (uint64_t)sqlite3_column_int64(stmt, 0);
		row.hash = sqlite3_column_blob(stmt, 1);
		row.hash_len = (size_t)sqlite3_column_bytes(stmt, 1);
		row.text = sqlite3_column_blob(stmt, 2);
		row.len = (size_t)sqlite3_column_bytes(stmt, 2);
		if (!row.text)
			row.text = "";
		failed = fn(&row, arg) != 0;
	}
	if (!failed && rc != SQLITE_DONE) {
		inspect_set_error("cannot read events: '%s': %s", path,
				  sqlite3_errmsg(db));
		failed = 1;
	}
	sqlite3_finalize(stmt);
	return failed ? -1 : 0;
}

int inspect_chain_each(const char *path, uint64_t max, row_fn fn, void *arg)
{
	sqlite3 *db;
	int rc;

	if (max == 0)
		return 0;
	db = open_events(path);
	if (!db)
		return -1;
	rc = read_rows(db, path, max, fn, arg);
	sqlite3_close(db);
	return rc;
}

struct links {
	struct inspect_chain_link *links;
	size_t n;
};

static int add_link(const struct inspect_chain_row *row, void *arg)
{
	struct links *l = arg;
	struct inspect_chain_link *link = &l->links[l->n];

	link->seq = row->seq;
	if (!EVP_Digest(row->text, row->len, link->hash.bytes, NULL,
			EVP_sha256(), NULL)) {
		inspect_set_error("cannot check event: '%llu': SHA-256 failed",
				  (unsigned long long)row->seq);
		return -1;
	}
	link->hash_matches = row->hash_len == BUNDLE_ID_LEN &&
			     memcmp(row->hash, link->hash.bytes,
				    BUNDLE_ID_LEN) == 0;
	l->n++;
	return 0;
}

int inspect_chain_read(const char *path, uint64_t max,
		       struct inspect_chain_link **links, size_t *n)
{
	struct links l = { NULL, 0 };

	*links = NULL;
	*n = 0;
	if (max == 0)
		return 0;
	l.links = calloc((size_t)max, sizeof(*l.links));
	if (!l.links) {
		inspect_set_error("cannot read events: '%s': out of memory",
				  path);
		return -1;
	}
	if (inspect_chain_each(path, max, add_link, &l) < 0) {
		free(l.links);
		return -1;
	}
	*links = l.links;
	*n = l.n;
	return 0;
}
