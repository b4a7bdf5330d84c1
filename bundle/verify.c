/*
 * verify.c - bundle_verify: the file checks, the event chain and the
 * root digest, and which events each problem affects.
 *
 * Passes, in order: the file size against the SQLite header, SQLite's
 * integrity_check, the object index, every object (verify_objects.c),
 * the content behind every chunk list, and the events. The last pass
 * walks from each event's references to list the events that a damaged
 * object affects. A pass that SQLite cannot finish records a problem and the
 * next pass runs anyway, so one damaged page hides as little as
 * possible.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/snapshot_internal.h"
#include "bundle/tree_count.h"
#include "bundle/verify_internal.h"

/* Problems recorded in full; a hostile file could produce one per row. */
#define MAX_PROBLEMS 10000

struct bundle_verify_problem *verify_problem(struct verify *v, uint32_t node,
					     const struct bundle_id *object,
					     uint64_t event, const char *fmt,
					     ...)
{
	struct bundle_verify_report *report = v->report;
	struct bundle_verify_problem *problem;
	char message[512];
	va_list ap;

	if (report->n_problems >= MAX_PROBLEMS)
		return NULL;
	if (report->n_problems == v->problems_cap) {
		size_t cap = v->problems_cap ? 2 * v->problems_cap : 16;
		void *grown = realloc(report->problems,
				      cap * sizeof(*report->problems));
		void *next;

		if (!grown) {
			v->oom = 1;
			return NULL;
		}
		report->problems = grown;
		next = realloc(v->problem_next, cap * sizeof(*v->problem_next));
		if (!next) {
			v->oom = 1;
			return NULL;
		}
		v->problem_next = next;
		v->problems_cap = cap;
	}

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	for (char *p = message; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	}

	problem = &report->problems[report->n_problems];
	memset(problem, 0, sizeof(*problem));
	problem->message = strdup(message);
	if (!problem->message) {
		v->oom = 1;
		return NULL;
	}
	if (object) {
		problem->has_object = 1;
		problem->object = *object;
	}
	problem->event = event;

	v->problem_next[report->n_problems] = NO_NODE;
	if (node != NO_NODE) {
		v->problem_next[report->n_problems] =
			v->nodes[node].first_problem;
		v->nodes[node].first_problem = (uint32_t)report->n_problems;
	}
	report->n_problems++;
	return problem;
}

void verify_sql_problem(struct verify *v, const char *what)
{
	verify_problem(v, NO_NODE, NULL, 0, "%s: %s", what,
		       sqlite3_errmsg(v->bundle->db));
}

static uint32_t get_be(const unsigned char *p, int n)
{
	uint32_t value = 0;

	for (int i = 0; i < n; i++)
		value = value << 8 | p[i];
	return value;
}

/* Nonzero when path has a WAL file that is not empty, beside the file
 * that a symlink names, where SQLite puts it. */
static int has_wal(const char *path)
{
	char *resolved = realpath(path, NULL);
	char wal[4096];
	struct stat st;
	int n = snprintf(wal, sizeof(wal), "%s-wal", resolved ? resolved : path);

	free(resolved);
	if (n < 0 || (size_t)n >= sizeof(wal))
		return 0;
	return stat(wal, &st) == 0 && st.st_size > 0;
}

/*
 * Compare the file size with the page size and page count in the SQLite
 * header. Sets *truncated to a message when the file is shorter than its
 * header records. Only a file without a WAL is checked: a checkpoint writes
 * the header before the pages, so a writer killed during one leaves a
 * short file whose missing pages are still in the WAL.
 */
static int check_size(const char *path, char *truncated, size_t len,
		      bool *wal_mode)
{
	unsigned char header[100];
	struct stat st;
	uint64_t page_size, expected;
	ssize_t n;
	/* O_NONBLOCK, because opening a FIFO for reading would otherwise
	 * wait for a writer forever. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	truncated[0] = '\0';
	*wal_mode = false;
	/* bundle_open then reports the error with its hint. */
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) < 0) {
		bundle_set_error("cannot open bundle: '%s': %s", path,
				 strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		/* bundle_open names what the file is instead. */
		close(fd);
		return 0;
	}
	n = pread(fd, header, sizeof(header), 0);
	close(fd);
	if (n < 16 || memcmp(header, "SQLite format 3", 16) != 0)
		return 0;
	if (n < (ssize_t)sizeof(header)) {
		snprintf(truncated, len,
			 "the file is truncated: %zd bytes, shorter than its "
			 "header",
			 n);
		return 0;
	}

	/* The file format's write and read versions are 2 in WAL mode. */
	*wal_mode = header[18] == 2 && header[19] == 2;
	page_size = get_be(header + 16, 2);
	if (page_size == 1)
		page_size = 65536;
	expected = page_size * get_be(header + 28, 4);
	if ((uint64_t)st.st_size < expected && !has_wal(path))
		snprintf(truncated, len,
			 "the file is truncated: %llu bytes, but its header "
			 "says %llu",
			 (unsigned long long)st.st_size,
			 (unsigned long long)expected);
	return 0;
}

static void integrity_check(struct verify *v)
{
	sqlite3_stmt *stmt = NULL;
	int rc;

	if (sqlite3_prepare_v2(v->bundle->db, "PRAGMA integrity_check(100)", -1,
			       &stmt, NULL) != SQLITE_OK) {
		verify_sql_problem(v, "cannot check the database structure");
		return;
	}
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *line = (const char *)sqlite3_column_text(stmt, 0);

		if (line && strcmp(line, "ok") != 0)
			verify_problem(v, NO_NODE, NULL, 0,
				       "database structure: %s", line);
	}
	if (rc != SQLITE_DONE)
		verify_sql_problem(v, "cannot check the database structure");
	sqlite3_finalize(stmt);
}

static struct vevent *new_event(struct verify *v, uint64_t seq)
{
	struct vevent *event;

	if (v->n_events == v->events_cap) {
		size_t cap = v->events_cap ? 2 * v->events_cap : 64;
		struct vevent *grown =
			realloc(v->events, cap * sizeof(*v->events));

		if (!grown) {
			v->oom = 1;
			return NULL;
		}
		v->events = grown;
		v->events_cap = cap;
	}
	event = &v->events[v->n_events++];
	memset(event, 0, sizeof(*event));
	event->seq = seq;
	event->first_ref = (uint32_t)v->n_event_refs;
	return event;
}

static void event_problem(struct verify *v, struct vevent *event,
			  const struct bundle_id *object, const char *message)
{
	struct bundle_verify_problem *problem;

	event->bad = 1;
	problem = verify_problem(v, NO_NODE, object, event->seq, "%s", message);
	if (!problem)
		return;
	problem->affected =
		calloc(BUNDLE_VERIFY_MAX_AFFECTED, sizeof(*problem->affected));
	if (!problem->affected) {
		v->oom = 1;
		return;
	}
	problem->affected->seq = event->seq;
	memcpy(problem->affected->kind, event->kind, sizeof(event->kind));
	problem->n_affected = 1;
	problem->n_affected_total = 1;
}

/* Copy the event's kind for the problems that name it, or "" when its
 * text has none. */
static void copy_kind(struct vevent *event, const cJSON *doc)
{
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(doc, "kind");

	snprintf(event->kind, sizeof(event->kind), "%s",
		 cJSON_IsString(kind) ? kind->valuestring : "");
	for (char *p = event->kind; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	}
}

/* An object's kind is not part of its id, so a changed kind column
 * passes every hash. Readers load a snapshot's tree from data.root, so
 * it must be the event's first ref and an object of kind tree. */
static void check_snapshot_root(struct verify *v, struct vevent *event,
				const cJSON *doc)
{
	const cJSON *refs = cJSON_GetObjectItemCaseSensitive(doc, "refs");
	const cJSON *first_ref = cJSON_GetArrayItem(refs, 0);
	struct bundle_snapshot snap;
	struct bundle_id ref;
	uint32_t node;

	if (snapshot_parse_event(doc, &snap, NULL, NULL) < 0)
		return;
	if (!cJSON_IsString(first_ref) ||
	    bundle_id_from_hex(&ref, first_ref->valuestring) ||
	    memcmp(ref.bytes, snap.root.bytes, BUNDLE_ID_LEN) != 0) {
		event_problem(v, event, &snap.root,
			      "the snapshot's root is not its first ref");
		return;
	}
	node = verify_find(v, &snap.root);
	if (node != NO_NODE && v->nodes[node].kind != BUNDLE_TREE)
		event_problem(v, event, &snap.root,
			      "the snapshot's root is not an object of kind "
			      "tree");
	else if (node != NO_NODE &&
		 verify_expanded(v, node) > BUNDLE_SNAPSHOT_MAX_ENTRIES) {
		char why[128];

		/* Each reader would fail on it, so it is damage. */
		snprintf(why, sizeof(why), "the snapshot expands to more than "
			 "%d entries, the maximum for one walk",
			 BUNDLE_SNAPSHOT_MAX_ENTRIES);
		event_problem(v, event, &snap.root, why);
	}
}

static void check_refs(struct verify *v, struct vevent *event, const cJSON *doc)
{
	const cJSON *refs = cJSON_GetObjectItemCaseSensitive(doc, "refs");
	const cJSON *ref;

	if (!cJSON_IsArray(refs)) {
		event_problem(v, event, NULL, "its refs are not an array");
		return;
	}
	cJSON_ArrayForEach(ref, refs)
	{
		struct bundle_id id;
		uint32_t node;

		if (!cJSON_IsString(ref) ||
		    bundle_id_from_hex(&id, ref->valuestring)) {
			event_problem(v, event, NULL,
				      "a ref is not a 64-digit hex id");
			continue;
		}
		node = verify_find(v, &id);
		if (node == NO_NODE) {
			event_problem(v, event, &id,
				      "missing, but the event references it");
			continue;
		}
		if (!event->has_tree && v->nodes[node].kind == BUNDLE_TREE) {
			event->has_tree = 1;
			event->tree = id;
		}
		verify_push(v, &v->event_refs, &v->n_event_refs,
			    &v->event_refs_cap, node);
		event->n_refs++;
	}
	check_snapshot_root(v, event, doc);
}

/* Check the parsed document of event seq against its row. */
static void check_document(struct verify *v, struct vevent *event,
			   const cJSON *doc, const struct bundle_id *prev)
{
	const cJSON *seq = cJSON_GetObjectItemCaseSensitive(doc, "seq");
	const cJSON *time = cJSON_GetObjectItemCaseSensitive(doc, "time");
	const cJSON *link = cJSON_GetObjectItemCaseSensitive(doc, "prev");
	struct bundle_id linked;

	if (!cJSON_IsNumber(seq) || seq->valuedouble != (double)event->seq)
		event_problem(v, event, NULL, "its seq does not match its row");
	if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(doc, "kind")) ||
	    !cJSON_IsString(time))
		event_problem(v, event, NULL, "its kind or time is missing");

	if (!prev) {
		if (link)
			event_problem(v, event, NULL,
				      "the first event has a "
				      "prev link");
	} else if (!cJSON_IsString(link) ||
		   bundle_id_from_hex(&linked, link->valuestring) ||
		   memcmp(linked.bytes, prev->bytes, BUNDLE_ID_LEN) != 0) {
		event_problem(v, event, NULL,
			      "its prev does not match the "
			      "hash of the event before: the chain is "
			      "broken");
	}
	if (!v->events_only)
		check_refs(v, event, doc);
}

struct chain {
	struct verify *v;
	struct bundle_id prev; /* the hash of the row before */
	uint64_t expected;     /* the seq the next row should have */
};

/* Check one row; chain->prev becomes its hash, the one the next event
 * must link to. */
static int check_event(const struct bundle_event_row *row, void *arg)
{
	struct chain *c = arg;
	struct verify *v = c->v;
	struct vevent *event = new_event(v, row->seq);
	cJSON *doc;

	if (!event)
		return 1;
	/* The kind comes first, because the problems below name it. */
	doc = cJSON_ParseWithLength(row->text, row->len);
	if (cJSON_IsObject(doc))
		copy_kind(event, doc);
	if (row->seq != c->expected)
		event_problem(v, event, NULL,
			      row->seq > c->expected
				      ? "events before it are missing"
				      : "its seq is out of order");
	if (!row->hash_matches)
		event_problem(v, event, NULL,
			      "its hash does not match its "
			      "text");
	if (!cJSON_IsObject(doc))
		event_problem(v, event, NULL, "its text is not a JSON object");
	else
		check_document(v, event, doc,
			       c->expected > 1 ? &c->prev : NULL);
	cJSON_Delete(doc);
	c->prev = row->hash;
	c->expected = row->seq + 1;
	return v->oom;
}

/*
 * Report a bundle that is not finalized but has a root digest or a
 * finalization time. Finalizing writes both with the state in one
 * transaction, so its state was changed back afterwards, and readers
 * would take it for a run still being written.
 */
static void check_unfinalized(struct verify *v)
{
	static const char *const keys[] = { "root", "finalized" };

	for (size_t i = 0; i < 2; i++) {
		int found = 0;
		char *value = store_get_meta(v->bundle, keys[i], &found);

		free(value);
		if (!found)
			continue;
		verify_problem(v, NO_NODE, NULL, 0,
			       "the bundle is not marked finalized, but it has "
			       "the %s of a finalized one",
			       i == 0 ? "root digest" : "finalization time");
		return;
	}
}

static void check_root(struct verify *v, uint64_t last,
		       const struct bundle_id *head)
{
	struct bundle_verify_report *report = v->report;
	struct bundle_id empty;

	if (!report->finalized) {
		check_unfinalized(v);
		return;
	}
	if (bundle_root(v->bundle, &report->root)) {
		verify_problem(v, NO_NODE, NULL, 0,
			       "the bundle is finalized "
			       "but its root digest is missing or invalid");
		return;
	}
	report->has_root = 1;
	store_sha256("", 0, &empty);
	if (memcmp(report->root.bytes, last ? head->bytes : empty.bytes,
		   BUNDLE_ID_LEN) != 0)
		verify_problem(v, NO_NODE, NULL, last,
			       "the root digest does not match the hash of "
			       "the last event");
}

static void check_events(struct verify *v)
{
	struct chain c = {.v = v, .expected = 1};

	if (bundle_each_event_row(v->bundle, check_event, &c) < 0)
		verify_problem(v, NO_NODE, NULL, 0, "%s", bundle_error());

	v->report->n_events = v->n_events;
	check_root(v, v->n_events ? v->events[v->n_events - 1].seq : 0,
		   &c.prev);
}

/* Compute reach for node and everything below it, without recursion,
 * because a hostile file may nest trees arbitrarily deep. */
static int compute_reach(struct verify *v, uint32_t start, uint32_t *stack,
			 uint32_t *pos)
{
	size_t depth = 0;

	if (v->nodes[start].reach != REACH_UNKNOWN)
		return 0;
	v->nodes[start].reach = REACH_VISITING;
	stack[depth] = start;
	pos[depth++] = 0;
	while (depth > 0) {
		struct vnode *n = &v->nodes[stack[depth - 1]];

		if (pos[depth - 1] < n->n_edges) {
			uint32_t child =
				v->edges[n->first_edge + pos[depth - 1]++];

			if (v->nodes[child].reach == REACH_UNKNOWN) {
				v->nodes[child].reach = REACH_VISITING;
				stack[depth] = child;
				pos[depth++] = 0;
			}
			continue;
		}
		n->reach = n->bad ? REACH_DAMAGE : REACH_INTACT;
		for (uint32_t e = 0; e < n->n_edges; e++) {
			if (v->nodes[v->edges[n->first_edge + e]].reach ==
			    REACH_DAMAGE)
				n->reach = REACH_DAMAGE;
		}
		depth--;
	}
	return 0;
}

static void add_affected(struct verify *v, uint32_t node,
			 const struct vevent *event)
{
	for (uint32_t p = v->nodes[node].first_problem; p != NO_NODE;
	     p = v->problem_next[p]) {
		struct bundle_verify_problem *problem = &v->report->problems[p];
		struct bundle_verify_affected *a;

		problem->n_affected_total++;
		if (problem->n_affected >= BUNDLE_VERIFY_MAX_AFFECTED)
			continue;
		if (!problem->affected) {
			problem->affected = calloc(BUNDLE_VERIFY_MAX_AFFECTED,
						   sizeof(*problem->affected));
			if (!problem->affected) {
				v->oom = 1;
				return;
			}
		}
		a = &problem->affected[problem->n_affected++];
		a->seq = event->seq;
		memcpy(a->kind, event->kind, sizeof(a->kind));
		a->has_tree = event->has_tree;
		a->tree = event->tree;
	}
}

/* Visit the damaged part below one event's references, once per node. */
static void mark_event(struct verify *v, struct vevent *event, uint32_t stamp,
		       uint32_t *stack)
{
	size_t depth = 0;

	for (uint32_t r = 0; r < event->n_refs; r++) {
		uint32_t node = v->event_refs[event->first_ref + r];

		if (v->nodes[node].reach == REACH_DAMAGE &&
		    v->nodes[node].stamp != stamp) {
			v->nodes[node].stamp = stamp;
			stack[depth++] = node;
		}
	}
	while (depth > 0 && !v->oom) {
		struct vnode *n = &v->nodes[stack[--depth]];

		event->bad = 1;
		add_affected(v, (uint32_t)(n - v->nodes), event);
		for (uint32_t e = 0; e < n->n_edges; e++) {
			uint32_t child = v->edges[n->first_edge + e];

			if (v->nodes[child].reach == REACH_DAMAGE &&
			    v->nodes[child].stamp != stamp) {
				v->nodes[child].stamp = stamp;
				stack[depth++] = child;
			}
		}
	}
}

static int find_affected(struct verify *v)
{
	uint32_t *stack = malloc((v->n_nodes + 1) * sizeof(*stack));
	uint32_t *pos = malloc((v->n_nodes + 1) * sizeof(*pos));

	if (!stack || !pos) {
		free(stack);
		free(pos);
		v->oom = 1;
		return -1;
	}
	for (size_t i = 0; i < v->n_nodes; i++)
		compute_reach(v, (uint32_t)i, stack, pos);
	for (size_t i = 0; i < v->n_events && !v->oom; i++)
		mark_event(v, &v->events[i], (uint32_t)i + 1, stack);
	free(stack);
	free(pos);

	for (size_t i = 0; i < v->n_events; i++) {
		if (v->events[i].bad)
			break;
		v->report->verified_events = v->events[i].seq;
	}
	return v->oom ? -1 : 0;
}

static void free_state(struct verify *v)
{
	free(v->nodes);
	free(v->edges);
	free(v->events);
	free(v->event_refs);
	free(v->problem_next);
	free(v->buf);
	bundle_close(v->bundle);
}

/* The events pass alone: no object is read, so the intact prefix is
 * the events before the first damaged one. */
static int events_pass(struct verify *v)
{
	check_events(v);
	for (size_t i = 0; i < v->n_events && !v->events[i].bad; i++)
		v->report->verified_events = v->events[i].seq;
	return v->oom ? -1 : 0;
}

static int run_passes(struct verify *v)
{
	int rc = -1;

	/* One read transaction, so that every pass sees the same snapshot
	 * while a writer appends to the bundle. */
	if (sqlite3_exec(v->bundle->db, "BEGIN", NULL, NULL, NULL) !=
	    SQLITE_OK)
		verify_sql_problem(v, "cannot start reading");
	if (v->events_only) {
		rc = events_pass(v);
		goto out;
	}
	integrity_check(v);
	if (verify_load_index(v) || verify_check_objects(v) ||
	    verify_check_chunked_content(v))
		goto out;
	check_events(v);
	verify_check_snapshot_index(v);
	if (!v->oom)
		rc = find_affected(v);
	if (rc == 0)
		rc = verify_count_unreferenced(v);
out:
	if (!sqlite3_get_autocommit(v->bundle->db))
		sqlite3_exec(v->bundle->db, "COMMIT", NULL, NULL, NULL);
	return rc;
}

static int verify_once(const char *path, int events_only,
		       struct bundle_verify_report *report, int *changed)
{
	struct verify v = {.report = report, .events_only = events_only};
	char truncated[160];
	bool wal_mode;

	memset(report, 0, sizeof(*report));
	if (check_size(path, truncated, sizeof(truncated), &wal_mode))
		return -1;

	v.bundle = bundle_open(path, BUNDLE_READ);
	if (!v.bundle) {
		/* Name the truncation, the likelier cause, over SQLite's
		 * message. */
		if (truncated[0] && wal_mode) {
			/* A checkpoint that a reader held up writes the
			 * header before the pages, which stay in the WAL. */
			bundle_set_error("cannot open bundle: '%s': %s, and "
					 "its -wal file is missing", path,
					 truncated);
			bundle_set_hint("copy '%s-wal' with the bundle from "
					"where it was written", path);
		} else if (truncated[0]) {
			bundle_set_error("cannot open bundle: '%s': %s", path,
					 truncated);
			bundle_set_hint("the copy ends early, as after an "
					"interrupted download or a full disk: "
					"copy the bundle again from where it "
					"was written");
		}
		return -1;
	}
	report->finalized = bundle_is_finalized(v.bundle);
	if (truncated[0])
		verify_problem(&v, NO_NODE, NULL, 0, "%s", truncated);

	if (run_passes(&v)) {
		free_state(&v);
		bundle_verify_release(report);
		bundle_set_error("cannot verify bundle: '%s': %s", path,
				 strerror(ENOMEM));
		return -1;
	}
	*changed = bundle_read_changed(v.bundle);
	free_state(&v);
	return 0;
}

/* Times a bundle is verified again when a writer changed it during the
 * verification, before verify gives up. */
#define VERIFY_ATTEMPTS 5

/*
 * A bundle at rest is read without locks, so a writer that starts to
 * append to it meanwhile rewrites pages under the reader, whose problems
 * are then its own. Such a verification is done again, and the writer
 * is seen from then on: it leaves a -wal, or a changed header.
 */
static int verify_path(const char *path, int events_only,
		       struct bundle_verify_report *report)
{
	for (int attempt = 0; attempt < VERIFY_ATTEMPTS; attempt++) {
		int changed = 0;

		if (verify_once(path, events_only, report, &changed))
			return -1;
		if (!changed)
			return 0;
		bundle_verify_release(report);
	}
	bundle_set_error("cannot verify bundle: '%s': another process wrote "
			 "it while it was read, %d times", path,
			 VERIFY_ATTEMPTS);
	bundle_set_hint("run verify again when the writer has ended");
	return -1;
}

int bundle_verify(const char *path, struct bundle_verify_report *report)
{
	return verify_path(path, 0, report);
}

int bundle_verify_events(const char *path,
			 struct bundle_verify_report *report)
{
	return verify_path(path, 1, report);
}

void bundle_verify_release(struct bundle_verify_report *report)
{
	for (size_t i = 0; i < report->n_problems; i++) {
		free(report->problems[i].message);
		free(report->problems[i].affected);
	}
	free(report->problems);
	memset(report, 0, sizeof(*report));
}
