/*
 * verify.h - check a whole bundle: every object, every reference, the
 * event chain and the root digest.
 *
 * bundle_verify() reads the file. It writes only to roll back a hot
 * journal that a killed writer left, as bundle_open does. It decompresses
 * and re-hashes every object, and parses every chunk list and tree to
 * look up what they reference. It re-hashes the content behind every
 * chunk list and checks each event's hash, sequence number, "prev" link
 * and references. Last, it compares the root digest of a finalized
 * bundle with the hash of its last event. It runs SQLite's
 * integrity_check for damage to the file's own structure, and compares
 * the file size with its header.
 *
 * Memory: about 64 bytes per object and 4 bytes per reference held in
 * chunk lists, trees and events, plus one object at a time.
 *
 * Errors: bundle_verify returns -1 with bundle_error() set only when the
 * file cannot be opened as a bundle at all. Damage that it finds is
 * returned as problems in the report, and it returns 0.
 */
#ifndef BUNDLE_VERIFY_H
#define BUNDLE_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "bundle/bundle.h"

/* The most affected events recorded per problem; the count goes on. */
#define BUNDLE_VERIFY_MAX_AFFECTED 32

/* An event whose references lead to a damaged or missing object. */
struct bundle_verify_affected {
	uint64_t seq;
	char kind[32];	       /* the event's kind, control characters
				* replaced by '?'; "" when its text has
				* none */
	int has_tree;	       /* the event references a tree directly,
				* so it records a snapshot */
	struct bundle_id tree; /* that snapshot's root tree */
};

struct bundle_verify_problem {
	char *message; /* "content does not match its id" */
	int has_object;
	struct bundle_id object; /* the damaged or missing object */
	uint64_t event;		 /* the damaged event, or 0 */
	struct bundle_verify_affected *affected;
	size_t n_affected; /* at most BUNDLE_VERIFY_MAX_AFFECTED */
	uint64_t n_affected_total;
};

struct bundle_verify_report {
	int finalized;
	int has_root;
	struct bundle_id root; /* the stored root digest */
	uint64_t n_objects;
	uint64_t n_events;
	uint64_t verified_events; /* events 1 to this one are intact and
				   * reference only intact objects */
	struct bundle_verify_problem *problems;
	size_t n_problems;
	/* Objects that no event references, directly or through trees and
	 * chunk lists: the chunks of a file that failed or changed while it
	 * was read, or of a writer killed mid-transaction. They are intact
	 * and harmless, so they are not problems, only wasted space. */
	uint64_t n_unreferenced;
};

/* Verify the bundle at path into *report, which the caller releases
 * with bundle_verify_release() whenever this returns 0. */
int bundle_verify(const char *path, struct bundle_verify_report *report);

/*
 * The quick check: the file size against its header, then each event's
 * hash, seq and prev link and the root digest, as bundle_verify checks
 * them, without reading any object or SQLite's whole structure. It
 * costs a read of the events table. n_objects stays 0, and
 * verified_events counts the events before the first damaged one.
 * Same report, release and errors as bundle_verify.
 */
int bundle_verify_events(const char *path,
			 struct bundle_verify_report *report);

/* Free what the report owns and zero it. Accepts a zeroed report. */
void bundle_verify_release(struct bundle_verify_report *report);

#endif
