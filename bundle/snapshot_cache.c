/*
 * snapshot_cache.c - the part of the stat cache that tree objects do not
 * hold: the ctime, inode and device of each regular file, stored per
 * directory in the stat_cache table (docs/bundle-format.md).
 *
 * A tree object records what checkout needs, and ctime, inode and device
 * are not that: two trees with the same content must have the same id
 * wherever they were taken. So they live beside the tree, in one row per
 * directory, keyed by its absolute path and naming the tree they were
 * taken with. A row whose tree is not the previous tree of that directory
 * is ignored, so its files are read again.
 */
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "bundle/snapshot_internal.h"
#include "bundle/store.h"

static void put_be64(unsigned char *p, uint64_t value)
{
	value = htobe64(value);
	memcpy(p, &value, sizeof(value));
}

void snapshot_cache_record(unsigned char *record, const struct stat *st)
{
	if (!st) {
		memset(record, 0, SNAPSHOT_CACHE_RECORD);
		return;
	}
	put_be64(record, (uint64_t)st->st_dev);
	put_be64(record + 8, (uint64_t)st->st_ino);
	put_be64(record + 16, (uint64_t)st->st_ctim.tv_sec);
	put_be64(record + 24, (uint64_t)st->st_ctim.tv_nsec);
}

int snapshot_cache_matches(const unsigned char *record, const struct stat *st)
{
	unsigned char mine[SNAPSHOT_CACHE_RECORD];

	snapshot_cache_record(mine, st);
	return memcmp(record, mine, sizeof(mine)) == 0;
}

int snapshot_cache_load(struct bundle *bundle, const char *dir, size_t dir_len,
			const struct bundle_id *tree, size_t n_entries,
			unsigned char **records)
{
	sqlite3_stmt *stmt;
	size_t want = n_entries * SNAPSHOT_CACHE_RECORD;
	int rc;

	*records = NULL;
	if (store_prepare(bundle, &bundle->cache_get_stmt,
			  "SELECT data FROM stat_cache "
			  "WHERE dir = ? AND tree = ?"))
		return -1;
	stmt = bundle->cache_get_stmt;
	sqlite3_bind_blob(stmt, 1, dir, (int)dir_len, SQLITE_STATIC);
	sqlite3_bind_blob(stmt, 2, tree->bytes, BUNDLE_ID_LEN, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW && (size_t)sqlite3_column_bytes(stmt, 0) == want &&
	    want > 0) {
		*records = malloc(want);
		if (*records)
			memcpy(*records, sqlite3_column_blob(stmt, 0), want);
	}
	sqlite3_reset(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_sql_error(bundle, "cannot read stat cache");
	return 0;
}

int snapshot_cache_store(struct bundle *bundle, const char *dir, size_t dir_len,
			 const struct bundle_id *tree,
			 const unsigned char *records, size_t n_entries)
{
	sqlite3_stmt *stmt;
	int rc;

	if (store_prepare(bundle, &bundle->cache_put_stmt,
			  "INSERT OR REPLACE INTO stat_cache (dir, tree, "
			  "data) VALUES (?, ?, ?)"))
		return -1;
	stmt = bundle->cache_put_stmt;
	sqlite3_bind_blob(stmt, 1, dir, (int)dir_len, SQLITE_STATIC);
	sqlite3_bind_blob(stmt, 2, tree->bytes, BUNDLE_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(stmt, 3, records,
			  (int)(n_entries * SNAPSHOT_CACHE_RECORD),
			  SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE)
		return store_sql_error(bundle, "cannot write stat cache");
	return 0;
}
