/*
 * verify_index.c - check that the snapshot_index table agrees with the
 * snapshot events: one row per event of kind "snapshot", with the same
 * path and root tree id. A bundle without the table has nothing to check.
 */
#include <string.h>

#include "bundle/verify_internal.h"

/* Each row, beside the event of the same seq, or NULLs when none. A
 * damaged event text gives NULLs too, and check_events reports it. */
static const char rows_sql[] =
	"SELECT i.seq, i.path, i.root, "
	"CASE WHEN json_valid(e.event) THEN "
	"json_extract(e.event, '$.kind') END, "
	"CASE WHEN json_valid(e.event) THEN "
	"json_extract(e.event, '$.data.path') END, "
	"CASE WHEN json_valid(e.event) THEN "
	"json_extract(e.event, '$.data.root') END "
	"FROM snapshot_index AS i LEFT JOIN events AS e ON e.seq = i.seq";

/* Snapshot events without a row. */
static const char missing_sql[] =
	"SELECT e.seq FROM events AS e WHERE json_valid(e.event) AND "
	"json_extract(e.event, '$.kind') = 'snapshot' AND "
	"NOT EXISTS (SELECT 1 FROM snapshot_index AS i WHERE i.seq = e.seq)";

static int has_table(struct verify *v)
{
	sqlite3_stmt *stmt = NULL;
	int rc;

	if (sqlite3_prepare_v2(v->bundle->db,
			       "SELECT 1 FROM sqlite_schema WHERE "
			       "name = 'snapshot_index' AND type = 'table'",
			       -1, &stmt, NULL) != SQLITE_OK) {
		verify_sql_problem(v, "cannot read the snapshot index");
		return 0;
	}
	rc = sqlite3_step(stmt) == SQLITE_ROW;
	sqlite3_finalize(stmt);
	return rc;
}

static int text_equal(sqlite3_stmt *stmt, int a, int b)
{
	const unsigned char *x = sqlite3_column_text(stmt, a);
	const unsigned char *y = sqlite3_column_text(stmt, b);

	return x && y && strcmp((const char *)x, (const char *)y) == 0;
}

static void check_row(struct verify *v, sqlite3_stmt *stmt)
{
	uint64_t seq = (uint64_t)sqlite3_column_int64(stmt, 0);
	const unsigned char *kind = sqlite3_column_text(stmt, 3);
	const unsigned char *hex = sqlite3_column_text(stmt, 5);
	char row_hex[BUNDLE_ID_HEX_LEN + 1] = "";
	struct bundle_id root;

	if (sqlite3_column_bytes(stmt, 2) == BUNDLE_ID_LEN) {
		memcpy(root.bytes, sqlite3_column_blob(stmt, 2), BUNDLE_ID_LEN);
		bundle_id_to_hex(&root, row_hex);
	}
	if (!kind || strcmp((const char *)kind, "snapshot") != 0)
		verify_problem(v, NO_NODE, NULL, seq,
			       "the snapshot index names an event that is not "
			       "a snapshot");
	else if (!text_equal(stmt, 1, 4) || !hex ||
		 strcmp((const char *)hex, row_hex) != 0)
		verify_problem(v, NO_NODE, NULL, seq,
			       "the snapshot index disagrees with the event's "
			       "path or root");
}

void verify_check_snapshot_index(struct verify *v)
{
	sqlite3_stmt *stmt = NULL;
	int rc;

	if (!has_table(v))
		return;
	if (sqlite3_prepare_v2(v->bundle->db, rows_sql, -1, &stmt, NULL) !=
	    SQLITE_OK) {
		verify_sql_problem(v, "cannot read the snapshot index");
		return;
	}
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		check_row(v, stmt);
	if (rc != SQLITE_DONE)
		verify_sql_problem(v, "cannot read the snapshot index");
	sqlite3_finalize(stmt);

	if (sqlite3_prepare_v2(v->bundle->db, missing_sql, -1, &stmt, NULL) !=
	    SQLITE_OK) {
		verify_sql_problem(v, "cannot read the snapshot index");
		return;
	}
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		verify_problem(v, NO_NODE, NULL,
			       (uint64_t)sqlite3_column_int64(stmt, 0),
			       "the snapshot event is missing from the "
			       "snapshot index");
	if (rc != SQLITE_DONE)
		verify_sql_problem(v, "cannot read the snapshot index");
	sqlite3_finalize(stmt);
}
