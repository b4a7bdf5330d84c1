/*
 * dict.c - the zstd dictionary that a bundle's small blobs are
 * compressed with.
 *
 * A writer keeps a copy of the first blobs it puts inside transactions,
 * up to DICT_SAMPLE_BYTES. Once it has that much, it trains a dictionary
 * on them with ZDICT's fastCover, whose fixed parameters make training
 * one pass. It stores the dictionary as an object of kind 'dict' in the
 * same transaction and records its id in meta.dict. Every later blob of
 * up to DICT_MAX_INPUT bytes is compressed with it, and the blobs put
 * before that stay compressed without it. A bundle has at most one
 * dictionary, and an object's id stays the SHA-256 of its content, so
 * the same content is found, and stored once, whatever it was
 * compressed with.
 *
 * Memory: while collecting, the samples (DICT_SAMPLE_BYTES plus 8 bytes
 * per sample); then the dictionary (DICT_SIZE) and its ZSTD_CDict, about
 * 1 MiB at level 3. A reader keeps one ZSTD_DDict, about the dictionary's
 * size plus 27 KiB of tables.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define ZDICT_STATIC_LINKING_ONLY
#include <zdict.h>
/* For ZSTD_c_forceAttachDict, in the experimental part of zstd.h. */
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include "bundle/store.h"

/* Samples are blobs of 64 bytes to 64 KiB. On bench/snapshot.sh's tree,
 * 4 MiB of samples made the stored data 4.7% smaller and 8 MiB 3.5%,
 * because more blobs are stored before the dictionary exists. */
#define DICT_SAMPLE_BYTES (4u * 1024 * 1024)
#define DICT_SAMPLE_MAX	  (64u * 1024)
#define DICT_MIN_SAMPLES  256
#define DICT_SIZE	  (112u * 1024)
/* Blobs above this gain little from a dictionary. */
#define DICT_MAX_INPUT (256u * 1024)

enum dict_state {
	DICT_OFF,     /* no dictionary for new blobs: reading, or no training */
	DICT_COLLECT, /* collecting samples */
	DICT_READY,   /* cdict compresses new blobs */
};

struct store_dict {
	enum dict_state state;
	int trained_now; /* trained in the open transaction */

	/* Collecting. */
	unsigned char *samples;
	size_t samples_len;
	size_t *sizes;
	size_t n_samples, sizes_cap;

	/* Writing. */
	ZSTD_CDict *cdict;
	struct bundle_id id;

	/* Reading: the last dictionary loaded. */
	ZSTD_DDict *ddict;
	struct bundle_id ddict_id;
	sqlite3_stmt *load_stmt;
};

static int no_memory(struct bundle *bundle)
{
	bundle_set_error("cannot use the zstd dictionary: '%s': %s",
			 bundle->path, strerror(ENOMEM));
	return -1;
}

static void drop_samples(struct store_dict *d)
{
	free(d->samples);
	free(d->sizes);
	d->samples = NULL;
	d->sizes = NULL;
	d->samples_len = d->n_samples = d->sizes_cap = 0;
}

/* Load dictionary id, checking kind, encoding and hash; *out is
 * malloc'd. The statement is our own, so this works while the caller
 * steps another one. */
static int load(struct bundle *bundle, const struct bundle_id *id,
		void **out, size_t *out_len)
{
	struct store_dict *d = bundle->dict;
	char hex[BUNDLE_ID_HEX_LEN + 1];
	const char *reason = NULL;
	sqlite3_stmt *stmt;
	int rc;

	bundle_id_to_hex(id, hex);
	if (store_prepare(bundle, &d->load_stmt,
			  "SELECT kind, size, encoding, data, dict "
			  "FROM objects WHERE id = ?"))
		return -1;
	stmt = d->load_stmt;
	sqlite3_bind_blob(stmt, 1, id->bytes, BUNDLE_ID_LEN, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(stmt, 0);
		sqlite3_int64 size = sqlite3_column_int64(stmt, 1);
		const char *enc = (const char *)sqlite3_column_text(stmt, 2);
		const void *data = sqlite3_column_blob(stmt, 3);
		size_t len = (size_t)sqlite3_column_bytes(stmt, 3);
		unsigned char *buf;
		struct bundle_id check;
		size_t n;

		if (!kind || strcmp(kind, "dict") != 0)
			reason = "not a dictionary";
		else if (sqlite3_column_type(stmt, 4) != SQLITE_NULL)
			reason = "compressed with a dictionary itself";
		else if (size <= 0 || size > (1 << 24))
			reason = "invalid size";
		if (reason)
			goto fail;
		buf = malloc((size_t)size);
		if (!buf) {
			sqlite3_reset(stmt);
			return no_memory(bundle);
		}
		n = (size_t)-1;
		if (enc && strcmp(enc, "raw") == 0 && len == (size_t)size)
			memcpy(buf, data, n = len);
		else if (enc && strcmp(enc, "zstd") == 0)
			n = ZSTD_decompress_usingDDict(bundle->dctx, buf,
						       (size_t)size, data, len,
						       NULL);
		if (n != (size_t)size)
			reason = "its data does not decode to its size";
		if (!reason) {
			store_sha256(buf, n, &check);
			if (memcmp(check.bytes, id->bytes, BUNDLE_ID_LEN))
				reason = "content does not match its id";
		}
		if (reason) {
			free(buf);
			goto fail;
		}
		sqlite3_reset(stmt);
		*out = buf;
		*out_len = n;
		return 0;
	}
	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE)
		return store_sql_error(bundle, "cannot read bundle");
	reason = "not found";
fail:
	sqlite3_reset(stmt);
	bundle_set_error("cannot read zstd dictionary: '%s': %s", hex, reason);
	bundle_set_hint("run 'runbundle verify %s' to see the damage",
			bundle->path);
	return -1;
}

static int make_cdict(struct bundle *bundle, const void *dict, size_t len)
{
	struct store_dict *d = bundle->dict;

	d->cdict = ZSTD_createCDict(dict, len, bundle->level);
	if (!d->cdict)
		return no_memory(bundle);
	d->state = DICT_READY;
	return 0;
}

int store_dict_init(struct bundle *bundle)
{
	struct store_dict *d = calloc(1, sizeof(*d));
	char *hex;
	int found;
	void *dict;
	size_t len;
	int rc;

	if (!d)
		return no_memory(bundle);
	bundle->dict = d;
	if (bundle->mode != BUNDLE_APPEND || bundle->version < 2)
		return 0;

	hex = store_get_meta(bundle, "dict", &found);
	if (!hex) {
		if (found)
			return -1;
		d->state = DICT_COLLECT;
		return 0;
	}
	rc = bundle_id_from_hex(&d->id, hex);
	free(hex);
	if (rc) {
		bundle_set_error("cannot open bundle: '%s': meta.dict is not "
				 "an object id",
				 bundle->path);
		return -1;
	}
	if (load(bundle, &d->id, &dict, &len))
		return -1;
	rc = make_cdict(bundle, dict, len);
	free(dict);
	return rc;
}

void store_dict_free(struct bundle *bundle)
{
	struct store_dict *d = bundle->dict;

	if (!d)
		return;
	drop_samples(d);
	ZSTD_freeCDict(d->cdict);
	ZSTD_freeDDict(d->ddict);
	sqlite3_finalize(d->load_stmt);
	free(d);
	bundle->dict = NULL;
}

const ZSTD_CDict *store_dict_for(struct bundle *bundle, enum bundle_kind kind,
				 size_t len, struct bundle_id *id)
{
	struct store_dict *d = bundle->dict;

	if (!d || d->state != DICT_READY || kind != BUNDLE_BLOB ||
	    len > DICT_MAX_INPUT)
		return NULL;
	*id = d->id;
	return d->cdict;
}

/* Store the trained dictionary, compressed without one, and name it in
 * meta.dict, both in the open transaction. */
static int store_trained(struct bundle *bundle, const void *dict, size_t len)
{
	struct store_dict *d = bundle->dict;
	char hex[BUNDLE_ID_HEX_LEN + 1];
	size_t bound = ZSTD_compressBound(len);
	void *cbuf = malloc(bound);
	size_t clen;
	int rc;

	if (!cbuf)
		return no_memory(bundle);
	store_sha256(dict, len, &d->id);
	clen = store_compress(bundle->cctx, NULL, bundle->level, cbuf, bound,
			      dict, len);
	if (!ZSTD_isError(clen) && clen < len)
		rc = store_insert(bundle, &d->id, BUNDLE_DICT, len, "zstd",
				  cbuf, clen, NULL);
	else
		rc = store_insert(bundle, &d->id, BUNDLE_DICT, len, "raw",
				  dict, len, NULL);
	free(cbuf);
	bundle_id_to_hex(&d->id, hex);
	if (rc || store_set_meta(bundle, "dict", hex))
		return -1;
	return make_cdict(bundle, dict, len);
}

/*
 * Train on the samples. Fixed fastCover parameters make this one pass
 * instead of zstd's search over k and d. On 4 MiB of bench/snapshot.sh's
 * files, f = 16 and accel = 2 took 26 ms of CPU time against 86 ms for
 * f = 20 and accel = 1, and the stored data grew by 0.03%. A training
 * failure only means no dictionary.
 */
static int train(struct bundle *bundle)
{
	struct store_dict *d = bundle->dict;
	ZDICT_fastCover_params_t params;
	void *dict = malloc(DICT_SIZE);
	size_t len;
	int rc = 0;

	if (!dict)
		return no_memory(bundle);
	memset(&params, 0, sizeof(params));
	params.k = 200;
	params.d = 8;
	params.f = 16;
	params.accel = 2;
	params.zParams.compressionLevel = bundle->level;
	len = ZDICT_trainFromBuffer_fastCover(dict, DICT_SIZE, d->samples,
					      d->sizes, (unsigned)d->n_samples,
					      params);
	drop_samples(d);
	d->state = DICT_OFF;
	if (!ZDICT_isError(len)) {
		rc = store_trained(bundle, dict, len);
		if (rc == 0)
			d->trained_now = 1;
	}
	free(dict);
	return rc;
}

int store_dict_sample(struct bundle *bundle, enum bundle_kind kind,
		      const void *data, size_t len)
{
	struct store_dict *d = bundle->dict;

	if (!d || d->state != DICT_COLLECT || !bundle->in_transaction ||
	    kind != BUNDLE_BLOB || len > DICT_SAMPLE_MAX)
		return 0;
	if (!d->samples) {
		d->samples = malloc(DICT_SAMPLE_BYTES);
		if (!d->samples)
			return no_memory(bundle);
	}
	if (d->n_samples == d->sizes_cap) {
		size_t cap = d->sizes_cap ? 2 * d->sizes_cap : 1024;
		size_t *grown = realloc(d->sizes, cap * sizeof(*grown));

		if (!grown)
			return no_memory(bundle);
		d->sizes = grown;
		d->sizes_cap = cap;
	}
	if (d->samples_len + len > DICT_SAMPLE_BYTES) {
		if (d->n_samples < DICT_MIN_SAMPLES) {
			drop_samples(d);
			d->state = DICT_OFF;
			return 0;
		}
		return train(bundle);
	}
	memcpy(d->samples + d->samples_len, data, len);
	d->samples_len += len;
	d->sizes[d->n_samples++] = len;
	return 0;
}

void store_dict_end_transaction(struct bundle *bundle, int committed)
{
	struct store_dict *d = bundle->dict;

	if (!d || !d->trained_now)
		return;
	d->trained_now = 0;
	if (committed)
		return;
	/* The dictionary's row went with the transaction: collect again. */
	ZSTD_freeCDict(d->cdict);
	d->cdict = NULL;
	d->state = DICT_COLLECT;
}

const ZSTD_DDict *store_dict_ddict(struct bundle *bundle,
				   const struct bundle_id *id)
{
	struct store_dict *d = bundle->dict;
	void *dict;
	size_t len;

	if (d->ddict && !memcmp(d->ddict_id.bytes, id->bytes, BUNDLE_ID_LEN))
		return d->ddict;
	if (load(bundle, id, &dict, &len))
		return NULL;
	ZSTD_freeDDict(d->ddict);
	d->ddict = ZSTD_createDDict(dict, len);
	free(dict);
	if (!d->ddict) {
		no_memory(bundle);
		return NULL;
	}
	d->ddict_id = *id;
	return d->ddict;
}

size_t store_compress(ZSTD_CCtx *cctx, const ZSTD_CDict *cdict, int level,
		      void *dst, size_t cap, const void *src, size_t len)
{
	if (!cdict)
		return ZSTD_compressCCtx(cctx, dst, cap, src, len, level);

	/* The dict column names the dictionary, so the frame need not:
	 * no dictionary id in the header saves 4 bytes per object. */
	ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters);
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_dictIDFlag, 0);
	/* Use the dictionary's tables in place: zstd copies them for inputs
	 * above 8 to 32 KiB, which cost about 0.1 s of CPU time on
	 * bench/snapshot.sh's tree for the same output. A libzstd without
	 * the parameter only ignores it. */
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_forceAttachDict,
			       ZSTD_dictForceAttach);
	ZSTD_CCtx_refCDict(cctx, cdict);
	len = ZSTD_compress2(cctx, dst, cap, src, len);
	ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters);
	return len;
}
