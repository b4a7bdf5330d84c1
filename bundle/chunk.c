/*
 * chunk.c - streaming file content into the store: FastCDC chunking,
 * chunk lists, and writing content back out in bounded memory.
 *
 * Memory: bundle_put_fd keeps two maximum-size chunks of content, one
 * compression buffer, and 40 bytes per chunk for the list it builds
 * (about 160 KiB per GiB of content at the default sizes).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "bundle/chunk.h"
#include "bundle/store.h"

/*
 * The gear table: 256 pseudo-random 64-bit values from splitmix64 seeded
 * with the constant below. Changing the seed moves every cut point, so
 * bundles written before would share no chunks with bundles written
 * after. It never changes what a bundle means.
 */
#define GEAR_SEED 0x72756e62756e646cULL /* "runbundl" */

static uint64_t gear[256];
static int gear_ready;

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void gear_init(void)
{
	uint64_t state = GEAR_SEED;

	if (gear_ready)
		return;
	for (int i = 0; i < 256; i++)
		gear[i] = splitmix64(&state);
	gear_ready = 1;
}

/* A mask of the n most significant bits: with the hash shifted left by
 * one per byte, those bits depend on the last 64 bytes, the low bits
 * only on the last few. */
static uint64_t high_bits(int n)
{
	return n <= 0 ? 0 : ~0ULL << (64 - n);
}

int chunker_init(struct chunker *chunker, size_t avg)
{
	int bits = 0;

	if (avg < CHUNK_MIN_AVG || avg > CHUNK_MAX_AVG || (avg & (avg - 1)))
		return -1;
	while (((size_t)1 << bits) < avg)
		bits++;

	gear_init();
	chunker->avg = avg;
	chunker->min = avg / 4;
	chunker->max = avg * 4;
	/* Normalization level 2, as in the FastCDC paper. */
	chunker->mask_strict = high_bits(bits + 2);
	chunker->mask_loose = high_bits(bits - 2);
	return 0;
}

size_t chunker_cut(const struct chunker *chunker, const unsigned char *data,
		   size_t n)
{
	uint64_t hash = 0;
	size_t normal = chunker->avg;
	size_t i;

	if (n <= chunker->min)
		return n;
	if (n > chunker->max)
		n = chunker->max;
	if (normal > n)
		normal = n;

	for (i = chunker->min; i < normal; i++) {
		hash = (hash << 1) + gear[data[i]];
		if (!(hash & chunker->mask_strict))
			return i + 1;
	}
	for (; i < n; i++) {
		hash = (hash << 1) + gear[data[i]];
		if (!(hash & chunker->mask_loose))
			return i + 1;
	}
	return n;
}

static void put_be64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (unsigned char)v;
		v >>= 8;
	}
}

static uint64_t get_be64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

int chunk_list_parse(const void *data, size_t len, struct chunk_list *list)
{
	const unsigned char *p = data;
	uint64_t total = 0;

	if (len < CHUNK_HEADER_LEN || memcmp(p, CHUNK_MAGIC, 8) != 0) {
		bundle_set_error("invalid chunk list: '%zu bytes': no "
				 "RBCHUNK1 header",
				 len);
		return -1;
	}
	if ((len - CHUNK_HEADER_LEN) % CHUNK_RECORD_LEN != 0) {
		bundle_set_error("invalid chunk list: '%zu bytes': not a whole "
				 "number of records",
				 len);
		return -1;
	}
	list->size = get_be64(p + 8);
	memcpy(list->content.bytes, p + 16, BUNDLE_ID_LEN);
	list->n_chunks = (len - CHUNK_HEADER_LEN) / CHUNK_RECORD_LEN;
	list->records = p + CHUNK_HEADER_LEN;

	for (size_t i = 0; i < list->n_chunks; i++) {
		uint64_t size =
			get_be64(list->records + i * CHUNK_RECORD_LEN + 32);

		if (size == 0 || size > UINT64_MAX - total) {
			bundle_set_error("invalid chunk list: 'chunk %zu': "
					 "invalid size %llu",
					 i, (unsigned long long)size);
			return -1;
		}
		total += size;
	}
	if (total != list->size) {
		bundle_set_error("invalid chunk list: '%llu bytes': its chunks "
				 "add up to %llu",
				 (unsigned long long)list->size,
				 (unsigned long long)total);
		return -1;
	}
	return 0;
}

void chunk_list_get(const struct chunk_list *list, size_t i,
		    struct bundle_id *id, uint64_t *size)
{
	const unsigned char *record = list->records + i * CHUNK_RECORD_LEN;

	memcpy(id->bytes, record, BUNDLE_ID_LEN);
	*size = get_be64(record + 32);
}

/* The state of one bundle_put_fd call. */
struct put_fd {
	int fd;
	struct chunker chunker;
	unsigned char *buf; /* 2 * max bytes */
	size_t have, pos;
	int eof;
	int read_errno; /* errno of a failed read(2), or 0 */
	uint64_t size;
	uint64_t expected; /* stop reading at this size; UINT64_MAX: EOF */
	EVP_MD_CTX *sha;
	unsigned char *list; /* the chunk list being built */
	size_t list_len, list_cap;
	struct bundle_id ref, content;
};

/* Fill the buffer up to its capacity, EOF, or the expected size. */
static int fill(struct bundle *bundle, struct put_fd *put)
{
	size_t cap = 2 * put->chunker.max;

	while (!put->eof && put->have < cap) {
		ssize_t n =
			read(put->fd, put->buf + put->have, cap - put->have);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			put->read_errno = errno ? errno : EIO;
			bundle_set_error("cannot read file for bundle: '%s': "
					 "%s",
					 bundle->path, strerror(errno));
			return -1;
		}
		if (n == 0) {
			put->eof = 1;
			break;
		}
		put->have += (size_t)n;
		put->size += (uint64_t)n;
		if (put->size >= put->expected) {
			put->eof = 1;
			break;
		}
	}
	return 0;
}

static int append_record(struct bundle *bundle, struct put_fd *put,
			 const struct bundle_id *id, size_t size)
{
	if (put->list_len + CHUNK_RECORD_LEN > put->list_cap) {
		size_t cap = put->list_cap ? 2 * put->list_cap : 4096;
		unsigned char *list = realloc(put->list, cap);

		if (!list) {
			bundle_set_error("cannot store file: '%s': %s",
					 bundle->path, strerror(ENOMEM));
			return -1;
		}
		put->list = list;
		put->list_cap = cap;
	}
	memcpy(put->list + put->list_len, id->bytes, BUNDLE_ID_LEN);
	put_be64(put->list + put->list_len + 32, size);
	put->list_len += CHUNK_RECORD_LEN;
	return 0;
}

/* Store the chunks in the buffer, keeping back a tail shorter than the
 * maximum until EOF, because its cut point depends on bytes not read. */
static int store_chunks(struct bundle *bundle, struct put_fd *put)
{
	while (put->have - put->pos >= put->chunker.max ||
	       (put->eof && put->have > put->pos)) {
		size_t cut = chunker_cut(&put->chunker, put->buf + put->pos,
					 put->have - put->pos);
		struct bundle_id id;

		/* The content hash covers each chunk once, in order. A single
		 * blob needs none: its id is the content's hash. */
		EVP_DigestUpdate(put->sha, put->buf + put->pos, cut);
		if (bundle_put(bundle, BUNDLE_BLOB, put->buf + put->pos, cut,
			       &id) ||
		    append_record(bundle, put, &id, cut))
			return -1;
		put->pos += cut;
	}
	memmove(put->buf, put->buf + put->pos, put->have - put->pos);
	put->have -= put->pos;
	put->pos = 0;
	return 0;
}

static int put_chunked(struct bundle *bundle, struct put_fd *put)
{
	unsigned char header[CHUNK_HEADER_LEN];
	unsigned int out_len = BUNDLE_ID_LEN;

	/* Room for the header, written once the content is hashed. */
	if (append_record(bundle, put, &put->ref, 0))
		return -1;
	put->list_len = CHUNK_HEADER_LEN;

	for (;;) {
		if (store_chunks(bundle, put))
			return -1;
		if (put->eof)
			break;
		if (fill(bundle, put))
			return -1;
	}

	EVP_DigestFinal_ex(put->sha, put->content.bytes, &out_len);
	memcpy(header, CHUNK_MAGIC, 8);
	put_be64(header + 8, put->size);
	memcpy(header + 16, put->content.bytes, BUNDLE_ID_LEN);
	memcpy(put->list, header, CHUNK_HEADER_LEN);
	return bundle_put(bundle, BUNDLE_CHUNKS, put->list, put->list_len,
			  &put->ref);
}

static int put_fd_body(struct bundle *bundle, void *arg)
{
	struct put_fd *put = arg;

	if (fill(bundle, put))
		return -1;

	/* Content up to one maximum chunk is a single blob. */
	if (put->eof && put->have <= put->chunker.max) {
		if (bundle_put(bundle, BUNDLE_BLOB, put->buf, put->have,
			       &put->ref))
			return -1;
		put->content = put->ref;
		return 0;
	}
	return put_chunked(bundle, put);
}

int bundle_put_fd(struct bundle *bundle, int fd, struct bundle_id *ref,
		  struct bundle_id *content, uint64_t *size)
{
	return bundle_put_fd_errno(bundle, fd, ref, content, size, NULL);
}

int bundle_put_fd_errno(struct bundle *bundle, int fd, struct bundle_id *ref,
			struct bundle_id *content, uint64_t *size,
			int *read_errno)
{
	return store_put_fd_expected(bundle, fd, UINT64_MAX, ref, content,
				     size, read_errno);
}

int store_put_fd_expected(struct bundle *bundle, int fd, uint64_t expected,
			  struct bundle_id *ref, struct bundle_id *content,
			  uint64_t *size, int *read_errno)
{
	struct put_fd put = {.fd = fd, .expected = expected};
	int rc = -1;

	if (read_errno)
		*read_errno = 0;
	if (store_check_writable(bundle))
		return -1;
	if (chunker_init(&put.chunker, bundle->chunk_avg)) {
		bundle_set_error("cannot store file: '%zu': invalid average "
				 "chunk size",
				 bundle->chunk_avg);
		return -1;
	}
	put.buf = malloc(2 * put.chunker.max);
	put.sha = EVP_MD_CTX_new();
	if (!put.buf || !put.sha ||
	    !EVP_DigestInit_ex(put.sha, store_sha256_md(), NULL)) {
		bundle_set_error("cannot store file: '%s': %s", bundle->path,
				 strerror(ENOMEM));
		goto out;
	}

	/* The chunks and their list commit together, so a killed writer
	 * leaves no half-stored file behind a reference. */
	rc = store_in_transaction(bundle, put_fd_body, &put);
	if (rc < 0 && read_errno)
		*read_errno = put.read_errno;
	if (rc == 0) {
		*ref = put.ref;
		if (content)
			*content = put.content;
		if (size)
			*size = put.size;
	}
out:
	free(put.buf);
	free(put.list);
	EVP_MD_CTX_free(put.sha);
	return rc;
}

static int write_all(struct bundle *bundle, int fd, const void *data,
		     size_t len)
{
	const unsigned char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			bundle_set_error("cannot write content from bundle: "
					 "'%s': %s",
					 bundle->path, strerror(errno));
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_chunk(struct bundle *bundle, const struct chunk_list *list,
		       size_t i, int fd, EVP_MD_CTX *sha)
{
	struct bundle_id id;
	uint64_t expected;
	void *data;
	size_t len;
	int rc;

	chunk_list_get(list, i, &id, &expected);
	rc = bundle_get_max(bundle, &id, expected, &data, &len);
	if (rc == -1)
		return -1;
	if (rc == -2 || len != expected) {
		char hex[BUNDLE_ID_HEX_LEN + 1];

		bundle_id_to_hex(&id, hex);
		bundle_set_error("cannot read chunk: '%s': %zu bytes, its "
				 "chunk list says %llu",
				 hex, len, (unsigned long long)expected);
		if (rc == 0)
			free(data);
		return -1;
	}
	EVP_DigestUpdate(sha, data, len);
	rc = write_all(bundle, fd, data, len);
	free(data);
	return rc;
}

static int write_chunked(struct bundle *bundle, const struct bundle_id *ref,
			 const void *data, size_t len, int fd)
{
	struct chunk_list list;
	struct bundle_id content;
	unsigned int out_len = BUNDLE_ID_LEN;
	EVP_MD_CTX *sha;
	int rc = -1;

	if (chunk_list_parse(data, len, &list)) {
		char hex[BUNDLE_ID_HEX_LEN + 1];

		bundle_id_to_hex(ref, hex);
		bundle_set_error("cannot read chunk list: '%s': %s", hex,
				 "malformed");
		return -1;
	}
	sha = EVP_MD_CTX_new();
	if (!sha || !EVP_DigestInit_ex(sha, store_sha256_md(), NULL)) {
		bundle_set_error("cannot read content: '%s': %s", bundle->path,
				 strerror(ENOMEM));
		goto out;
	}
	for (size_t i = 0; i < list.n_chunks; i++) {
		if (write_chunk(bundle, &list, i, fd, sha))
			goto out;
	}
	EVP_DigestFinal_ex(sha, content.bytes, &out_len);
	if (memcmp(content.bytes, list.content.bytes, BUNDLE_ID_LEN) != 0) {
		char hex[BUNDLE_ID_HEX_LEN + 1];

		bundle_id_to_hex(ref, hex);
		bundle_set_error("cannot read chunk list: '%s': the content "
				 "does not match its hash",
				 hex);
		goto out;
	}
	rc = 0;
out:
	EVP_MD_CTX_free(sha);
	return rc;
}

int bundle_write_content(struct bundle *bundle, const struct bundle_id *ref,
			 int fd)
{
	enum bundle_kind kind;
	void *data;
	size_t len;
	int rc;

	if (bundle_get(bundle, ref, &data, &len, &kind))
		return -1;

	if (kind == BUNDLE_CHUNKS)
		rc = write_chunked(bundle, ref, data, len, fd);
	else
		rc = write_all(bundle, fd, data, len);
	free(data);
	return rc;
}
