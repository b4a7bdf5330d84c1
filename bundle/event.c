/*
 * event.c - the hash-chained event log, finalize and the root digest.
 *
 * An event is stored as the exact text that cJSON_PrintUnformatted
 * produced, and its hash is the SHA-256 of those bytes. Each event's
 * "prev" is the hex hash of the event before, so changing any stored
 * event breaks the chain after it, and the root digest of a finalized
 * bundle (the hash of its last event) covers every event.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "bundle/store.h"

/* The root digest of a bundle finalized with no events: SHA-256 of the
 * empty string, so every finalized bundle has one. */
static void empty_root(struct bundle_id *root)
{
	store_sha256("", 0, root);
}

static void format_time(char *buf, size_t len)
{
	struct timespec now;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%06ldZ", now.tv_nsec / 1000);
}

/* The sequence number and hash of the last event; *seq = 0 when the log
 * is empty. The statement is kept for the bundle's life, and reset
 * before returning so that it keeps no read lock open. */
static int last_event(struct bundle *bundle, uint64_t *seq,
		      struct bundle_id *hash)
{
	sqlite3_stmt *stmt;
	int rc;

	*seq = 0;
	if (store_prepare(bundle, &bundle->last_event_stmt,
			  "SELECT seq, hash FROM events "
			  "ORDER BY seq DESC LIMIT 1"))
		return -1;
	stmt = bundle->last_event_stmt;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		sqlite3_int64 last = sqlite3_column_int64(stmt, 0);

		if (last < 1 ||
		    sqlite3_column_bytes(stmt, 1) != BUNDLE_ID_LEN) {
			sqlite3_reset(stmt);
			bundle_set_error("cannot read events: '%s': the last "
					 "event row is malformed",
					 bundle->path);
			return -1;
		}
		*seq = (uint64_t)last;
		memcpy(hash->bytes, sqlite3_column_blob(stmt, 1),
		       BUNDLE_ID_LEN);
	}
	sqlite3_reset(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_sql_error(bundle, "cannot read events");
	return 0;
}

static int add_refs(struct bundle *bundle, cJSON *event,
		    const struct bundle_id *refs, size_t n_refs)
{
	cJSON *array = cJSON_AddArrayToObject(event, "refs");

	if (!array)
		return -1;
	for (size_t i = 0; i < n_refs; i++) {
		char hex[BUNDLE_ID_HEX_LEN + 1];
		cJSON *item;

		bundle_id_to_hex(&refs[i], hex);
		if (!bundle_has(bundle, &refs[i])) {
			bundle_set_error("cannot append event: '%s': the "
					 "object it references is not stored",
					 hex);
			return -1;
		}
		item = cJSON_CreateString(hex);
		if (!item)
			return -1;
		cJSON_AddItemToArray(array, item);
	}
	return 0;
}

/* The event's "data" item. An object or array is only referenced, since
 * the event is printed and deleted before the caller's data is. */
static cJSON *data_item(const cJSON *data)
{
	if (cJSON_IsObject(data))
		return cJSON_CreateObjectReference(data->child);
	if (cJSON_IsArray(data))
		return cJSON_CreateArrayReference(data->child);
	return cJSON_Duplicate(data, 1);
}

static cJSON *build_event(struct bundle *bundle, uint64_t seq,
			  const struct bundle_id *prev, const char *kind,
			  const cJSON *data, const struct bundle_id *refs,
			  size_t n_refs)
{
	cJSON *event = cJSON_CreateObject();
	char time[40];
	char hex[BUNDLE_ID_HEX_LEN + 1];

	format_time(time, sizeof(time));
	if (!event || !cJSON_AddNumberToObject(event, "seq", (double)seq) ||
	    !cJSON_AddStringToObject(event, "kind", kind) ||
	    !cJSON_AddStringToObject(event, "time", time))
		goto fail;
	if (prev) {
		bundle_id_to_hex(prev, hex);
		if (!cJSON_AddStringToObject(event, "prev", hex))
			goto fail;
	}
	if (add_refs(bundle, event, refs, n_refs))
		goto fail_quiet;
	if (data) {
		cJSON *copy = data_item(data);

		if (!copy)
			goto fail;
		cJSON_AddItemToObject(event, "data", copy);
	}
	return event;

fail:
	bundle_set_error("cannot append event: '%s': %s", kind,
			 strerror(ENOMEM));
fail_quiet:
	cJSON_Delete(event);
	return NULL;
}

static int insert_event(struct bundle *bundle, uint64_t seq, const char *text)
{
	struct bundle_id hash;
	sqlite3_stmt *stmt;
	int rc;

	store_sha256(text, strlen(text), &hash);
	if (store_prepare(bundle, &bundle->insert_event_stmt,
			  "INSERT INTO events (seq, hash, event) "
			  "VALUES (?, ?, ?)"))
		return -1;
	stmt = bundle->insert_event_stmt;
	sqlite3_bind_int64(stmt, 1, (sqlite3_int64)seq);
	sqlite3_bind_blob(stmt, 2, hash.bytes, BUNDLE_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, text, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);

	/* The bindings point at text, which the caller frees. */
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	if (rc != SQLITE_DONE)
		return store_sql_error(bundle, "cannot append event");
	return 0;
}

struct append {
	const char *kind;
	const cJSON *data;
	const struct bundle_id *refs;
	size_t n_refs;
	uint64_t seq;
};

static int append_body(struct bundle *bundle, void *arg)
{
	struct append *append = arg;
	struct bundle_id prev;
	uint64_t last;
	cJSON *event;
	char *text;
	int rc;

	if (last_event(bundle, &last, &prev))
		return -1;
	append->seq = last + 1;
	event = build_event(bundle, append->seq, last ? &prev : NULL,
			    append->kind, append->data, append->refs,
			    append->n_refs);
	if (!event)
		return -1;
	text = cJSON_PrintUnformatted(event);
	cJSON_Delete(event);
	if (!text) {
		bundle_set_error("cannot append event: '%s': %s", append->kind,
				 strerror(ENOMEM));
		return -1;
	}
	rc = insert_event(bundle, append->seq, text);
	cJSON_free(text);
	return rc;
}

int bundle_append_event(struct bundle *bundle, const char *kind,
			const cJSON *data, const struct bundle_id *refs,
			size_t n_refs, uint64_t *seq)
{
	struct append append = {kind, data, refs, n_refs, 0};

	if (!kind || !*kind) {
		bundle_set_error("cannot append event: '%s': the kind is "
				 "empty",
				 bundle->path);
		return -1;
	}
	if (store_check_writable(bundle))
		return -1;
	if (store_in_transaction(bundle, append_body, &append))
		return -1;
	if (seq)
		*seq = append.seq;
	return 0;
}

uint64_t bundle_event_count(struct bundle *bundle)
{
	struct bundle_id hash;
	uint64_t seq;

	if (last_event(bundle, &seq, &hash))
		return 0;
	return seq;
}

/* The statement is prepared once per bundle, because a replay reads
 * every event of two runs, and preparing it again for each event cost
 * more than the read itself. It is reset before returning, so that it
 * keeps no read lock open. */
cJSON *bundle_get_event(struct bundle *bundle, uint64_t seq)
{
	sqlite3_stmt *stmt;
	cJSON *event = NULL;
	int rc;

	if (store_prepare(bundle, &bundle->get_event_stmt,
			  "SELECT event FROM events WHERE seq = ?"))
		return NULL;
	stmt = bundle->get_event_stmt;
	sqlite3_bind_int64(stmt, 1, (sqlite3_int64)seq);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(stmt, 0);

		event = text ? cJSON_Parse(text) : NULL;
		if (!event || !cJSON_IsObject(event)) {
			cJSON_Delete(event);
			event = NULL;
			bundle_set_error("cannot read event: '%llu': not a "
					 "JSON object",
					 (unsigned long long)seq);
			bundle_set_hint("run 'runbundle verify %s' to see "
					"the damage",
					bundle->path);
		}
	} else if (rc == SQLITE_DONE) {
		/* Callers ask only for seqs up to the last one, so a seq that
		 * is not found was removed. */
		bundle_set_error("cannot read event: '%llu': not found",
				 (unsigned long long)seq);
		bundle_set_hint("run 'runbundle verify %s' to see the damage",
				bundle->path);
	} else {
		store_sql_error(bundle, "cannot read event");
	}
	sqlite3_reset(stmt);
	return event;
}

/* Fill row from the current result row of stmt (seq, hash, event). */
static void read_row(sqlite3_stmt *stmt, struct bundle_event_row *row)
{
	const void *stored = sqlite3_column_blob(stmt, 1);
	int stored_len = sqlite3_column_bytes(stmt, 1);

	row->seq = (uint64_t)sqlite3_column_int64(stmt, 0);
	row->text = (const char *)sqlite3_column_text(stmt, 2);
	row->len = (size_t)sqlite3_column_bytes(stmt, 2);
	if (!row->text)
		row->text = "";
	store_sha256(row->text, row->len, &row->hash);
	row->hash_matches = stored_len == BUNDLE_ID_LEN &&
			    memcmp(stored, row->hash.bytes, BUNDLE_ID_LEN) == 0;
}

int bundle_each_event_row(struct bundle *bundle,
			  int (*fn)(const struct bundle_event_row *row,
				    void *arg),
			  void *arg)
{
	sqlite3_stmt *stmt = NULL;
	struct bundle_event_row row;
	int rc, stop = 0;

	if (sqlite3_prepare_v2(bundle->db,
			       "SELECT seq, hash, event FROM events "
			       "ORDER BY seq",
			       -1, &stmt, NULL) != SQLITE_OK) {
		store_sql_error(bundle, "cannot read events");
		return -1;
	}
	while (!stop && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		read_row(stmt, &row);
		stop = fn(&row, arg);
	}
	if (!stop && rc != SQLITE_DONE) {
		store_sql_error(bundle, "cannot read events");
		stop = -1;
	}
	sqlite3_finalize(stmt);
	return stop;
}

static int finalize_body(struct bundle *bundle, void *arg)
{
	struct bundle_id *root = arg;
	char hex[BUNDLE_ID_HEX_LEN + 1];
	char time[40];
	uint64_t last;

	if (last_event(bundle, &last, root))
		return -1;
	if (!last)
		empty_root(root);
	bundle_id_to_hex(root, hex);
	format_time(time, sizeof(time));
	if (store_set_meta(bundle, "root", hex) ||
	    store_set_meta(bundle, "finalized", time))
		return -1;
	return store_set_meta(bundle, "state", "finalized");
}

/* Copy the WAL into the main file and go back to a rollback journal, so
 * the finalized bundle is one self-contained file. */
/* Run "PRAGMA wal_checkpoint(TRUNCATE)". Returns 1 when a reader kept
 * it from moving every commit into the file, past the busy timeout. */
static int truncate_wal(struct bundle *bundle)
{
	sqlite3_stmt *stmt = NULL;
	int rc, busy;

	if (sqlite3_prepare_v2(bundle->db, "PRAGMA wal_checkpoint(TRUNCATE)",
			       -1, &stmt, NULL) != SQLITE_OK)
		return store_sql_error(bundle, "cannot checkpoint bundle");
	rc = sqlite3_step(stmt);
	busy = rc == SQLITE_ROW ? sqlite3_column_int(stmt, 0) : 0;
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW &&
	    (sqlite3_errcode(bundle->db) & 0xff) != SQLITE_BUSY)
		return store_sql_error(bundle, "cannot checkpoint bundle");
	return busy || rc != SQLITE_ROW ? 1 : 0;
}

/* A full disk can keep the commits in the -wal file as a reader can;
 * the warning must then name the disk, not a reader. */
static void keep_wal_error(struct bundle *bundle)
{
	snprintf(bundle->wal_error, sizeof(bundle->wal_error), "%s",
		 sqlite3_errmsg(bundle->db));
}

/*
 * Move every commit into the file and leave WAL mode, so that the file
 * alone is the bundle. Another process that has it open (a reader of a
 * live recording) can prevent either step, which leaves the bundle
 * finalized all the same: bundle->wal_kept then records what is left.
 */
static int checkpoint(struct bundle *bundle)
{
	sqlite3_stmt *stmt = NULL;
	const char *mode;
	int rc, ok;

	bundle->wal_error[0] = '\0';
	rc = truncate_wal(bundle);
	if (rc != 0) {
		bundle->wal_kept = BUNDLE_WAL_COMMITS;
		if (rc < 0)
			keep_wal_error(bundle);
		return rc < 0 ? -1 : 0;
	}

	/* SQLite keeps WAL mode, and returns "wal", while another
	 * connection has the file open. */
	if (sqlite3_prepare_v2(bundle->db, "PRAGMA journal_mode = DELETE", -1,
			       &stmt, NULL) != SQLITE_OK) {
		bundle->wal_kept = BUNDLE_WAL_MODE;
		keep_wal_error(bundle);
		return store_sql_error(bundle, "cannot checkpoint bundle");
	}
	rc = sqlite3_step(stmt);
	mode = (const char *)sqlite3_column_text(stmt, 0);
	ok = rc == SQLITE_ROW && mode && strcmp(mode, "delete") == 0;
	sqlite3_finalize(stmt);
	if (!ok)
		bundle->wal_kept = BUNDLE_WAL_MODE;
	/* SQLite refuses a rollback journal for a file whose name is gone,
	 * which a crash would leave unfound. WAL commits were unaffected. */
	if (rc != SQLITE_ROW && sqlite3_extended_errcode(bundle->db) ==
				       SQLITE_READONLY_DBMOVED) {
		bundle->wal_kept = BUNDLE_WAL_MOVED;
		return 0;
	}
	if (rc != SQLITE_ROW &&
	    (sqlite3_errcode(bundle->db) & 0xff) != SQLITE_BUSY) {
		keep_wal_error(bundle);
		return store_sql_error(bundle, "cannot checkpoint bundle");
	}
	return 0;
}

int bundle_finalize(struct bundle *bundle, struct bundle_id *root)
{
	struct bundle_id digest;

	if (store_check_writable(bundle))
		return -1;
	if (bundle->in_transaction) {
		bundle_set_error("cannot finalize bundle: '%s': a transaction "
				 "is open",
				 bundle->path);
		bundle_set_hint("commit or roll back first");
		return -1;
	}
	if (store_in_transaction(bundle, finalize_body, &digest))
		return -1;
	bundle->finalized = 1;
	bundle->wal_kept = BUNDLE_WAL_NONE;
	/* The commit above made the bundle final. A checkpoint that fails
	 * now (a full disk) leaves it whole with its -wal file, as a reader
	 * does, and bundle_wal_error() returns the cause. */
	checkpoint(bundle);
	if (root)
		*root = digest;
	return 0;
}

void bundle_leave_wal(struct bundle *bundle)
{
	char *error, *hint;

	if (bundle->mode != BUNDLE_APPEND || bundle->finalized ||
	    bundle->in_transaction)
		return;
	/* Checkpoint first, as finalize does, because the checkpoint waits
	 * for a reader's transaction. The switch to DELETE alone fails at
	 * once then, and leaves the last commits in the -wal file. The
	 * caller's last error must stay readable, so it is restored. */
	error = strdup(bundle_error());
	hint = bundle_error_hint() ? strdup(bundle_error_hint()) : NULL;
	bundle->wal_kept = BUNDLE_WAL_NONE;
	checkpoint(bundle);
	bundle_set_error("%s", error ? error : "");
	if (hint)
		bundle_set_hint("%s", hint);
	free(error);
	free(hint);
}

enum bundle_wal bundle_wal_kept(const struct bundle *bundle)
{
	return bundle->wal_kept;
}

const char *bundle_wal_error(const struct bundle *bundle)
{
	return bundle->wal_kept && bundle->wal_error[0] ?
		bundle->wal_error : NULL;
}

int bundle_root(struct bundle *bundle, struct bundle_id *root)
{
	int found;
	char *hex;
	int rc;

	if (!bundle->finalized) {
		bundle_set_error("cannot read root digest: '%s': the bundle "
				 "is not finalized",
				 bundle->path);
		return -1;
	}
	hex = store_get_meta(bundle, "root", &found);
	if (!hex) {
		if (!found)
			bundle_set_error("cannot read root digest: '%s': "
					 "missing",
					 bundle->path);
		return -1;
	}
	rc = bundle_id_from_hex(root, hex);
	if (rc)
		bundle_set_error("cannot read root digest: '%s': invalid", hex);
	free(hex);
	return rc;
}
