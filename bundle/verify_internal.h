/*
 * verify_internal.h - the state that the passes of verify share.
 *
 * Objects are indexed by id in one sorted array (nodes). The references
 * of chunk lists and trees are kept as node indices in edges, so the
 * later passes find which events lead to which damage without reading
 * objects again.
 */
#ifndef BUNDLE_VERIFY_INTERNAL_H
#define BUNDLE_VERIFY_INTERNAL_H

#include <stdint.h>

#include "bundle/store.h"
#include "bundle/verify.h"

#define NO_NODE UINT32_MAX

enum reach {
	REACH_UNKNOWN = 0,
	REACH_VISITING,
	REACH_INTACT,
	REACH_DAMAGE, /* damaged itself, or something below it is */
};

struct vnode {
	struct bundle_id id;
	uint64_t size; /* the size column */
	uint32_t first_edge, n_edges;
	uint32_t first_problem; /* index into problem_next, or NO_NODE */
	uint32_t n_entries;	/* a tree's own entries */
	uint32_t first_sub, n_subs; /* a tree's edges to subtrees */
	uint64_t expanded; /* entries below a tree, once expand_state is 2 */
	uint32_t stamp;		/* last visiting event index + 1 */
	uint8_t kind;		/* enum bundle_kind, 0 when unknown */
	uint8_t checked;	/* pass 1 saw its row */
	uint8_t bad;
	uint8_t reach;
	uint8_t referenced; /* reachable from an event's refs */
	uint8_t expand_state; /* 0 unknown, 1 being counted, 2 done */
};

struct vevent {
	uint64_t seq;
	char kind[32];
	int has_tree;
	struct bundle_id tree;
	uint32_t first_ref, n_refs;
	int bad;
};

struct verify {
	struct bundle *bundle;
	struct bundle_verify_report *report;
	struct vnode *nodes;
	size_t n_nodes;
	uint32_t *edges;
	size_t n_edges, edges_cap;
	struct vevent *events;
	size_t n_events, events_cap;
	uint32_t *event_refs;
	size_t n_event_refs, event_refs_cap;
	uint32_t *problem_next; /* per problem: the next one on its node */
	size_t problems_cap;
	unsigned char *buf; /* streaming decompression output */
	int events_only;    /* bundle_verify_events: no object is read */
	int oom;
};

/* Record a problem, attached to node (NO_NODE for none) so that the
 * events leading to that node are listed. object and event may be NULL
 * and 0. Returns the problem, or NULL when out of memory. */
struct bundle_verify_problem *
verify_problem(struct verify *v, uint32_t node, const struct bundle_id *object,
	       uint64_t event, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Record a failed SQLite step as a problem of the file. */
void verify_sql_problem(struct verify *v, const char *what);

/* The node with that id, or NO_NODE. */
uint32_t verify_find(const struct verify *v, const struct bundle_id *id);

/* Append a node index to a growing array. */
int verify_push(struct verify *v, uint32_t **array, size_t *n, size_t *cap,
		uint32_t value);

/* Pass 0 and 1: index every object row, then check each one. */
int verify_load_index(struct verify *v);
int verify_check_objects(struct verify *v);
/* Count the objects that no event reaches, into the report. */
int verify_count_unreferenced(struct verify *v);

/* The entries that a walk of tree node reaches, up to one more than
 * BUNDLE_SNAPSHOT_MAX_ENTRIES, each tree counted once. */
uint64_t verify_expanded(struct verify *v, uint32_t node);

/* Check that the snapshot_index table agrees with the events. */
void verify_check_snapshot_index(struct verify *v);

/* Re-hash the content behind every intact chunk list. */
int verify_check_chunked_content(struct verify *v);

#endif
