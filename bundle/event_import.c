/*
 * event_import.c - append an event that was chained elsewhere, as its
 * exact text, so that a bundle rebuilt from an export has the same event
 * hashes and the same root digest as the original.
 *
 * bundle_append_event() cannot do this, because it stamps the current
 * time and prints the event itself. Here the text is stored byte for
 * byte, and its hash is the SHA-256 of those bytes, after checking that
 * it is the next link of this bundle's chain.
 */
#include <string.h>

#include "bundle/store.h"

struct import {
	const char *text;
	size_t len;
	struct bundle_id hash;
	uint64_t seq;
};

static int import_fail(uint64_t seq, const char *reason)
{
	bundle_set_error("cannot import event: '%llu': %s",
			 (unsigned long long)seq, reason);
	bundle_set_hint("import only events in the order of the bundle "
			"they came from, each after the objects it "
			"references");
	return -1;
}

/*
 * The last event's seq and hash; *seq = 0 for an empty log.
 * NOTE: this statement and the insert are prepared on every call. For
 * 20,000 small events that is about 175 of import's 940 million
 * instructions (callgrind). Statements kept in struct bundle, as
 * store_prepare() keeps others, would remove that cost.
 */
static int chain_head(struct bundle *bundle, uint64_t *seq,
		      struct bundle_id *hash)
{
	sqlite3_stmt *stmt = NULL;
	int rc;

	*seq = 0;
	if (sqlite3_prepare_v2(bundle->db, "SELECT seq, hash FROM events "
			       "ORDER BY seq DESC LIMIT 1", -1, &stmt,
			       NULL) != SQLITE_OK)
		return store_sql_error(bundle, "cannot import event");
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(stmt, 1) == BUNDLE_ID_LEN &&
	    sqlite3_column_int64(stmt, 0) >= 1) {
		*seq = (uint64_t)sqlite3_column_int64(stmt, 0);
		memcpy(hash->bytes, sqlite3_column_blob(stmt, 1),
		       BUNDLE_ID_LEN);
		rc = SQLITE_DONE;
	} else if (rc == SQLITE_ROW) {
		sqlite3_finalize(stmt);
		bundle_set_error("cannot import event: '%s': the last event "
				 "row is malformed", bundle->path);
		bundle_set_hint("run 'runbundle verify' on the bundle");
		return -1;
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return store_sql_error(bundle, "cannot import event");
	return 0;
}

static int check_link(const cJSON *doc, uint64_t seq,
		      const struct bundle_id *head)
{
	const cJSON *prev = cJSON_GetObjectItemCaseSensitive(doc, "prev");
	struct bundle_id linked;

	if (seq == 1)
		return prev ? import_fail(seq, "the first event has "
					  "a prev link") : 0;
	if (!cJSON_IsString(prev) ||
	    bundle_id_from_hex(&linked, prev->valuestring) < 0)
		return import_fail(seq, "its prev is not a 64-digit "
				   "hex hash");
	if (memcmp(linked.bytes, head->bytes, BUNDLE_ID_LEN) != 0)
		return import_fail(seq, "its prev is not the hash of "
				   "the last event stored");
	return 0;
}

static int check_refs(struct bundle *bundle, const cJSON *doc, uint64_t seq)
{
	const cJSON *refs = cJSON_GetObjectItemCaseSensitive(doc, "refs");
	const cJSON *ref;
	struct bundle_id id;

	if (refs && !cJSON_IsArray(refs))
		return import_fail(seq, "its refs are not a list");
	cJSON_ArrayForEach(ref, refs) {
		if (!cJSON_IsString(ref) ||
		    bundle_id_from_hex(&id, ref->valuestring) < 0)
			return import_fail(seq, "a ref is not a "
					   "64-digit hex id");
		if (!bundle_has(bundle, &id))
			return import_fail(seq, "an object it "
					   "references is not stored");
	}
	return 0;
}

/* The fields that bundle_verify() checks in every event. */
static int check_fields(const cJSON *doc, uint64_t seq)
{
	const cJSON *number = cJSON_GetObjectItemCaseSensitive(doc, "seq");
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(doc, "kind");
	const cJSON *time = cJSON_GetObjectItemCaseSensitive(doc, "time");

	if (!cJSON_IsNumber(number) || number->valuedouble != (double)seq)
		return import_fail(seq, "its seq is not the next "
				   "number of the chain");
	if (!cJSON_IsString(kind) || !*kind->valuestring)
		return import_fail(seq, "its kind is missing");
	if (!cJSON_IsString(time))
		return import_fail(seq, "its time is missing");
	return 0;
}

static int insert_row(struct bundle *bundle, const struct import *im)
{
	sqlite3_stmt *stmt = NULL;
	int rc;

	if (sqlite3_prepare_v2(bundle->db, "INSERT INTO events (seq, hash, "
			       "event) VALUES (?, ?, ?)", -1, &stmt,
			       NULL) != SQLITE_OK)
		return store_sql_error(bundle, "cannot import event");
	sqlite3_bind_int64(stmt, 1, (sqlite3_int64)im->seq);
	sqlite3_bind_blob(stmt, 2, im->hash.bytes, BUNDLE_ID_LEN,
			  SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, im->text, (int)im->len, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return store_sql_error(bundle, "cannot import event");
	return 0;
}

static int import_body(struct bundle *bundle, void *arg)
{
	struct import *im = arg;
	struct bundle_id head;
	uint64_t last;
	cJSON *doc;
	int rc;

	if (chain_head(bundle, &last, &head) < 0)
		return -1;
	im->seq = last + 1;
	doc = cJSON_ParseWithLength(im->text, im->len);
	if (!cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		return import_fail(im->seq, "not a JSON object");
	}
	rc = check_fields(doc, im->seq);
	if (rc == 0)
		rc = check_link(doc, im->seq, &head);
	if (rc == 0)
		rc = check_refs(bundle, doc, im->seq);
	cJSON_Delete(doc);
	if (rc < 0)
		return -1;
	store_sha256(im->text, im->len, &im->hash);
	return insert_row(bundle, im);
}

int bundle_import_event(struct bundle *bundle, const char *text, size_t len,
			struct bundle_id *hash)
{
	struct import im = { .text = text, .len = len };

	if (store_check_writable(bundle))
		return -1;
	if (len > INT32_MAX || memchr(text, '\0', len))
		return import_fail(bundle_event_count(bundle) + 1,
				   len > INT32_MAX ? "larger than 2 GiB" :
						     "a NUL byte in its text");
	if (store_in_transaction(bundle, import_body, &im))
		return -1;
	if (hash)
		*hash = im.hash;
	return 0;
}
