/*
 * snapshot_event.c - the "snapshot" event: write it, and find and load
 * stored snapshots by name.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "bundle/snapshot_internal.h"

#define SNAPSHOT_EVENT "snapshot"
#define MIN_PREFIX     4

int snapshot_parse_event(const cJSON *event, struct bundle_snapshot *snapshot,
			 const char **path, struct timespec *start)
{
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(event, "kind");
	const cJSON *seq = cJSON_GetObjectItemCaseSensitive(event, "seq");
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(event, "data");
	const cJSON *root, *complete, *sec, *nsec, *where;

	if (!cJSON_IsString(kind) || strcmp(kind->valuestring, SNAPSHOT_EVENT))
		return -1;
	root = cJSON_GetObjectItemCaseSensitive(data, "root");
	complete = cJSON_GetObjectItemCaseSensitive(data, "complete");
	sec = cJSON_GetObjectItemCaseSensitive(data, "start_sec");
	nsec = cJSON_GetObjectItemCaseSensitive(data, "start_nsec");
	where = cJSON_GetObjectItemCaseSensitive(data, "path");
	if (!cJSON_IsString(root) ||
	    bundle_id_from_hex(&snapshot->root, root->valuestring) < 0 ||
	    !cJSON_IsNumber(seq) || !cJSON_IsNumber(sec) ||
	    !cJSON_IsNumber(nsec) || !cJSON_IsString(where))
		return -1;
	snapshot->seq = (uint64_t)seq->valuedouble;
	snapshot->complete = cJSON_IsTrue(complete);
	if (path)
		*path = where->valuestring;
	if (start) {
		start->tv_sec = (time_t)sec->valuedouble;
		start->tv_nsec = (long)nsec->valuedouble;
	}
	return 0;
}

/* Load the snapshot event seq found in the index as the previous one. */
static void load_previous(struct snapshot_source *src, struct bundle *bundle,
			  uint64_t seq)
{
	cJSON *event = bundle_get_event(bundle, seq);
	struct bundle_snapshot found;

	if (event && snapshot_parse_event(event, &found, NULL,
					  &src->previous_start) == 0) {
		src->have_previous = 1;
		src->previous_root = found.root;
	}
	cJSON_Delete(event);
}

/* Find the last snapshot of the same path, which serves as the stat
 * cache: from the index, or by loading events from the last one
 * backwards in a read-only bundle without it. */
static void find_previous(struct snapshot_source *src, struct bundle *bundle)
{
	uint64_t seq;

	if (src->indexed) {
		if (snapshot_index_previous(bundle, src->shown, &seq) == 1)
			load_previous(src, bundle, seq);
		return;
	}
	for (seq = bundle_event_count(bundle); seq >= 1; seq--) {
		cJSON *event = bundle_get_event(bundle, seq);
		struct bundle_snapshot found;
		const char *path;
		int match;

		if (!event)
			return;
		match = snapshot_parse_event(event, &found, &path,
				    &src->previous_start) == 0 &&
			strcmp(path, src->shown) == 0;
		cJSON_Delete(event);
		if (match) {
			src->have_previous = 1;
			src->previous_root = found.root;
			return;
		}
	}
}

int snapshot_source_init(struct snapshot_source *src, struct bundle *bundle,
			 const char *dir)
{
	memset(src, 0, sizeof(*src));
	clock_gettime(CLOCK_REALTIME, &src->start);
	src->path = realpath(dir, NULL);
	if (!src->path) {
		char shown[PATH_MAX];

		bundle_name_escape(shown, sizeof(shown),
				   (const unsigned char *)dir, strlen(dir));
		bundle_set_error("cannot snapshot directory: '%s': %s", shown,
				 strerror(errno));
		return -1;
	}
	bundle_name_escape(src->shown, sizeof(src->shown),
			   (const unsigned char *)src->path, strlen(src->path));
	src->indexed = snapshot_index_open(bundle);
	if (src->indexed < 0) {
		snapshot_source_release(src);
		return -1;
	}
	find_previous(src, bundle);
	return 0;
}

void snapshot_source_release(struct snapshot_source *src)
{
	free(src->path);
	src->path = NULL;
}

static void add_count(cJSON *data, const char *name, uint64_t value)
{
	cJSON_AddNumberToObject(data, name, (double)value);
}

static cJSON *event_data(const struct snapshot_source *src,
			 const struct bundle_snapshot_options *options,
			 const struct bundle_snapshot *snapshot)
{
	const struct bundle_snapshot_stats *st = &snapshot->stats;
	char hex[BUNDLE_ID_HEX_LEN + 1];
	cJSON *data = cJSON_CreateObject();
	cJSON *excludes = cJSON_AddArrayToObject(data, "excludes");
	cJSON *hidden = cJSON_AddArrayToObject(data, "hidden");

	bundle_id_to_hex(&snapshot->root, hex);
	cJSON_AddStringToObject(data, "path", src->shown);
	cJSON_AddStringToObject(data, "root", hex);
	cJSON_AddBoolToObject(data, "complete",
			      st->errors == 0 && st->changed == 0);
	cJSON_AddNumberToObject(data, "start_sec", (double)src->start.tv_sec);
	cJSON_AddNumberToObject(data, "start_nsec", (double)src->start.tv_nsec);
	for (size_t i = 0; excludes && i < options->n_excludes; i++)
		cJSON_AddItemToArray(excludes,
				     cJSON_CreateString(options->excludes[i]));
	for (size_t i = 0; hidden && i < options->n_hidden; i++)
		cJSON_AddItemToArray(hidden,
				     cJSON_CreateString(options->hidden[i]));
	add_count(data, "files", st->files);
	add_count(data, "dirs", st->dirs);
	add_count(data, "symlinks", st->symlinks);
	add_count(data, "specials", st->specials);
	add_count(data, "errors", st->errors);
	add_count(data, "changed", st->changed);
	add_count(data, "bytes", st->bytes);
	add_count(data, "bytes_read", st->bytes_read);
	add_count(data, "cached", st->cached);
	if (snapshot->root_meta.have) {
		const struct bundle_root_meta *m = &snapshot->root_meta;

		add_count(data, "root_mode", m->mode);
		add_count(data, "root_uid", m->uid);
		add_count(data, "root_gid", m->gid);
		cJSON_AddNumberToObject(data, "root_mtime_sec",
					(double)m->mtime_sec);
		add_count(data, "root_mtime_nsec", m->mtime_nsec);
	}
	return data;
}

int snapshot_append_event(struct bundle *bundle,
			  const struct snapshot_source *src,
			  const struct bundle_snapshot_options *options,
			  struct bundle_snapshot *snapshot)
{
	cJSON *data = event_data(src, options, snapshot);
	int rc;

	if (!data) {
		bundle_set_error("cannot record snapshot: out of memory");
		return -1;
	}
	rc = bundle_append_event(bundle, SNAPSHOT_EVENT, data, &snapshot->root,
				 1, &snapshot->seq);
	cJSON_Delete(data);
	if (rc == 0 && src->indexed)
		rc = snapshot_index_add(bundle, snapshot->seq, src->shown,
					&snapshot->root);
	snapshot->complete =
		snapshot->stats.errors == 0 && snapshot->stats.changed == 0;
	return rc;
}

static void load_stats(const cJSON *data, struct bundle_snapshot_stats *st)
{
	static const struct {
		const char *name;
		size_t offset;
	} fields[] = {
		{"files", offsetof(struct bundle_snapshot_stats, files)},
		{"dirs", offsetof(struct bundle_snapshot_stats, dirs)},
		{"symlinks", offsetof(struct bundle_snapshot_stats, symlinks)},
		{"specials", offsetof(struct bundle_snapshot_stats, specials)},
		{"errors", offsetof(struct bundle_snapshot_stats, errors)},
		{"changed", offsetof(struct bundle_snapshot_stats, changed)},
		{"bytes", offsetof(struct bundle_snapshot_stats, bytes)},
		{"bytes_read",
		 offsetof(struct bundle_snapshot_stats, bytes_read)},
		{"cached", offsetof(struct bundle_snapshot_stats, cached)},
	};

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const cJSON *v =
			cJSON_GetObjectItemCaseSensitive(data, fields[i].name);

		if (cJSON_IsNumber(v) && v->valuedouble >= 0)
			*(uint64_t *)((char *)st + fields[i].offset) =
				(uint64_t)v->valuedouble;
	}
}

/* The root directory's metadata, when the event has all of it in
 * range. */
static void load_root_meta(const cJSON *data, struct bundle_root_meta *meta)
{
	const char *names[] = {"root_mode", "root_uid", "root_gid",
			       "root_mtime_sec", "root_mtime_nsec"};
	double v[5];

	for (size_t i = 0; i < 5; i++) {
		const cJSON *item =
			cJSON_GetObjectItemCaseSensitive(data, names[i]);

		if (!cJSON_IsNumber(item))
			return;
		v[i] = item->valuedouble;
	}
	if (v[0] < 0 || v[0] > UINT32_MAX || v[1] < 0 || v[1] > UINT32_MAX ||
	    v[2] < 0 || v[2] > UINT32_MAX || v[3] < -9.0e15 || v[3] > 9.0e15 ||
	    v[4] < 0 || v[4] >= 1e9)
		return;
	meta->have = 1;
	meta->mode = (uint32_t)v[0];
	meta->uid = (uint32_t)v[1];
	meta->gid = (uint32_t)v[2];
	meta->mtime_sec = (int64_t)v[3];
	meta->mtime_nsec = (uint32_t)v[4];
}

int bundle_snapshot_load(struct bundle *bundle, uint64_t seq,
			 struct bundle_snapshot *snapshot)
{
	cJSON *event = bundle_get_event(bundle, seq);
	int rc;

	memset(snapshot, 0, sizeof(*snapshot));
	if (!event)
		return -1;
	rc = snapshot_parse_event(event, snapshot, NULL, NULL);
	if (rc == 0) {
		const cJSON *data =
			cJSON_GetObjectItemCaseSensitive(event, "data");

		load_stats(data, &snapshot->stats);
		load_root_meta(data, &snapshot->root_meta);
	}
	cJSON_Delete(event);
	if (rc < 0)
		bundle_set_error("cannot load snapshot: '%llu': event is not "
				 "a snapshot",
				 (unsigned long long)seq);
	return rc;
}

/* A callback for each snapshot event that scan_snapshots() finds. */
struct snapshot_scan {
	int (*fn)(const struct bundle_snapshot *snapshot, void *arg);
	void *arg;
};

static int scan_row(const struct bundle_event_row *row, void *arg)
{
	struct snapshot_scan *scan = arg;
	cJSON *event = cJSON_ParseWithLength(row->text, row->len);
	struct bundle_snapshot snapshot;
	int rc = 0;

	memset(&snapshot, 0, sizeof(snapshot));
	if (event && snapshot_parse_event(event, &snapshot, NULL, NULL) == 0) {
		const cJSON *data =
			cJSON_GetObjectItemCaseSensitive(event, "data");

		load_stats(data, &snapshot.stats);
		load_root_meta(data, &snapshot.root_meta);
		rc = scan->fn(&snapshot, scan->arg);
	}
	cJSON_Delete(event);
	return rc;
}

/* Call fn with each snapshot event of a bundle without the index, in seq
 * order, until fn returns nonzero. It reads the stored rows: a damaged
 * last row can have seq 2^63 - 1, too many to count down from. */
static int scan_snapshots(struct bundle *bundle,
			  int (*fn)(const struct bundle_snapshot *snapshot,
				    void *arg),
			  void *arg)
{
	struct snapshot_scan scan = {fn, arg};

	return bundle_each_event_row(bundle, scan_row, &scan);
}

struct latest {
	struct bundle_snapshot *out;
	int found;
};

static int keep_latest(const struct bundle_snapshot *snapshot, void *arg)
{
	struct latest *latest = arg;

	*latest->out = *snapshot;
	latest->found = 1;
	return 0;
}

static int find_latest(struct bundle *bundle, struct bundle_snapshot *out)
{
	struct latest latest = {out, 0};
	uint64_t last;
	int indexed = snapshot_index_open(bundle);

	if (indexed < 0)
		return -1;
	if (indexed && snapshot_index_latest(bundle, &last) == 1)
		return bundle_snapshot_load(bundle, last, out);
	if (!indexed && scan_snapshots(bundle, keep_latest, &latest) < 0)
		return -1;
	if (latest.found)
		return 0;
	bundle_set_error("cannot find snapshot: 'latest': the bundle has no "
			 "snapshot");
	bundle_set_hint("store one with 'runbundle snapshot BUNDLE DIR'");
	return -1;
}

static int is_hex(const char *s)
{
	for (; *s; s++) {
		if (!isxdigit((unsigned char)*s))
			return 0;
	}
	return 1;
}

static int hex_prefix_matches(const struct bundle_id *id, const char *prefix)
{
	char hex[BUNDLE_ID_HEX_LEN + 1];

	bundle_id_to_hex(id, hex);
	for (size_t i = 0; prefix[i]; i++) {
		if (hex[i] != tolower((unsigned char)prefix[i]))
			return 0;
	}
	return 1;
}

static int prefix_error(const char *shown, int ambiguous)
{
	if (ambiguous) {
		bundle_set_error("cannot find snapshot: '%s': prefix matches "
				 "more than one root tree",
				 shown);
		bundle_set_hint("give more hex digits of the id");
	} else {
		bundle_set_error("cannot find snapshot: '%s': no snapshot has "
				 "that root tree id",
				 shown);
	}
	return -1;
}

/* A root tree id prefix: every snapshot event is checked, so that an
 * ambiguous prefix is rejected. */
struct prefix_scan {
	const char *prefix;
	struct bundle_snapshot *out;
	int found;
	int ambiguous;
};

static int match_prefix(const struct bundle_snapshot *snapshot, void *arg)
{
	struct prefix_scan *scan = arg;

	if (!hex_prefix_matches(&snapshot->root, scan->prefix))
		return 0;
	if (scan->found && memcmp(&scan->out->root, &snapshot->root,
				  sizeof(snapshot->root))) {
		scan->ambiguous = 1;
		return 1;
	}
	*scan->out = *snapshot; /* the last snapshot of that root */
	scan->found = 1;
	return 0;
}

static int scan_by_prefix(struct bundle *bundle, const char *shown,
			  const char *prefix, struct bundle_snapshot *out)
{
	struct prefix_scan scan = {prefix, out, 0, 0};

	if (scan_snapshots(bundle, match_prefix, &scan) < 0)
		return -1;
	if (scan.ambiguous || !scan.found)
		return prefix_error(shown, scan.ambiguous);
	return 0;
}

static int find_by_prefix(struct bundle *bundle, const char *shown,
			  const char *prefix, struct bundle_snapshot *out)
{
	int indexed = snapshot_index_open(bundle);
	int ambiguous, rc;
	uint64_t seq;

	if (indexed < 0)
		return -1;
	if (!indexed)
		return scan_by_prefix(bundle, shown, prefix, out);
	rc = snapshot_index_prefix(bundle, prefix, &seq, &ambiguous);
	if (rc < 0)
		return -1;
	if (rc == 0 || ambiguous)
		return prefix_error(shown, ambiguous);
	return bundle_snapshot_load(bundle, seq, out);
}

static int find_tree(struct bundle *bundle, const char *shown, const char *hex,
		     struct bundle_snapshot *out)
{
	void *data;
	size_t len;
	enum bundle_kind kind;

	if (find_by_prefix(bundle, shown, hex, out) == 0)
		return 0;
	memset(out, 0, sizeof(*out));
	if (bundle_id_from_hex(&out->root, hex) < 0 ||
	    bundle_get(bundle, &out->root, &data, &len, &kind) < 0) {
		bundle_set_error("cannot find snapshot: '%s': no tree object "
				 "has that id",
				 shown);
		return -1;
	}
	free(data);
	if (kind != BUNDLE_TREE) {
		bundle_set_error("cannot find snapshot: '%s': the object is "
				 "not a tree",
				 shown);
		return -1;
	}
	out->complete = 1;
	return 0;
}

static int parse_seq(const char *name, uint64_t *seq)
{
	char *end;
	unsigned long long v;

	if (!*name || strspn(name, "0123456789") != strlen(name))
		return -1;
	errno = 0;
	v = strtoull(name, &end, 10);
	if (errno || *end || v == 0)
		return -1;
	*seq = v;
	return 0;
}

/* Set the error for an event number, too short to be a tree id prefix,
 * that names no snapshot. */
static int no_snapshot_at(struct bundle *bundle, const char *shown,
			  uint64_t seq)
{
	uint64_t n = bundle_event_count(bundle);

	if (seq > n)
		bundle_set_error("cannot find snapshot: '%s': the bundle has "
				 "%llu events", shown, (unsigned long long)n);
	else
		bundle_set_error("cannot find snapshot: '%s': event %llu is "
				 "not a snapshot", shown,
				 (unsigned long long)seq);
	bundle_set_hint("'runbundle log --kind snapshot BUNDLE' lists the "
			"snapshots with their event numbers");
	return -1;
}

int bundle_snapshot_find(struct bundle *bundle, const char *name,
			 struct bundle_snapshot *snapshot)
{
	char shown[128];
	uint64_t seq;
	size_t len = strlen(name);

	bundle_name_escape(shown, sizeof(shown), (const unsigned char *)name,
			   len);
	if (strcmp(name, "latest") == 0)
		return find_latest(bundle, snapshot);
	if (parse_seq(name, &seq) == 0 && seq <= bundle_event_count(bundle) &&
	    bundle_snapshot_load(bundle, seq, snapshot) == 0)
		return 0;
	if (parse_seq(name, &seq) == 0 && len < MIN_PREFIX)
		return no_snapshot_at(bundle, shown, seq);
	if (len == BUNDLE_ID_HEX_LEN && is_hex(name))
		return find_tree(bundle, shown, name, snapshot);
	if (len >= MIN_PREFIX && len < BUNDLE_ID_HEX_LEN && is_hex(name))
		return find_by_prefix(bundle, shown, name, snapshot);

	bundle_set_error("cannot find snapshot: '%s': not 'latest', an "
			 "event number of a snapshot, or a root tree id",
			 shown);
	bundle_set_hint("a root tree id prefix needs at least %d hex digits",
			MIN_PREFIX);
	return -1;
}
