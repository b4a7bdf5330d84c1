/*
 * layout_import.c - turn an open-layout archive (layout.h) back into a
 * bundle with the same root digest.
 *
 * Objects go in through bundle_put. Events go in through
 * bundle_import_events(), which keeps each line's text and so its hash,
 * because bundle_append_event() would stamp a new time and change every
 * hash. bundle_finalize() then computes the root from them.
 */
#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle/verify.h"
#include "harness/input_file.h"
#include "inspect/error.h"
#include "inspect/layout.h"

/* events.jsonl of up to this size is held in memory. */
#define IMPORT_MAX_EVENTS ((size_t)1 << 30)
#define OBJECT_PREFIX "objects/sha256/"

/* Set the error of a read of the archive at path that failed. Returns
 * whether the archive ends early, for which the hint is set too. */
static int read_error(struct archive *ar, const char *path)
{
	const char *text = archive_error_string(ar);

	inspect_set_error("cannot read archive: '%s': %s", path,
			  text ? text : "unknown failure");
	/* libarchive's tar and zstd readers then report "Truncated". */
	if (!text || !strstr(text, "runcated"))
		return 0;
	inspect_set_hint("the archive ends early, so it was cut in a copy "
			 "or an export that did not finish; copy it again "
			 "or export the bundle again");
	return 1;
}

/* Open the archive at path on *fd, which close_archive() closes, because
 * libarchive leaves a descriptor that it was given open. */
static struct archive *open_archive(const char *path, int *fd)
{
	const char *reason;
	struct archive *ar;

	*fd = harness_open_input(path, &reason);
	if (*fd < 0) {
		inspect_set_error("cannot read archive: '%s': %s", path,
				  reason);
		return NULL;
	}
	ar = archive_read_new();
	if (!ar) {
		close(*fd);
		inspect_set_error("cannot read archive: out of memory");
		return NULL;
	}
	archive_read_support_filter_all(ar);
	archive_read_support_format_tar(ar);
	if (archive_read_open_fd(ar, *fd, 65536) != ARCHIVE_OK) {
		if (!read_error(ar, path))
			inspect_set_hint("import reads the .tar.zst that "
					 "runbundle export writes; a bundle "
					 "itself needs no import");
		archive_read_free(ar);
		close(*fd);
		return NULL;
	}
	return ar;
}

static void close_archive(struct archive *ar, int fd)
{
	archive_read_free(ar);
	close(fd);
}

/* Read the current entry's data, at most max bytes. */
static int read_entry(struct archive *ar, struct archive_entry *e,
		      size_t max, char **data, size_t *len)
{
	la_int64_t size = archive_entry_size(e);
	la_ssize_t n;

	if (size < 0 || (uint64_t)size > max) {
		inspect_set_error("cannot import: '%s': larger than %zu bytes",
				  archive_entry_pathname(e), max);
		return -1;
	}
	*data = malloc((size_t)size + 1);
	if (!*data) {
		inspect_set_error("cannot import: out of memory");
		return -1;
	}
	n = archive_read_data(ar, *data, (size_t)size);
	if (n != size) {
		free(*data);
		inspect_set_error("cannot import: '%s': %s",
				  archive_entry_pathname(e),
				  n < 0 ? archive_error_string(ar) :
					  "truncated");
		return -1;
	}
	(*data)[size] = '\0';
	*len = (size_t)size;
	return 0;
}

struct index {
	char *manifest, *events;
	size_t manifest_len, events_len;
};

static int read_index(const char *path, struct index *ix)
{
	int fd;
	struct archive *ar = open_archive(path, &fd);
	struct archive_entry *e;
	int r, rc = 0;

	if (!ar)
		return -1;
	while (rc == 0 &&
	       (r = archive_read_next_header(ar, &e)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);

		if (name && strcmp(name, "manifest.json") == 0 && !ix->manifest)
			rc = read_entry(ar, e, INSPECT_LAYOUT_MAX_OBJECT,
					&ix->manifest, &ix->manifest_len);
		else if (name && strcmp(name, "events.jsonl") == 0 &&
			 !ix->events)
			rc = read_entry(ar, e, IMPORT_MAX_EVENTS, &ix->events,
					&ix->events_len);
	}
	if (rc == 0 && r != ARCHIVE_EOF) {
		read_error(ar, path);
		rc = -1;
	}
	close_archive(ar, fd);
	if (rc == 0 && (!ix->manifest || !ix->events)) {
		inspect_set_error("cannot import: '%s': no %s", path,
				  ix->manifest ? "events.jsonl" :
						 "manifest.json");
		inspect_set_hint("write the archive with 'runbundle "
				 "export-bundle'");
		rc = -1;
	}
	return rc;
}

static int put_object(struct bundle *b, struct inspect_layout_manifest *m,
		      const char *name, const char *data, size_t len)
{
	struct inspect_layout_object *obj;
	struct bundle_id id, got;

	if (bundle_id_from_hex(&id, name + strlen(OBJECT_PREFIX)) < 0 ||
	    !(obj = inspect_layout_manifest_find(m, &id))) {
		inspect_set_error("cannot import: '%s': not an object the "
				  "manifest lists", name);
		return -1;
	}
	if (obj->seen || obj->size != len) {
		inspect_set_error("cannot import: '%s': %s", name,
				  obj->seen ? "stored twice" :
					      "its size differs from the "
					      "manifest's");
		return -1;
	}
	if (bundle_put(b, obj->kind, data, len, &got) < 0)
		return inspect_take_error(bundle_error(), bundle_error_hint());
	if (memcmp(&got, &id, sizeof(id)) != 0) {
		inspect_set_error("cannot import: '%s': content does not "
				  "match its id", name);
		return -1;
	}
	obj->seen = 1;
	return 0;
}

static int is_index(const char *name)
{
	return strcmp(name, "manifest.json") == 0 ||
	       strcmp(name, "events.jsonl") == 0;
}

/* Check whether a path is absolute or has a ".." component, so that
 * extracting the archive would put it outside the archive's directory. */
static int leaves_directory(const char *name)
{
	if (name[0] == '/')
		return 1;
	for (const char *p = name; (p = strstr(p, "..")); p += 2) {
		if ((p == name || p[-1] == '/') &&
		    (p[2] == '\0' || p[2] == '/'))
			return 1;
	}
	return 0;
}

/* Reject an entry that is not an object of the layout, saying why. */
static int foreign_entry(const char *name)
{
	if (leaves_directory(name))
		inspect_set_error("cannot import: '%s': its path leaves the "
				  "archive's directory", name);
	else if (strncmp(name, OBJECT_PREFIX, strlen(OBJECT_PREFIX)) == 0)
		inspect_set_error("cannot import: '%s': not a regular file",
				  name);
	else
		inspect_set_error("cannot import: '%s': not part of the open "
				  "layout", name);
	inspect_set_hint("the open layout has only manifest.json, "
			 "events.jsonl and " OBJECT_PREFIX "ID files; write "
			 "the archive with 'runbundle export-bundle'");
	return -1;
}

static int read_objects(const char *path, struct bundle *b,
			struct inspect_layout_manifest *m)
{
	int fd;
	struct archive *ar = open_archive(path, &fd);
	struct archive_entry *e;
	int r, rc = 0;

	if (!ar)
		return -1;
	while (rc == 0 &&
	       (r = archive_read_next_header(ar, &e)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);
		char *data;
		size_t len;

		if (!name || is_index(name) ||
		    archive_entry_filetype(e) == AE_IFDIR)
			continue;
		if (strncmp(name, OBJECT_PREFIX, strlen(OBJECT_PREFIX)) != 0 ||
		    leaves_directory(name) ||
		    archive_entry_filetype(e) != AE_IFREG) {
			rc = foreign_entry(name);
			break;
		}
		rc = read_entry(ar, e, INSPECT_LAYOUT_MAX_OBJECT, &data, &len);
		if (rc == 0) {
			rc = put_object(b, m, name, data, len);
			free(data);
		}
	}
	if (rc == 0 && r != ARCHIVE_EOF) {
		read_error(ar, path);
		rc = -1;
	}
	close_archive(ar, fd);
	for (size_t i = 0; rc == 0 && i < m->n_objects; i++) {
		if (!m->objects[i].seen) {
			char hex[BUNDLE_ID_HEX_LEN + 1];

			bundle_id_to_hex(&m->objects[i].id, hex);
			inspect_set_error("cannot import: '%s': the manifest "
					  "lists an object the archive lacks",
					  hex);
			rc = -1;
		}
	}
	return rc;
}

/* Every line was checked against the manifest before, so the store
 * only checks the chain again as it appends. */
static int import_events(struct bundle *b, const struct index *ix)
{
	if (bundle_import_events(b, ix->events, ix->events_len, NULL) < 0)
		return inspect_take_error(bundle_error(), bundle_error_hint());
	return 0;
}

static int finalize(struct bundle *b, const char *out,
		    const struct inspect_layout_manifest *m,
		    struct inspect_layout_stats *stats)
{
	struct bundle_id root;

	if (!m->finalized)
		return 0;
	if (bundle_finalize(b, &root) < 0)
		return inspect_take_error(bundle_error(), bundle_error_hint());
	if (memcmp(&root, &m->root, sizeof(root)) != 0) {
		inspect_set_error("cannot import: '%s': the root digest "
				  "differs from the manifest's", out);
		return -1;
	}
	stats->has_root = 1;
	stats->root = root;
	return 0;
}

static int verify(const char *out)
{
	struct bundle_verify_report report;
	int ok;

	if (bundle_verify(out, &report) < 0)
		return inspect_take_error(bundle_error(), bundle_error_hint());
	ok = report.n_problems == 0;
	if (!ok)
		inspect_set_error("cannot import: '%s': the imported bundle "
				  "does not verify: %s", out,
				  report.problems[0].message);
	bundle_verify_release(&report);
	return ok ? 0 : -1;
}

static int store_objects(struct bundle *b, const char *path,
			 struct inspect_layout_manifest *m)
{
	int rc;

	rc = bundle_begin(b) == 0 ? read_objects(path, b, m) :
		inspect_take_error(bundle_error(), bundle_error_hint());
	if (rc == 0 && bundle_commit(b) < 0)
		rc = inspect_take_error(bundle_error(), bundle_error_hint());
	if (rc)
		bundle_rollback(b);
	return rc;
}

/* Objects first, so that every event's refs are stored when it goes
 * in, then the events, then the root digest. */
static int store(const char *path, const char *out, const struct index *ix,
		 struct inspect_layout_manifest *m,
		 struct inspect_layout_stats *stats, int *created)
{
	struct bundle *b = bundle_create(out, NULL);
	int rc;

	if (!b)
		return inspect_take_error(bundle_error(), bundle_error_hint());
	*created = 1;
	rc = store_objects(b, path, m);
	if (rc == 0)
		rc = import_events(b, ix);
	if (rc == 0)
		rc = finalize(b, out, m, stats);
	bundle_close(b);
	return rc;
}

static void remove_bundle(const char *out)
{
	const char *suffixes[] = { "", "-wal", "-shm", "-journal" };
	char name[4096];

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(*suffixes); i++) {
		snprintf(name, sizeof(name), "%s%s", out, suffixes[i]);
		unlink(name);
	}
}

/* On a full disk or past the file size limit, replace the store's hint
 * that everything committed stays intact, because the failed import
 * removed the bundle. A write past the limit is recognized by the
 * store's hint, which names 'ulimit -f'. */
static void fix_full_hint(const char *out)
{
	const char *message = inspect_error();
	const char *hint = inspect_error_hint();

	if (bundle_error_is_disk_full(message))
		inspect_set_hint("free space on the file system of '%s' and "
				 "import again, or name a bundle on another "
				 "one with -o", out);
	else if (hint && strstr(hint, "ulimit -f"))
		inspect_set_hint("raise the file size limit ('ulimit -f') "
				 "and import again");
}

int inspect_layout_import(const char *path, const char *out,
			  struct inspect_layout_stats *stats)
{
	struct inspect_layout_manifest m;
	struct index ix = { 0 };
	int rc, created = 0;

	memset(stats, 0, sizeof(*stats));
	memset(&m, 0, sizeof(m));
	rc = read_index(path, &ix);
	if (rc == 0)
		rc = inspect_layout_manifest_parse(ix.manifest,
						   ix.manifest_len, &m);
	if (rc == 0)
		rc = inspect_layout_events_check(ix.events, ix.events_len, &m,
						 NULL, NULL);
	if (rc == 0)
		rc = store(path, out, &ix, &m, stats, &created);
	if (rc == 0)
		rc = verify(out);
	stats->events = m.events;
	stats->objects = m.n_objects;
	stats->finalized = m.finalized;
	for (size_t i = 0; i < m.n_objects; i++)
		stats->bytes += m.objects[i].size;
	if (rc && created) {
		remove_bundle(out);
		fix_full_hint(out);
	}
	inspect_layout_manifest_release(&m);
	free(ix.manifest);
	free(ix.events);
	return rc ? -1 : 0;
}
