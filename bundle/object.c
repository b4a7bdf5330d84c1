/*
 * object.c - content-addressed objects: SHA-256 ids, zstd compression,
 * put, has and get.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "bundle/store.h"

static const char *const kind_names[] = {
	[BUNDLE_BLOB] = "blob",
	[BUNDLE_CHUNKS] = "chunks",
	[BUNDLE_TREE] = "tree",
	[BUNDLE_JSON] = "json",
	[BUNDLE_DICT] = "dict",
};

const char *store_kind_name(enum bundle_kind kind)
{
	if (kind < BUNDLE_BLOB || kind > BUNDLE_DICT)
		return NULL;
	return kind_names[kind];
}

int store_kind_from_name(const char *name, enum bundle_kind *kind)
{
	for (int k = BUNDLE_BLOB; k <= BUNDLE_DICT; k++) {
		if (name && strcmp(name, kind_names[k]) == 0) {
			*kind = (enum bundle_kind)k;
			return 0;
		}
	}
	return -1;
}

static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_fetched;

static void sha256_fetch(void)
{
	sha256_fetched = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/*
 * OpenSSL 3 looks EVP_sha256() up in its provider tables on every use,
 * which costs about as much as hashing a small object, so the store
 * fetches it once for the life of the process and never frees it.
 */
const EVP_MD *store_sha256_md(void)
{
	pthread_once(&sha256_once, sha256_fetch);
	return sha256_fetched ? sha256_fetched : EVP_sha256();
}

void store_sha256(const void *data, size_t len, struct bundle_id *id)
{
	unsigned int out_len = BUNDLE_ID_LEN;

	/* Clear the output when EVP_Digest fails, so that no stale bytes
	 * are ever returned as an id. */
	if (!EVP_Digest(data, len, id->bytes, &out_len, store_sha256_md(),
			NULL))
		memset(id->bytes, 0, sizeof(id->bytes));
}

void bundle_id_to_hex(const struct bundle_id *id,
		      char hex[BUNDLE_ID_HEX_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < BUNDLE_ID_LEN; i++) {
		hex[2 * i] = digits[id->bytes[i] >> 4];
		hex[2 * i + 1] = digits[id->bytes[i] & 0xf];
	}
	hex[BUNDLE_ID_HEX_LEN] = '\0';
}

int store_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int bundle_id_from_hex(struct bundle_id *id, const char *hex)
{
	if (!hex || strlen(hex) != BUNDLE_ID_HEX_LEN)
		return -1;

	for (size_t i = 0; i < BUNDLE_ID_LEN; i++) {
		int high = store_hex_value(hex[2 * i]);
		int low = store_hex_value(hex[2 * i + 1]);

		if (high < 0 || low < 0)
			return -1;
		id->bytes[i] = (unsigned char)(high << 4 | low);
	}
	return 0;
}

int store_prepare(struct bundle *bundle, sqlite3_stmt **stmt, const char *sql)
{
	if (*stmt) {
		sqlite3_reset(*stmt);
		sqlite3_clear_bindings(*stmt);
		return 0;
	}
	if (sqlite3_prepare_v3(bundle->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
			       stmt, NULL) != SQLITE_OK)
		return store_sql_error(bundle, "cannot read bundle");
	return 0;
}

/* Returns 1 and the stored kind when the object is stored, 0 when not,
 * -1 on failure. */
static int lookup(struct bundle *bundle, const struct bundle_id *id,
		  enum bundle_kind *kind)
{
	int rc;

	if (store_prepare(bundle, &bundle->has_stmt,
		    "SELECT kind FROM objects WHERE id = ?"))
		return -1;
	sqlite3_bind_blob(bundle->has_stmt, 1, id->bytes, BUNDLE_ID_LEN,
			  SQLITE_STATIC);
	rc = sqlite3_step(bundle->has_stmt);
	if (rc == SQLITE_ROW) {
		const char *name =
			(const char *)sqlite3_column_text(bundle->has_stmt, 0);

		if (kind && store_kind_from_name(name, kind))
			*kind = BUNDLE_BLOB;
		sqlite3_reset(bundle->has_stmt);
		return 1;
	}
	sqlite3_reset(bundle->has_stmt);
	if (rc == SQLITE_DONE)
		return 0;
	return store_sql_error(bundle, "cannot read bundle");
}

int bundle_has(struct bundle *bundle, const struct bundle_id *id)
{
	if (store_pipeline_find(bundle, id, BUNDLE_BLOB))
		return 1;
	return lookup(bundle, id, NULL) == 1;
}

/*
 * The same bytes may be added as an opaque blob first and as a tree or
 * chunk list later. The structural kind wins, because verify follows the
 * references of trees and chunk lists and treats any object as a valid
 * blob.
 */
static int upgrade_kind(struct bundle *bundle, const struct bundle_id *id,
			enum bundle_kind stored, enum bundle_kind kind)
{
	sqlite3_stmt *stmt = NULL;
	int rc;

	if (stored == kind || kind == BUNDLE_BLOB || kind == BUNDLE_JSON)
		return 0;

	rc = sqlite3_prepare_v2(bundle->db,
				"UPDATE objects SET kind = ? WHERE id = ?", -1,
				&stmt, NULL);
	if (rc != SQLITE_OK)
		return store_sql_error(bundle, "cannot write bundle");
	sqlite3_bind_text(stmt, 1, store_kind_name(kind), -1, SQLITE_STATIC);
	sqlite3_bind_blob(stmt, 2, id->bytes, BUNDLE_ID_LEN, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return store_sql_error(bundle, "cannot write bundle");
	return 0;
}

int store_insert(struct bundle *bundle, const struct bundle_id *id,
		 enum bundle_kind kind, size_t len, const char *encoding,
		 const void *data, size_t stored_len,
		 const struct bundle_id *dict)
{
	struct store_cell cell = store_pack_cell(bundle, kind, len, encoding,
						 stored_len, dict != NULL);
	sqlite3_stmt *stmt;
	int rc;

	if (store_prepare(bundle, &bundle->put_stmt,
		    "INSERT INTO objects (id, kind, size, encoding, data, "
		    "dict) VALUES (?, ?, ?, ?, ?, ?)"))
		return -1;
	stmt = bundle->put_stmt;
	sqlite3_bind_blob(stmt, 1, id->bytes, BUNDLE_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, store_kind_name(kind), -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, (sqlite3_int64)len);
	sqlite3_bind_text(stmt, 4, encoding, -1, SQLITE_STATIC);
	/* A zero-length blob binds as NULL unless data is non-NULL. */
	sqlite3_bind_blob64(stmt, 5, stored_len ? data : "", stored_len,
			    SQLITE_STATIC);
	if (dict)
		sqlite3_bind_blob(stmt, 6, dict->bytes, BUNDLE_ID_LEN,
				  SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE)
		return store_sql_error(bundle, "cannot write bundle");
	store_pack_account(bundle, &cell);
	return 0;
}

static int store_object(struct bundle *bundle, enum bundle_kind kind,
			const void *data, size_t len,
			const struct bundle_id *id)
{
	const ZSTD_CDict *cdict;
	struct bundle_id dict;
	size_t bound, clen;
	void *cbuf;
	int rc;

	if (len < BUNDLE_RAW_BELOW)
		return store_insert(bundle, id, kind, len, "raw", data, len,
				    NULL);

	/* This may train the dictionary, and then this object is the
	 * first one compressed with it. */
	if (store_dict_sample(bundle, kind, data, len))
		return -1;
	cdict = store_dict_for(bundle, kind, len, &dict);

	/* Inside a transaction, compress in the second thread. */
	if (bundle->in_transaction) {
		rc = store_pipeline_put(bundle, id, kind, data, len, cdict,
					&dict);
		if (rc <= 0)
			return rc;
	}

	bound = ZSTD_compressBound(len);
	cbuf = malloc(bound);
	if (!cbuf) {
		bundle_set_error("cannot compress object: '%s': %s",
				 bundle->path, strerror(ENOMEM));
		return -1;
	}
	clen = store_compress(bundle->cctx, cdict, bundle->level, cbuf, bound,
			      data, len);
	if (ZSTD_isError(clen)) {
		bundle_set_error("cannot compress object: '%s': %s",
				 bundle->path, ZSTD_getErrorName(clen));
		free(cbuf);
		return -1;
	}

	/* Incompressible content is stored raw, which is smaller. */
	if (clen >= len)
		rc = store_insert(bundle, id, kind, len, "raw", data, len,
				  NULL);
	else
		rc = store_insert(bundle, id, kind, len, "zstd", cbuf, clen,
				  cdict ? &dict : NULL);
	free(cbuf);
	return rc;
}

int bundle_put(struct bundle *bundle, enum bundle_kind kind, const void *data,
	       size_t len, struct bundle_id *id)
{
	enum bundle_kind stored;
	int found;

	if (!store_kind_name(kind) || kind == BUNDLE_DICT) {
		bundle_set_error("cannot store object: '%d': unknown kind",
				 (int)kind);
		return -1;
	}
	if (store_check_writable(bundle))
		return -1;

	store_sha256(data, len, id);
	if (store_pipeline_find(bundle, id, kind))
		return 0;
	found = lookup(bundle, id, &stored);
	if (found < 0)
		return -1;
	if (found)
		return upgrade_kind(bundle, id, stored, kind);
	return store_object(bundle, kind, data, len, id);
}

static int damaged(struct bundle *bundle, const struct bundle_id *id,
		   const char *why)
{
	char hex[BUNDLE_ID_HEX_LEN + 1];

	bundle_id_to_hex(id, hex);
	bundle_set_error("cannot read object: '%s': %s", hex, why);
	bundle_set_hint("run 'runbundle verify %s' to see the damage",
			bundle->path);
	return -1;
}

/* The dictionary that column 4 of stmt names, or NULL with
 * bundle_error() set. */
static const ZSTD_DDict *dictionary(struct bundle *bundle, sqlite3_stmt *stmt)
{
	struct bundle_id dict;

	memcpy(dict.bytes, sqlite3_column_blob(stmt, 4), BUNDLE_ID_LEN);
	return store_dict_ddict(bundle, &dict);
}

/* Decode a stored row into a new buffer of exactly size bytes plus a
 * NUL, checking the hash. */
static int decode(struct bundle *bundle, const struct bundle_id *id,
		  sqlite3_stmt *stmt, void **data, size_t *len)
{
	const char *encoding = (const char *)sqlite3_column_text(stmt, 2);
	sqlite3_int64 size = sqlite3_column_int64(stmt, 1);
	const void *stored = sqlite3_column_blob(stmt, 3);
	size_t stored_len = (size_t)sqlite3_column_bytes(stmt, 3);
	struct bundle_id check;
	unsigned char *buf;

	if (size < 0 || (uint64_t)size > BUNDLE_MAX_GET)
		return damaged(bundle, id, "invalid size");
	buf = malloc((size_t)size + 1);
	if (!buf) {
		bundle_set_error("cannot read object: '%s': %s", bundle->path,
				 strerror(ENOMEM));
		return -1;
	}

	if (encoding && strcmp(encoding, "raw") == 0) {
		if (stored_len != (size_t)size)
			goto bad_length;
		if (size)
			memcpy(buf, stored, stored_len);
	} else if (encoding && strcmp(encoding, "zstd") == 0) {
		const ZSTD_DDict *ddict = NULL;
		size_t n;

		if (sqlite3_column_type(stmt, 4) != SQLITE_NULL &&
		    (sqlite3_column_bytes(stmt, 4) != BUNDLE_ID_LEN ||
		     !(ddict = dictionary(bundle, stmt)))) {
			free(buf);
			return -1;
		}
		n = ZSTD_decompress_usingDDict(bundle->dctx, buf, (size_t)size,
					       stored, stored_len, ddict);

		if (ZSTD_isError(n)) {
			free(buf);
			return damaged(bundle, id, "invalid zstd data");
		}
		if (n != (size_t)size)
			goto bad_length;
	} else {
		free(buf);
		return damaged(bundle, id, "unknown encoding");
	}

	buf[size] = '\0';
	store_sha256(buf, (size_t)size, &check);
	if (memcmp(check.bytes, id->bytes, BUNDLE_ID_LEN) != 0) {
		free(buf);
		return damaged(bundle, id, "content does not match its id");
	}
	*data = buf;
	*len = (size_t)size;
	return 0;

bad_length:
	free(buf);
	return damaged(bundle, id, "length does not match its size column");
}

/* Load an object as bundle_get does, or return -2 before decompressing
 * it when its size column records more than max bytes, because a small
 * zstd frame can declare and decompress to gigabytes. */
static int get_object(struct bundle *bundle, const struct bundle_id *id,
		      uint64_t max, void **data, size_t *len,
		      enum bundle_kind *kind)
{
	char hex[BUNDLE_ID_HEX_LEN + 1];
	sqlite3_stmt *stmt;
	sqlite3_int64 size;
	int rc;

	/* Objects still queued for compression are not rows yet. */
	if (store_pipeline_flush(bundle))
		return -1;
	/* Version 1 has no dict column. */
	if (store_prepare(bundle, &bundle->get_stmt,
		    bundle->version >= 2
			    ? "SELECT kind, size, encoding, data, dict "
			      "FROM objects WHERE id = ?"
			    : "SELECT kind, size, encoding, data, NULL "
			      "FROM objects WHERE id = ?"))
		return -1;
	stmt = bundle->get_stmt;
	sqlite3_bind_blob(stmt, 1, id->bytes, BUNDLE_ID_LEN, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE) {
		bundle_id_to_hex(id, hex);
		bundle_set_error("cannot read object: '%s': not found", hex);
		bundle_set_hint("when an event of the bundle references it, "
				"the bundle is damaged: run 'runbundle verify "
				"%s'",
				bundle->path);
		sqlite3_reset(stmt);
		return -1;
	}
	if (rc != SQLITE_ROW) {
		sqlite3_reset(stmt);
		return store_sql_error(bundle, "cannot read bundle");
	}

	if (kind && store_kind_from_name(
			    (const char *)sqlite3_column_text(stmt, 0), kind)) {
		sqlite3_reset(stmt);
		return damaged(bundle, id, "unknown kind");
	}
	size = sqlite3_column_int64(stmt, 1);
	if (size >= 0 && (uint64_t)size > max) {
		*len = (uint64_t)size > SIZE_MAX ? SIZE_MAX : (size_t)size;
		sqlite3_reset(stmt);
		bundle_id_to_hex(id, hex);
		bundle_set_error("cannot read object: '%s': %lld bytes, more "
				 "than the %llu expected",
				 hex, size, (unsigned long long)max);
		return -2;
	}
	rc = decode(bundle, id, stmt, data, len);
	sqlite3_reset(stmt);
	return rc;
}

int bundle_get(struct bundle *bundle, const struct bundle_id *id, void **data,
	       size_t *len, enum bundle_kind *kind)
{
	return get_object(bundle, id, UINT64_MAX, data, len, kind);
}

int bundle_get_max(struct bundle *bundle, const struct bundle_id *id,
		   uint64_t max, void **data, size_t *len)
{
	return get_object(bundle, id, max, data, len, NULL);
}
