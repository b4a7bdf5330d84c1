/*
 * chain.c - read the events table for the hash of each event's stored
 * text.
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

static int read_link(sqlite3_stmt *stmt, struct inspect_chain_link *link)
{
	const void *text = sqlite3_column_blob(stmt, 2);
	int len = sqlite3_column_bytes(stmt, 2);

	link->seq = (uint64_t)sqlite3_column_int64(stmt, 0);
	if (!EVP_Digest(text ? text : "", text ? (size_t)len : 0,
			link->hash.bytes, NULL, EVP_sha256(), NULL)) {
		inspect_set_error("cannot check event: '%llu': SHA-256 failed",
				  (unsigned long long)link->seq);
		return -1;
	}
	link->hash_matches =
		sqlite3_column_bytes(stmt, 1) == BUNDLE_ID_LEN &&
		memcmp(sqlite3_column_blob(stmt, 1), link->hash.bytes,
		       BUNDLE_ID_LEN) == 0;
	return 0;
}

static int read_rows(sqlite3 *db, const char *path, uint64_t max,
		     struct inspect_chain_link *links, size_t *n)
{
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
	while (!failed && *n < max && (rc = sqlite3_step(stmt)) == SQLITE_ROW)
		failed = read_link(stmt, &links[(*n)++]) < 0;
	if (!failed && rc != SQLITE_ROW && rc != SQLITE_DONE) {
		inspect_set_error("cannot read events: '%s': %s", path,
				  sqlite3_errmsg(db));
		failed = 1;
	}
	sqlite3_finalize(stmt);
	return failed ? -1 : 0;
}

int inspect_chain_read(const char *path, uint64_t max,
		       struct inspect_chain_link **links, size_t *n)
{
	sqlite3 *db;
	int rc;

	*links = NULL;
	*n = 0;
	if (max == 0)
		return 0;
	*links = calloc((size_t)max, sizeof(**links));
	if (!*links) {
		inspect_set_error("cannot read events: '%s': out of memory",
				  path);
		return -1;
	}
	db = open_events(path);
	if (!db) {
		free(*links);
		*links = NULL;
		return -1;
	}
	rc = read_rows(db, path, max, *links, n);
	sqlite3_close(db);
	if (rc < 0) {
		free(*links);
		*links = NULL;
		*n = 0;
	}
	return rc;
}
