/*
 * snapshot_index.c - the snapshot_index table: one row per snapshot
 * event, with its path and root tree id. Finding the previous snapshot of
 * a directory, the latest snapshot and a root tree id prefix are then
 * B-tree look-ups instead of a scan of the event log.
 *
 * The table is derived data. A row is inserted in the transaction of its
 * event, verify checks that the rows agree with the events, and a bundle
 * without the table (read-only, from a writer before the index) is read
 * by scanning the events as before.
 */
#include <string.h>

#include "bundle/snapshot_internal.h"
#include "bundle/store.h"

static const char table_sql[] =
	"CREATE TABLE snapshot_index (\n"
	"\tseq INTEGER PRIMARY KEY NOT NULL CHECK (seq >= 1),\n"
	"\tpath TEXT NOT NULL,\n"
	"\troot BLOB NOT NULL CHECK (length(root) = 32)\n"
	")";

static const char *const index_sql[] = {
	"CREATE INDEX IF NOT EXISTS snapshot_index_path "
	"ON snapshot_index (path, seq)",
	"CREATE INDEX IF NOT EXISTS snapshot_index_root "
	"ON snapshot_index (root, seq)",
};

/* 1 when the table is ours, 0 when it is missing, -1 when it is another
 * table of that name (a damaged or hostile file) or SQLite failed. */
static int table_state(struct bundle *bundle)
{
	sqlite3_stmt *stmt = NULL;
	int rc;

	if (sqlite3_prepare_v2(bundle->db,
			       "SELECT sql FROM sqlite_schema WHERE "
			       "name = 'snapshot_index' AND type = 'table'",
			       -1, &stmt, NULL) != SQLITE_OK)
		return store_sql_error(bundle, "cannot read snapshot index");
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		const char *sql = (const char *)sqlite3_column_text(stmt, 0);

		rc = sql && strcmp(sql, table_sql) == 0 ? 1 : -2;
	} else {
		rc = rc == SQLITE_DONE ? 0 : -1;
	}
	sqlite3_finalize(stmt);
	if (rc == -1)
		return store_sql_error(bundle, "cannot read snapshot index");
	if (rc == -2) {
		bundle_set_error("cannot read snapshot index: '%s': the table "
				 "is not the one of format version 1",
				 bundle->path);
		bundle_set_hint("the file was damaged or written by another "
				"program");
		return -1;
	}
	return rc;
}

/* Index the snapshot events that a writer without the index stored. */
static int backfill(struct bundle *bundle)
{
	uint64_t n = bundle_event_count(bundle);

	for (uint64_t seq = 1; seq <= n; seq++) {
		struct bundle_snapshot s;
		cJSON *event = bundle_get_event(bundle, seq);
		const char *path;
		int rc;

		if (!event)
			return -1;
		rc = snapshot_parse_event(event, &s, &path, NULL);
		if (rc == 0)
			rc = snapshot_index_add(bundle, seq, path, &s.root);
		else
			rc = 0;
		cJSON_Delete(event);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int create_tables(struct bundle *bundle)
{
	if (store_exec(bundle, table_sql, "cannot create snapshot index") ||
	    store_exec(bundle, index_sql[0], "cannot create snapshot index") ||
	    store_exec(bundle, index_sql[1], "cannot create snapshot index"))
		return -1;
	return 1;
}

static int create(struct bundle *bundle)
{
	int state;

	/* As before every write: a bundle left in rollback-journal mode
	 * switches back to WAL, and a new one is no longer fresh. */
	if (store_check_writable(bundle))
		return -1;
	if (store_exec(bundle, "BEGIN IMMEDIATE",
		       "cannot create snapshot "
		       "index"))
		return -1;
	/* Another writer may have created the table since it was looked
	 * up, before this transaction took the write lock. */
	state = table_state(bundle);
	if (state != 0) {
		sqlite3_exec(bundle->db, "ROLLBACK", NULL, NULL, NULL);
		return state;
	}
	if (create_tables(bundle) < 0 ||
	    backfill(bundle) ||
	    store_exec(bundle, "COMMIT", "cannot create snapshot index")) {
		sqlite3_exec(bundle->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return 1;
}

int snapshot_index_open(struct bundle *bundle)
{
	int state = table_state(bundle);

	if (state != 0)
		return state;
	if (bundle->mode != BUNDLE_APPEND || bundle->finalized)
		return 0;
	/* A new bundle's first snapshot creates the table in its own
	 * transaction, which saves a commit (several syncs in the
	 * rollback-journal mode of that snapshot). With no events there
	 * is nothing to index. */
	if (bundle->in_transaction)
		return bundle_event_count(bundle) == 0 ? create_tables(bundle)
						       : 0;
	return create(bundle);
}

int snapshot_index_add(struct bundle *bundle, uint64_t seq, const char *path,
		       const struct bundle_id *root)
{
	sqlite3_stmt *stmt = NULL;
	int rc;

	if (sqlite3_prepare_v2(bundle->db,
			       "INSERT INTO snapshot_index (seq, path, root) "
			       "VALUES (?, ?, ?)",
			       -1, &stmt, NULL) != SQLITE_OK)
		return store_sql_error(bundle, "cannot write snapshot index");
	sqlite3_bind_int64(stmt, 1, (sqlite3_int64)seq);
	sqlite3_bind_text(stmt, 2, path, -1, SQLITE_STATIC);
	sqlite3_bind_blob(stmt, 3, root->bytes, BUNDLE_ID_LEN, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return store_sql_error(bundle, "cannot write snapshot index");
	return 0;
}

/* Run a query whose first column is a seq. Returns 1 and *seq for a
 * row, and 0 for no row or NULL. */
static int query_seq(struct bundle *bundle, sqlite3_stmt *stmt, uint64_t *seq)
{
	int rc = sqlite3_step(stmt);

	if (rc == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL) {
		*seq = (uint64_t)sqlite3_column_int64(stmt, 0);
		rc = 1;
	} else if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
		rc = 0;
	} else {
		rc = store_sql_error(bundle, "cannot read snapshot index");
	}
	sqlite3_finalize(stmt);
	return rc;
}

int snapshot_index_previous(struct bundle *bundle, const char *path,
			    uint64_t *seq)
{
	sqlite3_stmt *stmt = NULL;

	if (sqlite3_prepare_v2(bundle->db,
			       "SELECT max(seq) FROM snapshot_index "
			       "WHERE path = ?",
			       -1, &stmt, NULL) != SQLITE_OK)
		return store_sql_error(bundle, "cannot read snapshot index");
	sqlite3_bind_text(stmt, 1, path, -1, SQLITE_STATIC);
	return query_seq(bundle, stmt, seq);
}

int snapshot_index_latest(struct bundle *bundle, uint64_t *seq)
{
	sqlite3_stmt *stmt = NULL;

	if (sqlite3_prepare_v2(bundle->db,
			       "SELECT max(seq) FROM snapshot_index", -1, &stmt,
			       NULL) != SQLITE_OK)
		return store_sql_error(bundle, "cannot read snapshot index");
	return query_seq(bundle, stmt, seq);
}

/* The smallest and largest ids that start with the hex prefix. */
static void prefix_range(const char *prefix, unsigned char *low,
			 unsigned char *high)
{
	memset(low, 0, BUNDLE_ID_LEN);
	memset(high, 0xff, BUNDLE_ID_LEN);
	for (size_t i = 0; prefix[i] && i < BUNDLE_ID_HEX_LEN; i++) {
		int v = store_hex_value(prefix[i]);
		unsigned char *lo = &low[i / 2], *hi = &high[i / 2];

		if (i % 2 == 0) {
			*lo = (unsigned char)(v << 4);
			*hi = (unsigned char)(v << 4 | 0x0f);
		} else {
			*lo = (unsigned char)(*lo | v);
			*hi = (unsigned char)((*hi & 0xf0) | v);
		}
	}
}

int snapshot_index_prefix(struct bundle *bundle, const char *prefix,
			  uint64_t *seq, int *ambiguous)
{
	unsigned char low[BUNDLE_ID_LEN], high[BUNDLE_ID_LEN];
	sqlite3_stmt *stmt = NULL;
	int rc, found = 0;

	*ambiguous = 0;
	prefix_range(prefix, low, high);

	/* Two distinct roots are enough to detect an ambiguous prefix. With
	 * one root, its last snapshot is the result. */
	if (sqlite3_prepare_v2(bundle->db,
			       "SELECT root, max(seq) FROM snapshot_index "
			       "WHERE root BETWEEN ? AND ? "
			       "GROUP BY root LIMIT 2",
			       -1, &stmt, NULL) != SQLITE_OK)
		return store_sql_error(bundle, "cannot read snapshot index");
	sqlite3_bind_blob(stmt, 1, low, BUNDLE_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(stmt, 2, high, BUNDLE_ID_LEN, SQLITE_STATIC);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (found)
			*ambiguous = 1;
		*seq = (uint64_t)sqlite3_column_int64(stmt, 1);
		found = 1;
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return store_sql_error(bundle, "cannot read snapshot index");
	return found;
}
