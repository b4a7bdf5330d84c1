/*
 * store.h - what the files of the bundle library share and nothing else
 * includes: the open bundle, its SQLite schema constants, and helpers
 * that turn SQLite failures into bundle_error() messages.
 */
#ifndef BUNDLE_STORE_H
#define BUNDLE_STORE_H

#include <sqlite3.h>
#include <stdint.h>
#include <zstd.h>

#include "bundle/bundle.h"

/* "RBND" in the SQLite header's application_id (offset 68, big-endian). */
#define BUNDLE_APPLICATION_ID 0x52424e44
/* The format version in user_version (offset 60); docs/bundle-format.md.
 * Version 1 (no dictionaries) is still read, never written. */
#define BUNDLE_FORMAT_VERSION 2
#define BUNDLE_OLDEST_VERSION 1

/* The measured default zstd level; docs/benchmarks.md has the numbers. */
#define BUNDLE_DEFAULT_LEVEL 3
/* Objects shorter than this are stored raw, because a zstd frame adds
 * a header of its own and short content rarely compresses (an estimate,
 * not measured). */
#define BUNDLE_RAW_BELOW 64


struct bundle {
	sqlite3 *db;
	char *path;
	enum bundle_open_mode mode;
	int version; /* the file's format version */
	int finalized;
	enum bundle_wal wal_kept;	/* set by bundle_finalize() */
	char wal_error[160];	/* why wal_kept, when not a reader */
	int in_transaction;
	int level;
	size_t chunk_avg;
	ZSTD_CCtx *cctx;
	ZSTD_DCtx *dctx;
	sqlite3_stmt *put_stmt;
	sqlite3_stmt *has_stmt;
	sqlite3_stmt *get_stmt;
	sqlite3_stmt *cache_get_stmt; /* snapshot_cache.c */
	sqlite3_stmt *cache_put_stmt;
	sqlite3_stmt *last_event_stmt; /* event.c */
	sqlite3_stmt *insert_event_stmt;
	sqlite3_stmt *get_event_stmt;
	struct pipeline *pipeline; /* compress.c; NULL until first used */
	int workers;		   /* compress.c's threads; 0: the default */
	struct store_dict *dict;   /* dict.c */
	int pack_usable;	   /* pack.c: usable bytes a page; -1 unknown */
	int64_t pack_free;	   /* estimated room on the last leaf */
	/* A new bundle's first snapshot is written in rollback-journal
	 * mode (store.c). fresh: created by bundle_create, and nothing
	 * written since. rollback_journal: in that mode now.
	 * keep_rollback: set while that snapshot runs. */
	int fresh;
	int rollback_journal;
	int keep_rollback;
	/* An immutable open (store.c) takes no lock, so a writer that
	 * starts meanwhile goes unseen. header contains the file's first
	 * 100 bytes before the open, which tell whether one did.
	 * immutable: 1 with nothing beside the file, 2 with an empty -wal.
	 * stale_journal: a -journal was beside the file at the open too. */
	int immutable;
	int stale_journal;
	unsigned char header[100];
};

/* Set bundle_error() from the connection's last SQLite failure, as
 * "<what>: '<path>': <sqlite message>", with a hint for a full disk and
 * for a damaged file. Returns -1. */
int store_sql_error(struct bundle *bundle, const char *what);

/* Prepare sql into *stmt once and keep it for the life of the bundle;
 * later calls reset it and clear its bindings. */
int store_prepare(struct bundle *bundle, sqlite3_stmt **stmt, const char *sql);

/* Run one SQL statement that returns no rows. */
int store_exec(struct bundle *bundle, const char *sql, const char *what);

/* Fail with a clear message unless the bundle was opened for writing
 * and is not finalized. Outside a transaction, it also switches a new
 * bundle from rollback-journal mode to WAL, unless keep_rollback is set
 * (see store_start_wal). */
int store_check_writable(struct bundle *bundle);

/* Switch a fresh bundle from WAL to rollback-journal mode, with
 * synchronous = EXTRA, for its first snapshot; and back to WAL, with
 * synchronous = FULL, when it ends. store_start_wal does nothing when
 * the bundle is in WAL mode. Both fail when another connection has the
 * file open, and then leave the mode as it was. */
int store_use_rollback(struct bundle *bundle);
int store_start_wal(struct bundle *bundle);

/* Read and write one row of the meta table. store_get_meta returns a
 * malloc'd string, or NULL with *found = 0 when the key is absent (and
 * NULL with *found = 1 after a failure). */
char *store_get_meta(struct bundle *bundle, const char *key, int *found);
int store_set_meta(struct bundle *bundle, const char *key, const char *value);

/* Run fn inside a transaction of its own unless the caller already
 * has one open. */
int store_in_transaction(struct bundle *bundle,
			 int (*fn)(struct bundle *bundle, void *arg),
			 void *arg);

/* The names stored in the kind and encoding columns. */
const char *store_kind_name(enum bundle_kind kind);
int store_kind_from_name(const char *name, enum bundle_kind *kind);

/* Insert one object row; data is stored_len bytes in that encoding,
 * compressed with dictionary dict (NULL for none). */
int store_insert(struct bundle *bundle, const struct bundle_id *id,
		 enum bundle_kind kind, size_t len, const char *encoding,
		 const void *data, size_t stored_len,
		 const struct bundle_id *dict);

/*
 * The zstd dictionary of dict.c. store_dict_init sets it up after the
 * bundle's state is read (a writer loads meta.dict); store_dict_free
 * undoes it. store_dict_sample keeps a copy of a blob put inside a
 * transaction, until there are enough to train the dictionary, which it
 * then stores in that transaction. store_dict_for returns the CDict to
 * compress an object with, and its id in *id, or NULL for none; the
 * CDict lives until store_dict_free or a rollback of the transaction
 * that trained it (store_dict_end_transaction, called at commit and
 * rollback after the pipeline is empty). store_dict_ddict loads a
 * dictionary for reading; it stays valid until the next call with
 * another id. All return -1 or NULL with bundle_error() set.
 */
int store_dict_init(struct bundle *bundle);
void store_dict_free(struct bundle *bundle);
int store_dict_sample(struct bundle *bundle, enum bundle_kind kind,
		      const void *data, size_t len);
const ZSTD_CDict *store_dict_for(struct bundle *bundle, enum bundle_kind kind,
				 size_t len, struct bundle_id *id);
void store_dict_end_transaction(struct bundle *bundle, int committed);
const ZSTD_DDict *store_dict_ddict(struct bundle *bundle,
				   const struct bundle_id *id);

/*
 * The room that a row takes on a leaf page of the objects table, as
 * pack.c estimates it: bytes (cell and pointer) and overflow pages.
 * store_insert calls store_pack_account after it inserts a row, which
 * updates bundle->pack_free.
 */
struct store_cell {
	size_t bytes;
	size_t overflow;
};
struct store_cell store_pack_cell(struct bundle *bundle, enum bundle_kind kind,
				  uint64_t size, const char *encoding,
				  size_t stored_len, int has_dict);
void store_pack_account(struct bundle *bundle, const struct store_cell *cell);

/* Compress src into one frame, with cdict when it is not NULL. Returns
 * the length or a zstd error code. */
size_t store_compress(ZSTD_CCtx *cctx, const ZSTD_CDict *cdict, int level,
		      void *dst, size_t cap, const void *src, size_t len);

/*
 * The compression pipeline of compress.c, for objects put inside a
 * transaction. store_pipeline_put queues a copy of data: it returns 0
 * when queued, 1 when the pipeline is unavailable (store the object at
 * once instead), and -1 when inserting an earlier job failed.
 * store_pipeline_find returns 1 when the id is queued, and gives the job
 * a structural kind. store_pipeline_flush inserts every queued job;
 * store_pipeline_discard drops them; store_pipeline_stop also ends the
 * thread.
 */
int store_pipeline_put(struct bundle *bundle, const struct bundle_id *id,
		       enum bundle_kind kind, const void *data, size_t len,
		       const ZSTD_CDict *cdict, const struct bundle_id *dict);
int store_pipeline_find(struct bundle *bundle, const struct bundle_id *id,
			enum bundle_kind kind);
int store_pipeline_flush(struct bundle *bundle);
void store_pipeline_discard(struct bundle *bundle);
void store_pipeline_stop(struct bundle *bundle);

/*
 * bundle_put_fd_errno, but stop reading at expected bytes, which saves
 * the read(2) that would return EOF. The caller compares the file's
 * fstat before and after, which catches a file that grew meanwhile.
 * UINT64_MAX reads up to EOF.
 */
int store_put_fd_expected(struct bundle *bundle, int fd, uint64_t expected,
			  struct bundle_id *ref, struct bundle_id *content,
			  uint64_t *size, int *read_errno);

/* SHA-256 of one buffer. */
void store_sha256(const void *data, size_t len, struct bundle_id *id);

/* The value of one hex digit, either case, or -1 for another byte. */
int store_hex_value(char c);

/* SHA-256 for EVP_DigestInit_ex(), fetched once; never NULL. */
struct evp_md_st;
const struct evp_md_st *store_sha256_md(void);

#endif
