/*
 * chunk.h - content-defined chunking and the chunk list format, shared
 * by the writer (chunk.c) and verify. Not a public interface.
 *
 * The chunker is FastCDC with normalized chunking (Xia et al., "FastCDC:
 * a Fast and Efficient Content-Defined Chunking Approach for Data
 * Deduplication", USENIX ATC 2016). A gear hash runs over the bytes after
 * the minimum size. A stricter mask applies before the average size and
 * a looser one after it, and the maximum size forces a cut.
 *
 * A chunk list (kind "chunks") is, with integers big-endian:
 *
 *	8 bytes   magic "RBCHUNK1"
 *	8 bytes   total content size
 *	32 bytes  SHA-256 of the whole content
 *	then one 40-byte record per chunk, in order:
 *	32 bytes  chunk id (an object of kind "blob")
 *	8 bytes   chunk size
 */
#ifndef BUNDLE_CHUNK_H
#define BUNDLE_CHUNK_H

#include <stddef.h>
#include <stdint.h>

#include "bundle/bundle.h"

#define CHUNK_MAGIC	 "RBCHUNK1"
#define CHUNK_HEADER_LEN 48
#define CHUNK_RECORD_LEN 40

/* The measured default average chunk size; docs/benchmarks.md. */
#define CHUNK_DEFAULT_AVG (256 * 1024)
#define CHUNK_MIN_AVG	  (4 * 1024)
#define CHUNK_MAX_AVG	  (4 * 1024 * 1024)

struct chunker {
	size_t min, avg, max;
	uint64_t mask_strict, mask_loose;
};

/* Set up a chunker for an average size (a power of two within the limits
 * above): minimum avg / 4, maximum avg * 4. Returns -1 otherwise. */
int chunker_init(struct chunker *chunker, size_t avg);

/* The length of the next chunk at the start of data (n bytes). n must be
 * the whole rest of the content or at least chunker->max bytes. */
size_t chunker_cut(const struct chunker *chunker, const unsigned char *data,
		   size_t n);

/* A parsed chunk list; records point into the object's bytes. */
struct chunk_list {
	uint64_t size;
	struct bundle_id content;
	size_t n_chunks;
	const unsigned char *records;
};

/* Parse and check the framing of a chunk list: the magic, whole
 * records, and chunk sizes that add up to the total. Returns -1 with
 * bundle_error() set on a malformed list. */
int chunk_list_parse(const void *data, size_t len, struct chunk_list *list);

/* Chunk i of a parsed list. */
void chunk_list_get(const struct chunk_list *list, size_t i,
		    struct bundle_id *id, uint64_t *size);

#endif
