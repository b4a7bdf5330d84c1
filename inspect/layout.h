/*
 * layout.h - the open layout of a whole bundle: one tar.zst with
 *
 *	manifest.json		what the archive contains (below)
 *	events.jsonl		every event, one a line, byte for byte as
 *				stored, so each line hashes to its event hash
 *	objects/sha256/<id>	every object reachable from the events,
 *				uncompressed; <id> is the SHA-256 of the file
 *
 * for tools that do not read SQLite. docs/bundle-format.md ("Open
 * layout") describes it for readers.
 *
 * manifest.json is {"layout": "runbundle-open-layout 1", "format": 1,
 * "state": "finalized" or "writing", "root": hex or null, "events": N,
 * "objects": [{"id": hex, "kind": "blob"|"chunks"|"tree"|"json",
 * "size": N}, ...]}, with the objects sorted by id.
 *
 * Invariants:
 *  1. Export writes only objects that events reference, directly or
 *     through trees and chunk lists, so chunks left by a failed read of
 *     a changing file are not exported. The root digest covers the
 *     events only, so it is the same.
 *  2. Export checks each event's text against the chain ("prev" of the
 *     next event, the root digest for the last), so a line that would
 *     not hash to its event's hash is never written.
 *  3. Import trusts nothing: each object's content must hash to its
 *     name, each line must hash to the next line's "prev", every ref
 *     must be in the archive, and the resulting bundle is verified with
 *     bundle_verify() before it is kept.
 *
 * Errors: functions return 0, or -1 with the message in inspect_error().
 */
#ifndef INSPECT_LAYOUT_H
#define INSPECT_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "bundle/bundle.h"

#define INSPECT_LAYOUT_NAME "runbundle-open-layout 1"
/* The largest object import loads into memory; larger ones are
 * rejected. File content is stored in pieces of at most 16 MiB (four
 * times the largest average chunk size), so only a JSON document can be
 * larger: an exchange stores a streamed response of up to 256 MiB by
 * default (--max-response-body) in about 1.5 times that. The bound is
 * the store's own for an object loaded whole, so import takes back
 * every object that a reader of the bundle can load. */
#define INSPECT_LAYOUT_MAX_OBJECT ((size_t)BUNDLE_MAX_GET)

struct inspect_layout_stats {
	uint64_t events;
	uint64_t objects;
	uint64_t bytes; /* uncompressed object bytes */
	int finalized;
	int has_root;
	struct bundle_id root;
};

/* Write the bundle at path to out (a new file) as a tar.zst. */
int inspect_layout_export(const char *path, const char *out,
			  struct inspect_layout_stats *stats);

/* Create the bundle out (which must not exist) from the archive at
 * path. On failure, out is removed. */
int inspect_layout_import(const char *path, const char *out,
			  struct inspect_layout_stats *stats);

/* One object of a parsed manifest. */
struct inspect_layout_object {
	struct bundle_id id;
	enum bundle_kind kind;
	uint64_t size;
	int seen; /* set by import when its file was read */
};

struct inspect_layout_manifest {
	int finalized;
	int has_root;
	struct bundle_id root;
	uint64_t events;
	struct inspect_layout_object *objects; /* sorted by id */
	size_t n_objects;
};

/* Parse and check manifest.json (len bytes, not NUL-terminated).
 * Release with inspect_layout_manifest_release(). */
int inspect_layout_manifest_parse(const char *text, size_t len,
				  struct inspect_layout_manifest *m);

void inspect_layout_manifest_release(struct inspect_layout_manifest *m);

/* The object id in m, or NULL. */
struct inspect_layout_object *
inspect_layout_manifest_find(const struct inspect_layout_manifest *m,
			     const struct bundle_id *id);

/*
 * Check events.jsonl against the manifest: one event per line, seq from
 * 1, each "prev" equal to the SHA-256 of the line before, every ref
 * listed in the manifest, the count equal to m->events, and for a
 * finalized manifest the root equal to the hash of the last line. Calls
 * fn (which may be NULL) with each line, its length, and its hash.
 */
int inspect_layout_events_check(const char *text, size_t len,
				const struct inspect_layout_manifest *m,
				int (*fn)(uint64_t seq, const char *line,
					  size_t line_len,
					  const struct bundle_id *hash,
					  void *arg),
				void *arg);

#endif
