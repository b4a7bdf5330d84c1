/*
 * bundle.h - the bundle store: one SQLite file of content-addressed,
 * zstd-compressed objects and a hash-chained event log.
 *
 * Invariants (docs/bundle-format.md is the full description):
 *  1. An object's id is the SHA-256 of its uncompressed content, so an
 *     object is stored once however often it is added.
 *  2. An event and every object it references are committed in one
 *     SQLite transaction: a reader never sees an event whose objects are
 *     missing, even after the writer was killed.
 *  3. Events are numbered from 1 without gaps, and each records the hash
 *     of the one before it. A finalized bundle stores the hash of its last
 *     event as the root digest, and is never written again.
 *
 * States of a bundle file: created -> writing (WAL, events appended) ->
 * finalized (WAL checkpointed, one self-contained file). A writer that
 * dies leaves it in "writing"; it then opens read-only as incomplete and
 * verifies up to its last committed event.
 *
 * Errors: functions return 0 on success and -1 on failure (or NULL), with
 * the message in bundle_error(). Memory that a function returns through
 * an out parameter belongs to the caller, who frees it with free() unless
 * the function's comment names another release function. A struct bundle
 * is used by one thread at a time.
 */
#ifndef BUNDLE_BUNDLE_H
#define BUNDLE_BUNDLE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "bundle/error.h"

#define BUNDLE_ID_LEN 32
#define BUNDLE_ID_HEX_LEN 64

/* A SHA-256 digest: an object id, an event hash or a root digest. */
struct bundle_id {
	unsigned char bytes[BUNDLE_ID_LEN];
};

/* The kind of an object, stored beside it so verify can check references. */
enum bundle_kind {
	BUNDLE_BLOB = 1,	/* file content or any opaque bytes */
	BUNDLE_CHUNKS = 2,	/* the chunk list of a large file */
	BUNDLE_TREE = 3,	/* one directory of a snapshot */
	BUNDLE_JSON = 4,	/* a JSON document referenced by an event */
	BUNDLE_DICT = 5,	/* a zstd dictionary that objects were
				 * compressed with; only the store puts it */
};

struct bundle;

struct bundle_options {
	int zstd_level;		/* 0 means the measured default */
	uint32_t chunk_avg;	/* average chunk size in bytes, a power of
				 * two from 4 KiB to 4 MiB; 0 means the
				 * measured default */
};

enum bundle_open_mode {
	BUNDLE_READ = 0,	/* read-only; works on incomplete bundles */
	BUNDLE_APPEND = 1,	/* append events to a bundle not finalized */
};

/* Format an id as 64 lowercase hex digits plus NUL into hex. */
void bundle_id_to_hex(const struct bundle_id *id,
		      char hex[BUNDLE_ID_HEX_LEN + 1]);

/* Parse 64 hex digits. Returns -1 when hex is not exactly that. */
int bundle_id_from_hex(struct bundle_id *id, const char *hex);

/* Create a new bundle at path; fails when the file exists. */
struct bundle *bundle_create(const char *path,
			     const struct bundle_options *options);

/* Open an existing bundle. Fails with "'<path>': not a runbundle
 * bundle" on any other file. BUNDLE_READ never writes, except to let
 * SQLite roll back a hot journal that a killed writer left. */
struct bundle *bundle_open(const char *path, enum bundle_open_mode mode);

/* Close and free. Does not finalize: a bundle closed unfinalized stays
 * incomplete. Accepts NULL. */
void bundle_close(struct bundle *bundle);

/*
 * Remove the closed bundle that bundle_create() made at path, with its
 * -wal, -shm and -journal, for a run that failed before the bundle held
 * anything of value. created is the file's stat() after the creation,
 * so a file that has replaced it since is kept. So is a bundle that
 * another process uses: one that holds an SQLite lock on it, as in a
 * transaction. Returns 0, or -1 with the message in bundle_error() when
 * the bundle is kept that way or a file could not be removed.
 */
int bundle_remove_created(const char *path, const struct stat *created);

/* Return whether message, stored by this library, reports a full file
 * system: SQLite's SQLITE_FULL or ENOSPC. */
int bundle_error_is_disk_full(const char *message);

/*
 * Nonzero when a reader may have read the bundle while another process
 * wrote it: it was opened without locks, as a bundle with nothing beside
 * it is, and its header changed since, or a -wal or -journal appeared.
 * What it read may then mix two states, so read it again.
 */
int bundle_read_changed(const struct bundle *bundle);

/* Nonzero when the bundle was finalized. */
int bundle_is_finalized(const struct bundle *bundle);

/*
 * Transactions group objects with the event that references them.
 * Objects put outside a transaction are committed at once, each with its
 * own sync to disk, so batch them in one. Nesting is not supported. After
 * a failed call inside a transaction, call bundle_rollback().
 */
int bundle_begin(struct bundle *bundle);
int bundle_commit(struct bundle *bundle);
void bundle_rollback(struct bundle *bundle);

/*
 * Begin a read transaction, which bundle_read_end() ends. The reads in
 * between see one state of the bundle, and SQLite takes its locks once.
 * Outside a transaction each read takes and drops them, which costs
 * several system calls a read on a bundle in WAL mode. Fails inside
 * bundle_begin().
 */
int bundle_read_begin(struct bundle *bundle);
void bundle_read_end(struct bundle *bundle);

/* Store bytes as an object of the given kind, unless an object with the
 * same id is already stored, and return its id. */
int bundle_put(struct bundle *bundle, enum bundle_kind kind,
	       const void *data, size_t len, struct bundle_id *id);

/* Nonzero when the object is stored. */
int bundle_has(struct bundle *bundle, const struct bundle_id *id);

/* The largest object, in bytes, that bundle_get() loads whole. */
#define BUNDLE_MAX_GET ((uint64_t)1 << 32)

/* Load and decompress an object, checking its hash. *data is malloc'd
 * (with a NUL after the last byte, for convenience) and owned by the
 * caller. kind may be NULL. Objects larger than BUNDLE_MAX_GET fail. */
int bundle_get(struct bundle *bundle, const struct bundle_id *id,
	       void **data, size_t *len, enum bundle_kind *kind);

/* Load an object as bundle_get does, for readers that know its size from
 * a tree entry or a chunk list. Returns -2, with *len set to the size
 * that its size column records, when that is more than max bytes, and
 * then decompresses nothing. */
int bundle_get_max(struct bundle *bundle, const struct bundle_id *id,
		   uint64_t max, void **data, size_t *len);

/*
 * Store the content of a file read from fd up to EOF. Small content
 * becomes one BLOB; large content is split with content-defined chunking
 * into BLOB chunks and one CHUNKS object. *ref is the id of that BLOB or
 * CHUNKS object; *content is the SHA-256 of the whole content; *size is
 * its length in bytes. content and size may be NULL.
 */
int bundle_put_fd(struct bundle *bundle, int fd, struct bundle_id *ref,
		  struct bundle_id *content, uint64_t *size);

/*
 * bundle_put_fd, telling a failure to read fd from a failure of the
 * store: when reading fd failed, *read_errno is its errno and the bundle
 * can still be written (chunks stored before the failure stay, without
 * a reference). After a store failure, and on success, it is 0.
 */
int bundle_put_fd_errno(struct bundle *bundle, int fd, struct bundle_id *ref,
			struct bundle_id *content, uint64_t *size,
			int *read_errno);

/* Write the content that bundle_put_fd stored under ref to fd, chunk by
 * chunk, in bounded memory. */
int bundle_write_content(struct bundle *bundle, const struct bundle_id *ref,
			 int fd);

/*
 * Append an event: a JSON object with "seq", "kind", "time" (RFC 3339
 * UTC, microseconds), "prev" (hex hash of the previous event, absent for
 * the first), "refs" (hex ids of objects it references, which must be
 * stored) and "data" (a copy of data, or absent when data is NULL).
 * *seq receives its sequence number; seq may be NULL.
 */
int bundle_append_event(struct bundle *bundle, const char *kind,
			const cJSON *data, const struct bundle_id *refs,
			size_t n_refs, uint64_t *seq);

/*
 * Append an event that another bundle chained, as its exact text of len
 * bytes without a NUL. The text must be a JSON object with a "kind" and
 * a "time", whose "seq" is the next number and whose "prev" is the hash
 * of the last event stored (absent for the first). Every id in its
 * "refs" must be a stored object. The text is stored byte for byte, so
 * its hash (the SHA-256 of those bytes) is the one the other bundle
 * had, and *hash receives it unless hash is NULL. "runbundle import"
 * rebuilds a bundle from an export with it.
 */
int bundle_import_event(struct bundle *bundle, const char *text, size_t len,
			struct bundle_id *hash);

/* bundle_import_event() for each line of text (len bytes, every line
 * ended by '\n'), in one transaction, so all are appended or none. *hash
 * receives the last one's hash. When text is empty, it receives the
 * hash of the last event stored, or all zero bytes when there is none. */
int bundle_import_events(struct bundle *bundle, const char *text,
			 size_t len, struct bundle_id *hash);

/* Number of committed events. */
uint64_t bundle_event_count(struct bundle *bundle);

/* One stored event as written. The pointers are valid only during the
 * call that receives the row. */
struct bundle_event_row {
	uint64_t seq;		 /* the row's seq */
	const char *text;	 /* the stored text, len bytes, no NUL */
	size_t len;
	struct bundle_id hash;	 /* SHA-256 of that text */
	int hash_matches;	 /* the row's hash column is that hash */
};

/*
 * Call fn with each stored event in seq order, as its exact text: the
 * bytes the chain hashes, which printing a parsed event again need not
 * give. Stops at the first nonzero return of fn and returns it; -1 with
 * bundle_error() set when the table cannot be read.
 */
int bundle_each_event_row(struct bundle *bundle,
			  int (*fn)(const struct bundle_event_row *row,
				    void *arg),
			  void *arg);

/* Load event seq (1-based) as parsed JSON, owned by the caller (free
 * with cJSON_Delete). */
cJSON *bundle_get_event(struct bundle *bundle, uint64_t seq);

/* Checkpoint, store the root digest (the hash of the last event) and
 * mark the bundle finalized. root may be NULL. A reader that has the
 * file open, or a full disk, can keep the checkpoint from finishing,
 * which is no error: bundle_wal_kept() then returns what stayed beside
 * the file. */
int bundle_finalize(struct bundle *bundle, struct bundle_id *root);

/* The part of a finalized bundle still outside its file. */
enum bundle_wal {
	BUNDLE_WAL_NONE = 0,	/* the file alone is the whole bundle */
	BUNDLE_WAL_MODE,	/* the file has every commit, but stays in
				 * WAL mode, so readers need to write the
				 * -wal and -shm files beside it */
	BUNDLE_WAL_COMMITS,	/* the last commits are in the -wal file,
				 * which must stay beside the file */
	BUNDLE_WAL_MOVED,	/* the file has every commit, but was moved
				 * or removed while open, so SQLite kept it
				 * in WAL mode */
};

/* Return the part that bundle_finalize() left outside the file. */
enum bundle_wal bundle_wal_kept(const struct bundle *bundle);

/* Return the cause of that part when the checkpoint failed (a full
 * disk), or NULL when it waited for a reader or nothing stayed. */
const char *bundle_wal_error(const struct bundle *bundle);

/* Move every commit of a bundle that stays unfinalized into its file and
 * leave WAL mode, before bundle_close(). Readers can then tell the file
 * from a copy made during a recording without its -wal file. Sets no
 * error: when another process has the file open or the disk is full,
 * the bundle stays in WAL mode with its -wal file, as before. */
void bundle_leave_wal(struct bundle *bundle);

/* The root digest of a finalized bundle. Fails when not finalized. */
int bundle_root(struct bundle *bundle, struct bundle_id *root);

#endif
