/*
 * chain.h - the events table as stored: each event's exact text and
 * its SHA-256, which the next event's "prev" and the root digest must
 * match (docs/bundle-format.md, "Events").
 *
 * The parsed events of a view are not enough, because printing an
 * event again does not always give the bytes that were hashed: the
 * tracer stores some numbers as raw text (1796397779094730), which
 * cJSON prints as 1.79639777909473e+15. The bundle library has no call that returns the stored text,
 * so this file reads the table through its own read-only SQLite
 * connection, opened as bundle_open(BUNDLE_READ) opens one and leaving
 * no file behind.
 *
 * Errors: -1 with the message in inspect_error(). *links belongs to
 * the caller (free()).
 */
#ifndef INSPECT_CHAIN_H
#define INSPECT_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "bundle/bundle.h"

struct inspect_chain_link {
	uint64_t seq;		/* the row's seq */
	struct bundle_id hash;	/* SHA-256 of the row's event text */
	int hash_matches;	/* the row's hash column is that hash */
};

/*
 * Read the first max rows of the events table of the bundle at path in
 * seq order into *links (*n of them, fewer when the table has fewer).
 */
int inspect_chain_read(const char *path, uint64_t max,
		       struct inspect_chain_link **links, size_t *n);

/* One row of the events table. The pointers are valid only during the
 * call that receives the row. */
struct inspect_chain_row {
	uint64_t seq;
	const char *text; /* the stored text, len bytes, not NUL-terminated */
	size_t len;
	const void *hash; /* the hash column, hash_len bytes */
	size_t hash_len;
};

/*
 * Call fn with each of the first max rows of the events table of the
 * bundle at path, in seq order. Stops when fn returns nonzero, and
 * returns -1 then, with fn's message in inspect_error().
 */
int inspect_chain_each(const char *path, uint64_t max,
		       int (*fn)(const struct inspect_chain_row *row,
				 void *arg),
		       void *arg);

#endif
