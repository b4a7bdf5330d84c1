/*
 * pack.c - how much room the objects table's last leaf page has left, so
 * that the compression pipeline inserts the object that fills it best.
 *
 * Rows are appended in rowid order, and SQLite starts a new leaf page
 * for a row that does not fit in the last one (balance_quick in
 * btree.c), so rows inserted in arrival order leave the rest of that
 * page empty. On bench/snapshot.sh's tree that was 4.4 MB, 11% of the
 * file. The pipeline holds up to 64 compressed objects, so it inserts
 * the largest one that still fits, or the largest of all when none
 * does. That left 75 KB unused on the same tree.
 *
 * The cell sizes below follow SQLite's file format (fileformat2.html:
 * record format, B-tree cells, overflow pages), and a row that does not
 * fit in the estimated room is taken to start a new leaf. Asking SQLite
 * instead (PRAGMA page_count before and after each row) cost the main
 * thread 150 million instructions on bench/snapshot.sh's tree (callgrind),
 * and left 0.42% of the leaf pages unused against 0.34% now. An estimate
 * that is off only costs space, never correctness.
 */
#include <string.h>

#include "bundle/store.h"

static size_t varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 128 && n < 9) {
		v >>= 7;
		n++;
	}
	return n;
}

/* Bytes of a record's integer column, by serial type. */
static size_t int_len(uint64_t v)
{
	if (v <= 1)
		return 0;
	if (v <= 127)
		return 1;
	if (v <= 32767)
		return 2;
	if (v <= 8388607)
		return 3;
	if (v <= 2147483647)
		return 4;
	if (v <= 140737488355327)
		return 6;
	return 8;
}

static int usable_size(struct bundle *bundle)
{
	sqlite3_stmt *stmt = NULL;

	if (bundle->pack_usable)
		return bundle->pack_usable;
	bundle->pack_usable = -1;
	if (sqlite3_prepare_v2(bundle->db, "PRAGMA page_size", -1, &stmt,
			       NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		bundle->pack_usable = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	if (bundle->pack_usable < 512)
		bundle->pack_usable = -1;
	return bundle->pack_usable;
}

struct store_cell store_pack_cell(struct bundle *bundle, enum bundle_kind kind,
				  uint64_t size, const char *encoding,
				  size_t stored_len, int has_dict)
{
	struct store_cell cell = {0, 0};
	int usable = usable_size(bundle);
	size_t max_local, min_local, local, header, payload;
	sqlite3_int64 rowid = sqlite3_last_insert_rowid(bundle->db) + 1;

	if (usable < 0)
		return cell;
	max_local = (size_t)usable - 35;
	min_local = ((size_t)usable - 12) * 32 / 255 - 23;

	/* Columns id, kind, size, encoding, data, dict: one byte of serial
	 * type each, but data's, which grows with its length. */
	header = 6 + varint_len(12 + 2 * (uint64_t)stored_len);
	payload = header + BUNDLE_ID_LEN + strlen(store_kind_name(kind)) +
		  int_len(size) + strlen(encoding) + stored_len +
		  (has_dict ? BUNDLE_ID_LEN : 0);

	local = payload;
	if (payload > max_local) {
		size_t surplus = min_local +
				 (payload - min_local) % ((size_t)usable - 4);

		local = surplus <= max_local ? surplus : min_local;
		cell.overflow = (payload - local + (size_t)usable - 5) /
				((size_t)usable - 4);
		local += 4;
	}
	/* Plus the 2-byte cell pointer. */
	cell.bytes = varint_len(payload) + varint_len((uint64_t)rowid) + local +
		     2;
	return cell;
}

void store_pack_account(struct bundle *bundle, const struct store_cell *cell)
{
	if (bundle->pack_usable <= 0 || cell->bytes == 0) {
		bundle->pack_free = 0;
		return;
	}
	/* A row that does not fit starts a new leaf, which has an 8-byte
	 * header. */
	if ((int64_t)cell->bytes > bundle->pack_free)
		bundle->pack_free = bundle->pack_usable - 8;
	bundle->pack_free -= (int64_t)cell->bytes;
	if (bundle->pack_free < 0)
		bundle->pack_free = 0;
}
