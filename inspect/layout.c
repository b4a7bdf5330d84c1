/*
 * layout.c - the open layout of layout.h: export, and the checks of the
 * manifest and the event lines that import relies on.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/tree.h"
#include "inspect/archive_out.h"
#include "inspect/content.h"
#include "inspect/error.h"
#include "inspect/layout.h"
#include "inspect/view.h"

static const char *const kind_names[] = {
	[BUNDLE_BLOB] = "blob",
	[BUNDLE_CHUNKS] = "chunks",
	[BUNDLE_TREE] = "tree",
	[BUNDLE_JSON] = "json",
};

static int kind_from_name(const char *name, enum bundle_kind *kind)
{
	for (int k = BUNDLE_BLOB; k <= BUNDLE_JSON; k++) {
		if (name && strcmp(name, kind_names[k]) == 0) {
			*kind = (enum bundle_kind)k;
			return 0;
		}
	}
	return -1;
}

/* Ids already exported: open addressing on the first 8 bytes, which
 * are uniformly distributed because they are SHA-256 output. */
struct idset {
	struct bundle_id *slots;
	unsigned char *used;
	size_t cap, n;
};

static size_t slot_of(const struct idset *s, const struct bundle_id *id)
{
	uint64_t h;

	memcpy(&h, id->bytes, sizeof(h));
	return (size_t)(h & (s->cap - 1));
}

static int idset_grow(struct idset *s)
{
	struct idset bigger = { 0 };

	bigger.cap = s->cap ? s->cap * 2 : 1024;
	bigger.slots = malloc(bigger.cap * sizeof(*bigger.slots));
	bigger.used = calloc(bigger.cap, 1);
	if (!bigger.slots || !bigger.used) {
		free(bigger.slots);
		free(bigger.used);
		inspect_set_error("cannot export: out of memory");
		return -1;
	}
	for (size_t i = 0; i < s->cap; i++) {
		size_t j;

		if (!s->used[i])
			continue;
		for (j = slot_of(&bigger, &s->slots[i]); bigger.used[j];
		     j = (j + 1) & (bigger.cap - 1))
			;
		bigger.slots[j] = s->slots[i];
		bigger.used[j] = 1;
	}
	bigger.n = s->n;
	free(s->slots);
	free(s->used);
	*s = bigger;
	return 0;
}

/* 1 when id was added, 0 when it was there, -1 on failure. */
static int idset_add(struct idset *s, const struct bundle_id *id)
{
	size_t j;

	if ((s->n + 1) * 2 > s->cap && idset_grow(s) < 0)
		return -1;
	for (j = slot_of(s, id); s->used[j]; j = (j + 1) & (s->cap - 1)) {
		if (memcmp(&s->slots[j], id, sizeof(*id)) == 0)
			return 0;
	}
	s->slots[j] = *id;
	s->used[j] = 1;
	s->n++;
	return 1;
}

/* An object that the manifest lists, in 48 bytes. A cJSON object took
 * 1.3 KiB, so exporting a workspace of 100000 files took 150 MB. */
struct listed {
	struct bundle_id id;
	uint64_t size;
	enum bundle_kind kind;
};

struct exporter {
	const char *path;
	struct bundle *bundle;
	struct archive *ar;
	struct archive_entry *entry;
	struct idset seen;
	struct listed *objects;
	size_t n_objects, objects_cap;
	struct inspect_layout_stats *stats;
	int fd; /* the archive's file, once created, or -1 */
	const char *out;
};

static int write_header(struct exporter *x, const char *name, size_t len)
{
	archive_entry_clear(x->entry);
	archive_entry_set_pathname(x->entry, name);
	archive_entry_set_filetype(x->entry, AE_IFREG);
	archive_entry_set_perm(x->entry, 0644);
	archive_entry_set_size(x->entry, (la_int64_t)len);
	return archive_write_header(x->ar, x->entry);
}

static int add_file(struct exporter *x, const char *name, const void *data,
		    size_t len)
{
	if (write_header(x, name, len) != ARCHIVE_OK ||
	    (len && archive_write_data(x->ar, data, len) != (la_ssize_t)len)) {
		if (archive_errno(x->ar) > 0)
			return inspect_archive_write_error(x->ar, x->out);
		inspect_set_error("cannot write archive: '%s': %s", name,
				  archive_error_string(x->ar));
		return -1;
	}
	return 0;
}

static int visit(const struct bundle_id *id, void *arg);

/* Visit a chunk. The readers of its file check its size against the
 * chunk list, and the export copies objects as they are. */
static int visit_chunk(const struct bundle_id *id, uint64_t size, void *arg)
{
	(void)size;
	return visit(id, arg);
}

static int visit_kind(const struct bundle_id *id, enum bundle_kind kind,
		      void *arg)
{
	(void)kind;
	return visit(id, arg);
}

static int record_object(struct exporter *x, const struct bundle_id *id,
			 enum bundle_kind kind, size_t len)
{
	if (x->n_objects == x->objects_cap) {
		size_t cap = x->objects_cap ? x->objects_cap * 2 : 1024;
		struct listed *grown = realloc(x->objects,
					       cap * sizeof(*grown));

		if (!grown) {
			inspect_set_error("cannot export: out of memory");
			return -1;
		}
		x->objects = grown;
		x->objects_cap = cap;
	}
	x->objects[x->n_objects++] = (struct listed){ *id, len, kind };
	x->stats->objects++;
	x->stats->bytes += len;
	return 0;
}

/*
 * Add an object and what it refers to. NOTE: an object is loaded whole,
 * at whatever size its row declares, because an object that events
 * name has no other record of its size. A hostile bundle can make it
 * decompress gigabytes (docs/bundle-format.md, "Memory").
 */
static int visit(const struct bundle_id *id, void *arg)
{
	struct exporter *x = arg;
	char name[32 + BUNDLE_ID_HEX_LEN], hex[BUNDLE_ID_HEX_LEN + 1];
	enum bundle_kind kind;
	void *data;
	size_t len;
	int rc = idset_add(&x->seen, id);

	if (rc <= 0)
		return rc;
	if (bundle_get(x->bundle, id, &data, &len, &kind) < 0)
		return inspect_take_error(bundle_error(), bundle_error_hint());
	bundle_id_to_hex(id, hex);
	snprintf(name, sizeof(name), "objects/sha256/%s", hex);
	rc = kind < BUNDLE_BLOB || kind > BUNDLE_JSON ? -1 :
	     add_file(x, name, data, len);
	if (rc == 0)
		rc = record_object(x, id, kind, len);
	if (rc == 0 && kind == BUNDLE_TREE) {
		rc = bundle_tree_foreach_ref(data, len, visit_kind, x);
		if (rc < 0 && !inspect_error()[0])
			inspect_take_error(bundle_error(), NULL);
	}
	if (rc == 0 && kind == BUNDLE_CHUNKS)
		rc = inspect_chunks_foreach(data, len, visit_chunk, x);
	free(data);
	return rc;
}

static void sha256(const void *data, size_t len, struct bundle_id *id)
{
	SHA256(data, len, id->bytes);
}

/* The events file as export_all writes it, row by row. */
struct event_lines {
	struct exporter *x;
	FILE *events;
	struct bundle_id prev; /* the hash of the last row written */
	uint64_t seq;	       /* the seq of the last row written */
};

/* Append the row's exact text to events, checking it against the hash
 * the previous event records. The text is the stored bytes, because
 * printing the parsed event again can give other bytes (a number that
 * the writer stored as raw text), and then another hash. */
static int export_event(const struct bundle_event_row *row, void *arg)
{
	struct event_lines *lines = arg;
	struct exporter *x = lines->x;
	struct bundle_id *prev = &lines->prev;
	uint64_t seq = ++lines->seq;
	cJSON *ev = cJSON_ParseWithLength(row->text, row->len), *ref;
	const char *want = inspect_json_str(ev, "prev");
	struct bundle_id hash, id;
	int rc = -1;

	if (!cJSON_IsObject(ev) || row->seq != seq ||
	    memchr(row->text, '\n', row->len)) {
		inspect_set_error("cannot export event: '%llu': not a JSON "
				  "object on one line in its row",
				  (unsigned long long)seq);
		inspect_set_hint("run 'runbundle verify' on the bundle");
		goto out;
	}
	hash = row->hash;
	if (seq > 1 && (!want || bundle_id_from_hex(&id, want) < 0 ||
			memcmp(&id, prev, sizeof(id)) != 0)) {
		inspect_set_error("cannot export event: '%llu': its text "
				  "does not hash to what the next event "
				  "records", (unsigned long long)seq - 1);
		inspect_set_hint("run 'runbundle verify' on the bundle");
		goto out;
	}
	*prev = hash;
	fwrite(row->text, 1, row->len, lines->events);
	fputc('\n', lines->events);
	rc = 0;
	cJSON_ArrayForEach(ref, cJSON_GetObjectItem(ev, "refs")) {
		if (!cJSON_IsString(ref) ||
		    bundle_id_from_hex(&id, ref->valuestring) < 0) {
			inspect_set_error("cannot export event: '%llu': a ref "
					  "is not an id",
					  (unsigned long long)seq);
			rc = -1;
		}
		if (rc == 0)
			rc = visit(&id, x);
		if (rc)
			break;
	}
out:
	cJSON_Delete(ev);
	return rc ? 1 : 0;
}

static int by_id(const void *a, const void *b)
{
	const struct listed *x = a, *y = b;

	return memcmp(&x->id, &y->id, sizeof(x->id));
}

/* Format piece i of the manifest into buf and return its length: the
 * head for i == 0, object i - 1 after it, and the tail after the last
 * object. The bytes are those that cJSON_Print wrote before, so the
 * same bundle still exports to the same archive. */
static size_t manifest_piece(const struct exporter *x, size_t i, char *buf,
			     size_t cap)
{
	char hex[BUNDLE_ID_HEX_LEN + 1];
	const struct listed *o;

	if (i == 0) {
		char root[BUNDLE_ID_HEX_LEN + 3] = "null";

		if (x->stats->has_root) {
			bundle_id_to_hex(&x->stats->root, hex);
			snprintf(root, sizeof(root), "\"%s\"", hex);
		}
		return (size_t)snprintf(buf, cap,
			"{\n\t\"layout\":\t\"%s\",\n\t\"format\":\t1,\n"
			"\t\"state\":\t\"%s\",\n\t\"root\":\t%s,\n"
			"\t\"events\":\t%llu,\n\t\"objects\":\t[",
			INSPECT_LAYOUT_NAME,
			x->stats->finalized ? "finalized" : "writing", root,
			(unsigned long long)x->stats->events);
	}
	if (i > x->n_objects)
		return (size_t)snprintf(buf, cap, "]\n}");
	o = &x->objects[i - 1];
	bundle_id_to_hex(&o->id, hex);
	return (size_t)snprintf(buf, cap,
		"%s{\n\t\t\t\"id\":\t\"%s\",\n\t\t\t\"kind\":\t\"%s\",\n"
		"\t\t\t\"size\":\t%llu\n\t\t}",
		i > 1 ? ", " : "", hex, kind_names[o->kind],
		(unsigned long long)o->size);
}

/* Write manifest.json piece by piece, after counting its length,
 * because its whole text takes 120 bytes per object. */
static int write_manifest(struct exporter *x)
{
	char buf[512];
	size_t total = 0, n;

	/* A bundle without objects leaves no array, which qsort() takes
	 * not even for no items. */
	if (x->n_objects > 1)
		qsort(x->objects, x->n_objects, sizeof(*x->objects), by_id);
	for (size_t i = 0; i <= x->n_objects + 1; i++)
		total += manifest_piece(x, i, buf, sizeof(buf));
	if (write_header(x, "manifest.json", total) != ARCHIVE_OK)
		goto fail;
	for (size_t i = 0; i <= x->n_objects + 1; i++) {
		n = manifest_piece(x, i, buf, sizeof(buf));
		if (archive_write_data(x->ar, buf, n) != (la_ssize_t)n)
			goto fail;
	}
	return 0;
fail:
	if (archive_errno(x->ar) > 0)
		return inspect_archive_write_error(x->ar, x->out);
	inspect_set_error("cannot write archive: 'manifest.json': %s",
			  archive_error_string(x->ar));
	return -1;
}

static int write_index(struct exporter *x, const char *events, size_t len)
{
	int rc = add_file(x, "events.jsonl", events, len);

	if (rc == 0)
		rc = write_manifest(x);
	return rc;
}

static int export_all(struct exporter *x)
{
	uint64_t n = bundle_event_count(x->bundle);
	char *events = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&events, &len);
	struct event_lines lines = { x, f, { { 0 } }, 0 };
	int rc = f ? 0 : -1;

	if (rc == 0)
		rc = bundle_each_event_row(x->bundle, export_event, &lines);
	if (rc < 0)
		inspect_take_error(bundle_error(), bundle_error_hint());
	if (rc > 0)
		rc = -1; /* export_event set the message */
	if (rc == 0 && lines.seq != n) {
		inspect_set_error("cannot export: '%s': %llu of its %llu "
				  "events are in the events table", x->path,
				  (unsigned long long)lines.seq,
				  (unsigned long long)n);
		rc = -1;
	}
	if (f && fclose(f) != 0)
		rc = -1;
	x->stats->events = n;
	if (rc == 0 && x->stats->has_root && n &&
	    memcmp(&lines.prev, &x->stats->root, sizeof(lines.prev)) != 0) {
		inspect_set_error("cannot export: the last event does not "
				  "hash to the root digest");
		rc = -1;
	}
	if (rc == 0)
		rc = write_index(x, events ? events : "", len);
	free(events);
	return rc;
}

static int open_out(struct exporter *x, const char *out)
{
	x->ar = archive_write_new();
	x->entry = archive_entry_new();
	if (!x->ar || !x->entry ||
	    archive_write_set_format_pax_restricted(x->ar) != ARCHIVE_OK ||
	    archive_write_add_filter_zstd(x->ar) != ARCHIVE_OK) {
		inspect_set_error("cannot create archive: '%s': %s", out,
				  x->ar ? inspect_archive_reason(x->ar) :
					  "out of memory");
		return -1;
	}
	x->fd = inspect_archive_create(x->ar, out);
	return x->fd < 0 ? -1 : 0;
}

int inspect_layout_export(const char *path, const char *out,
			  struct inspect_layout_stats *stats)
{
	struct exporter x = { .path = path, .stats = stats, .fd = -1,
			      .out = out };
	int rc;

	memset(stats, 0, sizeof(*stats));
	inspect_set_error("%s", "");
	x.bundle = bundle_open(path, BUNDLE_READ);
	if (!x.bundle)
		return inspect_open_error(path);
	stats->finalized = bundle_is_finalized(x.bundle);
	stats->has_root = stats->finalized &&
			  bundle_root(x.bundle, &stats->root) == 0;
	/* Import rejects a finalized archive without a root, and no root
	 * would check the last event. */
	if (stats->finalized && !stats->has_root) {
		inspect_set_error("cannot export: '%s': the bundle is "
				  "finalized but its root digest is missing "
				  "or invalid", path);
		inspect_set_hint("runbundle verify %s", path);
		bundle_close(x.bundle);
		return -1;
	}
	rc = open_out(&x, out);
	/* One read transaction, so that the manifest's event count and the
	 * events written match while a recording appends to the bundle. */
	if (rc == 0 && bundle_read_begin(x.bundle) < 0)
		rc = inspect_take_error(bundle_error(), bundle_error_hint());
	if (rc == 0) {
		rc = export_all(&x);
		bundle_read_end(x.bundle);
	}
	if (x.fd >= 0 && archive_write_close(x.ar) != ARCHIVE_OK && rc == 0)
		rc = inspect_archive_write_error(x.ar, out);
	archive_write_free(x.ar);
	archive_entry_free(x.entry);
	free(x.objects);
	free(x.seen.slots);
	free(x.seen.used);
	bundle_close(x.bundle);
	if (inspect_archive_finish(x.fd, out, rc == 0) < 0)
		rc = -1;
	return rc ? -1 : 0;
}

/* Read object i of the manifest into obj, or fail with the reason. */
static int parse_object(const cJSON *o, size_t i,
			struct inspect_layout_object *obj)
{
	double size = inspect_json_num(o, "size", -1);
	const char *why = NULL;

	if (!inspect_json_str(o, "id") ||
	    bundle_id_from_hex(&obj->id, inspect_json_str(o, "id")) < 0)
		why = "no valid id";
	else if (kind_from_name(inspect_json_str(o, "kind"), &obj->kind) < 0)
		why = "no valid kind";
	else if (size > (double)INSPECT_LAYOUT_MAX_OBJECT)
		why = "larger than import loads (4 GiB)";
	/* The conversion to uint64_t is defined only within the bound. */
	else if (size < 0 || size != (double)(uint64_t)size)
		why = "no valid size";
	if (why) {
		inspect_set_error("cannot import: 'manifest.json': object %zu "
				  "is invalid: %s", i, why);
		return -1;
	}
	obj->size = (uint64_t)size;
	obj->seen = 0;
	return 0;
}

static int parse_head(const cJSON *j, struct inspect_layout_manifest *m)
{
	const char *layout = inspect_json_str(j, "layout");
	const char *state = inspect_json_str(j, "state");
	const char *root = inspect_json_str(j, "root");
	double events = inspect_json_num(j, "events", -1);
	const char *why = NULL;

	if (!layout || strcmp(layout, INSPECT_LAYOUT_NAME) != 0)
		why = "not a runbundle open layout";
	else if (inspect_json_num(j, "format", 0) != 1)
		why = "unsupported format version";
	else if (!state || (strcmp(state, "finalized") != 0 &&
			    strcmp(state, "writing") != 0) ||
		 events < 0 || events > 1e15)
		why = "invalid state or event count";
	else if (strcmp(state, "finalized") == 0 &&
		 (!root || bundle_id_from_hex(&m->root, root) < 0))
		why = "a finalized bundle needs a root";
	if (why) {
		inspect_set_error("cannot import: 'manifest.json': %s", why);
		return -1;
	}
	m->finalized = strcmp(state, "finalized") == 0;
	m->has_root = m->finalized;
	m->events = (uint64_t)events;
	return 0;
}

static int cmp_object(const void *a, const void *b)
{
	return memcmp(&((const struct inspect_layout_object *)a)->id,
		      &((const struct inspect_layout_object *)b)->id,
		      sizeof(struct bundle_id));
}

int inspect_layout_manifest_parse(const char *text, size_t len,
				  struct inspect_layout_manifest *m)
{
	cJSON *j = cJSON_ParseWithLength(text, len);
	const cJSON *list = cJSON_GetObjectItem(j, "objects"), *o;
	size_t i = 0;

	memset(m, 0, sizeof(*m));
	if (!cJSON_IsObject(j) || !cJSON_IsArray(list)) {
		cJSON_Delete(j);
		inspect_set_error("cannot import: 'manifest.json': not a "
				  "JSON object with an object list");
		return -1;
	}
	if (parse_head(j, m) < 0)
		goto fail;
	m->objects = calloc((size_t)cJSON_GetArraySize(list) + 1,
			    sizeof(*m->objects));
	if (!m->objects)
		goto fail;
	cJSON_ArrayForEach(o, list) {
		if (parse_object(o, i, &m->objects[i]) < 0)
			goto fail;
		i++;
	}
	m->n_objects = i;
	qsort(m->objects, i, sizeof(*m->objects), cmp_object);
	for (i = 1; i < m->n_objects; i++) {
		if (cmp_object(&m->objects[i - 1], &m->objects[i]) == 0) {
			inspect_set_error("cannot import: 'manifest.json': an "
					  "object is listed twice");
			goto fail;
		}
	}
	cJSON_Delete(j);
	return 0;
fail:
	cJSON_Delete(j);
	inspect_layout_manifest_release(m);
	return -1;
}

void inspect_layout_manifest_release(struct inspect_layout_manifest *m)
{
	free(m->objects);
	memset(m, 0, sizeof(*m));
}

struct inspect_layout_object *
inspect_layout_manifest_find(const struct inspect_layout_manifest *m,
			     const struct bundle_id *id)
{
	struct inspect_layout_object key = { .id = *id };

	return bsearch(&key, m->objects, m->n_objects, sizeof(key),
		       cmp_object);
}

static int check_line(const char *line, size_t len, uint64_t seq,
		      const struct bundle_id *prev,
		      const struct inspect_layout_manifest *m)
{
	cJSON *ev = cJSON_ParseWithLength(line, len), *ref;
	const char *want = inspect_json_str(ev, "prev");
	struct bundle_id id;
	int ok = cJSON_IsObject(ev) &&
		 inspect_json_num(ev, "seq", 0) == (double)seq &&
		 inspect_json_str(ev, "kind") &&
		 memchr(line, '\0', len) == NULL;

	if (ok && seq > 1)
		ok = want && bundle_id_from_hex(&id, want) == 0 &&
		     memcmp(&id, prev, sizeof(id)) == 0;
	if (ok && seq == 1)
		ok = want == NULL;
	cJSON_ArrayForEach(ref, cJSON_GetObjectItem(ev, "refs")) {
		if (ok)
			ok = cJSON_IsString(ref) &&
			     bundle_id_from_hex(&id, ref->valuestring) == 0 &&
			     inspect_layout_manifest_find(m, &id) != NULL;
	}
	cJSON_Delete(ev);
	if (!ok) {
		inspect_set_error("cannot import: 'events.jsonl': line %llu "
				  "is not the next event of the chain, or "
				  "references an object the archive lacks",
				  (unsigned long long)seq);
		return -1;
	}
	return 0;
}

int inspect_layout_events_check(const char *text, size_t len,
				const struct inspect_layout_manifest *m,
				int (*fn)(uint64_t seq, const char *line,
					  size_t line_len,
					  const struct bundle_id *hash,
					  void *arg),
				void *arg)
{
	const char *p = text, *end = text + len;
	struct bundle_id prev;
	uint64_t seq = 0;
	int rc;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (!nl) {
			inspect_set_error("cannot import: 'events.jsonl': the "
					  "last line has no newline");
			return -1;
		}
		if (check_line(p, (size_t)(nl - p), ++seq, &prev, m) < 0)
			return -1;
		sha256(p, (size_t)(nl - p), &prev);
		if (fn && (rc = fn(seq, p, (size_t)(nl - p), &prev, arg)))
			return rc;
		p = nl + 1;
	}
	if (seq != m->events) {
		inspect_set_error("cannot import: 'events.jsonl': %llu events, "
				  "the manifest says %llu",
				  (unsigned long long)seq,
				  (unsigned long long)m->events);
		return -1;
	}
	if (m->finalized && seq && memcmp(&prev, &m->root, sizeof(prev))) {
		inspect_set_error("cannot import: 'events.jsonl': the last "
				  "event does not hash to the root digest");
		return -1;
	}
	return 0;
}
