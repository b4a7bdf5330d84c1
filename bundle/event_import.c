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

/* The chain as the import goes: the insert statement, prepared once,
 * and the seq and hash of the last event stored. */
struct import {
	const char *text;	/* all lines to import */
	size_t len;
	sqlite3_stmt *insert;
	uint64_t seq;
	struct bundle_id head;
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

/* The last event's seq and hash; *seq = 0 for an empty log. */
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
	if (rc == SQLITE_ROW &&
	    sqlite3_column_bytes(stmt, 1) == BUNDLE_ID_LEN &&
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

static int insert_row(struct bundle *bundle, struct import *im,
		      const char *line, size_t len)
{
	int rc;

	sqlite3_reset(im->insert);
	sqlite3_bind_int64(im->insert, 1, (sqlite3_int64)im->seq);
	sqlite3_bind_blob(im->insert, 2, im->head.bytes, BUNDLE_ID_LEN,
			  SQLITE_STATIC);
	sqlite3_bind_text(im->insert, 3, line, (int)len, SQLITE_STATIC);
	rc = sqlite3_step(im->insert);
	if (rc != SQLITE_DONE)
		return store_sql_error(bundle, "cannot import event");
	return 0;
}

/* Check one line against the chain, store it, and make it the head. */
static int import_line(struct bundle *bundle, struct import *im,
		       const char *line, size_t len)
{
	uint64_t seq = im->seq + 1;
	cJSON *doc;
	int rc;

	if (len > INT32_MAX || memchr(line, '\0', len))
		return import_fail(seq, len > INT32_MAX ?
					"larger than 2 GiB" :
					"a NUL byte in its text");
	doc = cJSON_ParseWithLength(line, len);
	if (!cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		return import_fail(seq, "not a JSON object");
	}
	rc = check_fields(doc, seq);
	if (rc == 0)
		rc = check_link(doc, seq, &im->head);
	if (rc == 0)
		rc = check_refs(bundle, doc, seq);
	cJSON_Delete(doc);
	if (rc < 0)
		return -1;
	im->seq = seq;
	store_sha256(line, len, &im->head);
	return insert_row(bundle, im, line, len);
}

/* Import im->text, one event a line, or a single event without a
 * newline when im->len is the length of one. */
static int import_body(struct bundle *bundle, void *arg)
{
	struct import *im = arg;
	const char *p = im->text, *end = im->text + im->len;
	int rc = 0;

	if (chain_head(bundle, &im->seq, &im->head) < 0)
		return -1;
	if (sqlite3_prepare_v2(bundle->db, "INSERT INTO events (seq, hash, "
			       "event) VALUES (?, ?, ?)", -1, &im->insert,
			       NULL) != SQLITE_OK)
		return store_sql_error(bundle, "cannot import event");
	while (rc == 0 && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t line_len = nl ? (size_t)(nl - p) : (size_t)(end - p);

		rc = import_line(bundle, im, p, line_len);
		p += line_len + (nl ? 1 : 0);
	}
	sqlite3_finalize(im->insert);
	im->insert = NULL;
	return rc;
}

static int import_text(struct bundle *bundle, const char *text, size_t len,
		       struct bundle_id *hash)
{
	struct import im = { .text = text, .len = len };

	if (store_check_writable(bundle))
		return -1;
	if (store_in_transaction(bundle, import_body, &im))
		return -1;
	if (hash)
		*hash = im.head;
	return 0;
}

int bundle_import_event(struct bundle *bundle, const char *text, size_t len,
			struct bundle_id *hash)
{
	if (memchr(text, '\n', len))
		return import_fail(bundle_event_count(bundle) + 1,
				   "a newline in its text");
	if (len == 0)
		return import_fail(bundle_event_count(bundle) + 1,
				   "not a JSON object");
	return import_text(bundle, text, len, hash);
}

int bundle_import_events(struct bundle *bundle, const char *text,
			 size_t len, struct bundle_id *hash)
{
	if (len > 0 && text[len - 1] != '\n') {
		bundle_set_error("cannot import events: '%s': the last line "
				 "has no newline", bundle->path);
		return -1;
	}
	return import_text(bundle, text, len, hash);
}
