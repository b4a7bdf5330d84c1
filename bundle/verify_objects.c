/*
 * verify_objects.c - the object passes of verify: index every row, then
 * decompress and re-hash each object and check the references of chunk
 * lists and trees.
 *
 * Every value read from the file is treated as hostile, so lengths are
 * checked before use. Objects of opaque kinds are hashed in a streaming
 * pass through a fixed buffer. Only chunk lists and trees, which must be
 * parsed, are decompressed whole (up to BUNDLE_MAX_GET bytes).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "bundle/chunk.h"
#include "bundle/tree_count.h"
#include "bundle/tree.h"
#include "bundle/verify_internal.h"

#define STREAM_BUF (128 * 1024)

static int compare_nodes(const void *a, const void *b)
{
	return memcmp(((const struct vnode *)a)->id.bytes,
		      ((const struct vnode *)b)->id.bytes, BUNDLE_ID_LEN);
}

uint32_t verify_find(const struct verify *v, const struct bundle_id *id)
{
	struct vnode key;
	const struct vnode *found;

	if (!v->n_nodes)
		return NO_NODE;
	memcpy(key.id.bytes, id->bytes, BUNDLE_ID_LEN);
	found = bsearch(&key, v->nodes, v->n_nodes, sizeof(*v->nodes),
			compare_nodes);
	return found ? (uint32_t)(found - v->nodes) : NO_NODE;
}

int verify_push(struct verify *v, uint32_t **array, size_t *n, size_t *cap,
		uint32_t value)
{
	if (*n == *cap) {
		size_t new_cap = *cap ? 2 * *cap : 256;
		uint32_t *grown = realloc(*array, new_cap * sizeof(**array));

		if (!grown) {
			v->oom = 1;
			return -1;
		}
		*array = grown;
		*cap = new_cap;
	}
	(*array)[(*n)++] = value;
	return 0;
}

static int add_node(struct verify *v, size_t *cap, sqlite3_stmt *stmt)
{
	struct vnode *node;
	enum bundle_kind kind;

	if (v->n_nodes == *cap) {
		size_t new_cap = *cap ? 2 * *cap : 1024;
		struct vnode *grown = NULL;

		/* Node indices are 32-bit, with NO_NODE reserved. */
		if (new_cap < NO_NODE)
			grown = realloc(v->nodes, new_cap * sizeof(*v->nodes));
		if (!grown) {
			v->oom = 1;
			return -1;
		}
		v->nodes = grown;
		*cap = new_cap;
	}
	node = &v->nodes[v->n_nodes++];
	memset(node, 0, sizeof(*node));
	memcpy(node->id.bytes, sqlite3_column_blob(stmt, 1), BUNDLE_ID_LEN);
	node->size = (uint64_t)sqlite3_column_int64(stmt, 3);
	node->first_problem = NO_NODE;
	if (store_kind_from_name((const char *)sqlite3_column_text(stmt, 2),
				 &kind) == 0)
		node->kind = (uint8_t)kind;
	return 0;
}

static void drop_duplicates(struct verify *v)
{
	size_t out = 0;

	for (size_t i = 0; i < v->n_nodes; i++) {
		if (out > 0 &&
		    memcmp(v->nodes[out - 1].id.bytes, v->nodes[i].id.bytes,
			   BUNDLE_ID_LEN) == 0) {
			verify_problem(v, NO_NODE, &v->nodes[i].id, 0,
				       "stored more than once");
			continue;
		}
		v->nodes[out++] = v->nodes[i];
	}
	v->n_nodes = out;
}

int verify_load_index(struct verify *v)
{
	sqlite3_stmt *stmt = NULL;
	size_t cap = 0;
	int rc;

	if (sqlite3_prepare_v2(v->bundle->db,
			       "SELECT rowid, id, kind, size FROM objects", -1,
			       &stmt, NULL) != SQLITE_OK) {
		verify_sql_problem(v, "cannot list objects");
		return 0;
	}
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		int id_len = sqlite3_column_bytes(stmt, 1);

		if (sqlite3_column_type(stmt, 1) != SQLITE_BLOB ||
		    id_len != BUNDLE_ID_LEN) {
			verify_problem(v, NO_NODE, NULL, 0,
				       "object row %lld: its id is %d bytes, "
				       "not %d",
				       sqlite3_column_int64(stmt, 0), id_len,
				       BUNDLE_ID_LEN);
			continue;
		}
		if (add_node(v, &cap, stmt))
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		verify_sql_problem(v, "cannot list objects");
	sqlite3_finalize(stmt);
	if (v->oom)
		return -1;

	if (v->n_nodes)
		qsort(v->nodes, v->n_nodes, sizeof(*v->nodes), compare_nodes);
	drop_duplicates(v);
	v->report->n_objects = v->n_nodes;
	return v->oom ? -1 : 0;
}

/* A row as pass 1 reads it. */
struct row {
	uint32_t node;
	const char *encoding;
	const unsigned char *data;
	size_t len;
	void *full; /* the whole content, for chunks and trees */
	size_t full_len;
	const ZSTD_DDict *ddict; /* its dictionary, or NULL */
};

static int bad(struct verify *v, struct row *row, const char *message)
{
	v->nodes[row->node].bad = 1;
	verify_problem(v, row->node, &v->nodes[row->node].id, 0, "%s", message);
	return -1;
}

/* Decompress a zstd row through the fixed buffer, hashing as it goes. */
static int stream_zstd(struct verify *v, struct row *row, EVP_MD_CTX *sha,
		       uint64_t *out_len)
{
	ZSTD_inBuffer in = {row->data, row->len, 0};
	size_t ret = 1;

	ZSTD_DCtx_reset(v->bundle->dctx, ZSTD_reset_session_only);
	ZSTD_DCtx_refDDict(v->bundle->dctx, row->ddict);
	while (in.pos < in.size) {
		ZSTD_outBuffer out = {v->buf, STREAM_BUF, 0};

		ret = ZSTD_decompressStream(v->bundle->dctx, &out, &in);
		if (ZSTD_isError(ret))
			return bad(v, row, "invalid zstd data");
		EVP_DigestUpdate(sha, v->buf, out.pos);
		*out_len += out.pos;
		if (*out_len > v->nodes[row->node].size)
			return bad(v, row,
				   "decompresses to more bytes than "
				   "its size column");
		if (out.pos == 0 && in.pos == in.size)
			break;
	}
	/* Flush what the decoder still buffers once all input is read. */
	while (ret != 0) {
		ZSTD_outBuffer out = {v->buf, STREAM_BUF, 0};

		ret = ZSTD_decompressStream(v->bundle->dctx, &out, &in);
		if (ZSTD_isError(ret))
			return bad(v, row, "invalid zstd data");
		if (out.pos == 0 && ret != 0)
			return bad(v, row, "truncated zstd data");
		EVP_DigestUpdate(sha, v->buf, out.pos);
		*out_len += out.pos;
		if (*out_len > v->nodes[row->node].size)
			return bad(v, row,
				   "decompresses to more bytes than "
				   "its size column");
	}
	return 0;
}

static int decompress_whole(struct verify *v, struct row *row)
{
	uint64_t size = v->nodes[row->node].size;
	size_t n;

	if (size > BUNDLE_MAX_GET)
		return bad(v, row, "too large to check");
	row->full = malloc((size_t)size + 1);
	if (!row->full) {
		v->oom = 1;
		return -1;
	}
	row->full_len = (size_t)size;
	if (strcmp(row->encoding, "raw") == 0) {
		if (row->len != size)
			return bad(v, row,
				   "its length does not match its "
				   "size column");
		if (row->len)
			memcpy(row->full, row->data, row->len);
		return 0;
	}
	n = ZSTD_decompress_usingDDict(v->bundle->dctx, row->full,
				       (size_t)size, row->data, row->len,
				       row->ddict);
	if (ZSTD_isError(n))
		return bad(v, row, "invalid zstd data");
	if (n != size)
		return bad(v, row,
			   "decompresses to a length other than its "
			   "size column");
	return 0;
}

static int check_hash(struct verify *v, struct row *row)
{
	struct vnode *node = &v->nodes[row->node];
	int structural =
		node->kind == BUNDLE_CHUNKS || node->kind == BUNDLE_TREE;
	struct bundle_id id;
	unsigned int id_len = BUNDLE_ID_LEN;
	uint64_t out_len = 0;
	EVP_MD_CTX *sha;
	int rc = 0;

	if (structural) {
		if (decompress_whole(v, row))
			return -1;
		store_sha256(row->full, row->full_len, &id);
	} else {
		sha = EVP_MD_CTX_new();
		if (!sha || !EVP_DigestInit_ex(sha, store_sha256_md(), NULL)) {
			EVP_MD_CTX_free(sha);
			v->oom = 1;
			return -1;
		}
		if (strcmp(row->encoding, "raw") == 0) {
			EVP_DigestUpdate(sha, row->data, row->len);
			out_len = row->len;
		} else {
			rc = stream_zstd(v, row, sha, &out_len);
			/* The next row sets its own dictionary. */
			ZSTD_DCtx_refDDict(v->bundle->dctx, NULL);
		}
		EVP_DigestFinal_ex(sha, id.bytes, &id_len);
		EVP_MD_CTX_free(sha);
		if (rc)
			return -1;
		if (out_len != node->size)
			return bad(v, row,
				   "its length does not match its "
				   "size column");
	}
	if (memcmp(id.bytes, node->id.bytes, BUNDLE_ID_LEN) != 0)
		return bad(v, row, "content does not match its id");
	return 0;
}

static void add_edge(struct verify *v, uint32_t parent, uint32_t child)
{
	verify_push(v, &v->edges, &v->n_edges, &v->edges_cap, child);
	v->nodes[parent].n_edges++;
}

static void check_chunk_list(struct verify *v, struct row *row)
{
	struct chunk_list list;
	char hex[BUNDLE_ID_HEX_LEN + 1];

	if (chunk_list_parse(row->full, row->full_len, &list)) {
		bad(v, row, bundle_error());
		return;
	}
	bundle_id_to_hex(&v->nodes[row->node].id, hex);
	for (size_t i = 0; i < list.n_chunks; i++) {
		struct bundle_id id;
		uint64_t size;
		uint32_t child;

		chunk_list_get(&list, i, &id, &size);
		child = verify_find(v, &id);
		if (child == NO_NODE) {
			v->nodes[row->node].bad = 1;
			verify_problem(v, row->node, &id, 0,
				       "missing, but chunk list %s "
				       "references it",
				       hex);
			continue;
		}
		if (v->nodes[child].size != size) {
			v->nodes[row->node].bad = 1;
			verify_problem(v, row->node, &v->nodes[row->node].id, 0,
				       "chunk %zu is %llu bytes, but the "
				       "list says %llu",
				       i,
				       (unsigned long long)v->nodes[child].size,
				       (unsigned long long)size);
		}
		add_edge(v, row->node, child);
	}
}

struct tree_walk {
	struct verify *v;
	struct row *row;
};

static int check_tree_ref(const struct bundle_id *ref, enum bundle_kind kind,
			  void *arg)
{
	struct tree_walk *walk = arg;
	struct verify *v = walk->v;
	uint32_t parent = walk->row->node;
	char hex[BUNDLE_ID_HEX_LEN + 1];
	uint32_t child = verify_find(v, ref);

	bundle_id_to_hex(&v->nodes[parent].id, hex);
	if (child == NO_NODE) {
		v->nodes[parent].bad = 1;
		verify_problem(v, parent, ref, 0,
			       "missing, but tree %s references it", hex);
		return v->oom ? -1 : 0;
	}
	/* Any object is valid as blob content; trees and chunk lists must
	 * be what the tree records, because they are followed. */
	if ((kind == BUNDLE_TREE || kind == BUNDLE_CHUNKS) &&
	    v->nodes[child].kind != kind) {
		v->nodes[parent].bad = 1;
		verify_problem(v, parent, ref, 0,
			       "tree %s references it as %s, but it is %s", hex,
			       store_kind_name(kind),
			       v->nodes[child].kind
				       ? store_kind_name(v->nodes[child].kind)
				       : "of unknown kind");
	}
	add_edge(v, parent, child);
	return v->oom ? -1 : 0;
}

/* Find the size of a file entry's content: the blob's size, or the
 * total that its chunk list records. Returns -1 when the object is
 * missing or damaged, which is reported on its own. */
static int content_size(struct verify *v, const struct bundle_tree_entry *e,
			uint64_t *size)
{
	uint32_t child = verify_find(v, &e->ref);
	struct chunk_list list;
	void *data;
	size_t len;
	int rc;

	if (child == NO_NODE)
		return -1;
	if (e->ref_kind != BUNDLE_CHUNKS) {
		*size = v->nodes[child].size;
		return 0;
	}
	if (v->nodes[child].kind != BUNDLE_CHUNKS ||
	    bundle_get(v->bundle, &e->ref, &data, &len, NULL) < 0)
		return -1;
	rc = chunk_list_parse(data, len, &list);
	if (rc == 0)
		*size = list.size;
	free(data);
	return rc;
}

/* Check that a file entry's size, or the length of its data extents
 * when sparse, is its content's size, because checkout fails if not. */
static void check_file_size(struct verify *v, struct row *row,
			    const struct bundle_tree_entry *e)
{
	char name[1024], hex[BUNDLE_ID_HEX_LEN + 1];
	uint64_t expected = e->size, actual = 0;

	if (e->sparse) {
		expected = 0;
		for (uint32_t i = 0; i < e->n_extents; i++)
			expected += e->extents[i].length;
	}
	if (content_size(v, e, &actual) < 0 || actual == expected)
		return;
	bundle_name_escape(name, sizeof(name), e->name, e->name_len);
	bundle_id_to_hex(&e->ref, hex);
	v->nodes[row->node].bad = 1;
	verify_problem(v, row->node, &v->nodes[row->node].id, 0,
		       "entry '%s' records %llu bytes of content, but its "
		       "content %s has %llu",
		       name, (unsigned long long)expected, hex,
		       (unsigned long long)actual);
}

static void check_tree(struct verify *v, struct row *row)
{
	struct tree_walk walk = {v, row};
	struct bundle_tree tree;

	if (bundle_tree_parse(&tree, row->full, row->full_len) < 0) {
		bad(v, row, bundle_error());
		return;
	}
	/* The subtrees' edges first and together, for verify_expanded(). */
	v->nodes[row->node].n_entries = (uint32_t)tree.n_entries;
	v->nodes[row->node].first_sub = (uint32_t)v->n_edges;
	for (size_t i = 0; i < tree.n_entries && !v->oom; i++) {
		if (tree.entries[i].kind == BUNDLE_ENTRY_DIR)
			check_tree_ref(&tree.entries[i].ref,
				       tree.entries[i].ref_kind, &walk);
	}
	v->nodes[row->node].n_subs =
		(uint32_t)v->n_edges - v->nodes[row->node].first_sub;
	for (size_t i = 0; i < tree.n_entries && !v->oom; i++) {
		const struct bundle_tree_entry *e = &tree.entries[i];

		if (e->kind != BUNDLE_ENTRY_FILE)
			continue;
		check_tree_ref(&e->ref, e->ref_kind, &walk);
		check_file_size(v, row, e);
	}
	bundle_tree_release(&tree);
}

/* Without recursion, as compute_reach(): a hostile file may nest trees
 * arbitrarily deep. Sums saturate one past the cap, so none overflows. */
uint64_t verify_expanded(struct verify *v, uint32_t start)
{
	const uint64_t over = BUNDLE_SNAPSHOT_MAX_ENTRIES + 1;
	uint32_t *stack, *pos;
	size_t depth = 0;

	if (v->nodes[start].expand_state == 2)
		return v->nodes[start].expanded;
	stack = malloc((v->n_nodes + 1) * sizeof(*stack));
	pos = malloc((v->n_nodes + 1) * sizeof(*pos));
	if (!stack || !pos) {
		free(stack);
		free(pos);
		v->oom = 1;
		return 0;
	}
	v->nodes[start].expand_state = 1;
	v->nodes[start].expanded = v->nodes[start].n_entries;
	stack[depth] = start;
	pos[depth++] = 0;
	while (depth > 0) {
		struct vnode *n = &v->nodes[stack[depth - 1]];
		struct vnode *child;

		if (pos[depth - 1] == n->n_subs) {
			if (n->expanded > over)
				n->expanded = over;
			n->expand_state = 2;
			depth--;
			if (depth > 0) {
				struct vnode *up = &v->nodes[stack[depth - 1]];

				up->expanded += n->expanded;
			}
			continue;
		}
		child = &v->nodes[v->edges[n->first_sub + pos[depth - 1]++]];
		if (child->kind != BUNDLE_TREE || child->expand_state == 1)
			continue; /* reported as damage on its own */
		if (child->expand_state == 2) {
			n->expanded += child->expanded;
			if (n->expanded > over)
				n->expanded = over;
			continue;
		}
		child->expand_state = 1;
		child->expanded = child->n_entries;
		stack[depth] = (uint32_t)(child - v->nodes);
		pos[depth++] = 0;
	}
	free(stack);
	free(pos);
	return v->nodes[start].expanded;
}

/*
 * Column 6 names the dictionary that the row was compressed with. It
 * must be a stored object of kind dict, itself compressed without one.
 * The edge to it lists the events that a damaged dictionary affects.
 */
static int check_dict(struct verify *v, struct row *row, sqlite3_stmt *stmt)
{
	struct vnode *n = &v->nodes[row->node];
	char hex[BUNDLE_ID_HEX_LEN + 1];
	struct bundle_id id;
	uint32_t dict;

	if (sqlite3_column_type(stmt, 6) == SQLITE_NULL)
		return 0;
	if (sqlite3_column_type(stmt, 6) != SQLITE_BLOB ||
	    sqlite3_column_bytes(stmt, 6) != BUNDLE_ID_LEN)
		return bad(v, row, "its dict column is not an object id");
	if (n->kind == BUNDLE_DICT)
		return bad(v, row, "a dictionary compressed with a dictionary");
	if (strcmp(row->encoding, "zstd") != 0)
		return bad(v, row, "names a dictionary, but is not zstd");

	memcpy(id.bytes, sqlite3_column_blob(stmt, 6), BUNDLE_ID_LEN);
	bundle_id_to_hex(&id, hex);
	dict = verify_find(v, &id);
	if (dict == NO_NODE) {
		n->bad = 1;
		verify_problem(v, row->node, &n->id, 0,
			       "its dictionary %s is missing", hex);
		return -1;
	}
	add_edge(v, row->node, dict);
	if (v->nodes[dict].kind != BUNDLE_DICT) {
		n->bad = 1;
		verify_problem(v, row->node, &n->id, 0,
			       "its dictionary %s is not of kind dict", hex);
		return -1;
	}
	row->ddict = store_dict_ddict(v->bundle, &id);
	if (!row->ddict) {
		n->bad = 1;
		verify_problem(v, row->node, &n->id, 0, "%s", bundle_error());
		return -1;
	}
	return 0;
}

static void check_row(struct verify *v, sqlite3_stmt *stmt, uint32_t node)
{
	struct vnode *n = &v->nodes[node];
	struct row row = {.node = node};

	n->checked = 1;
	n->first_edge = (uint32_t)v->n_edges;
	row.encoding = (const char *)sqlite3_column_text(stmt, 4);
	row.data = sqlite3_column_blob(stmt, 5);
	row.len = (size_t)sqlite3_column_bytes(stmt, 5);

	if (!n->kind) {
		bad(v, &row, "unknown kind");
		return;
	}
	if (sqlite3_column_int64(stmt, 3) < 0) {
		bad(v, &row, "negative size");
		return;
	}
	if (!row.encoding || (strcmp(row.encoding, "raw") != 0 &&
			      strcmp(row.encoding, "zstd") != 0)) {
		bad(v, &row, "unknown encoding");
		return;
	}
	if (check_dict(v, &row, stmt))
		return;
	if (check_hash(v, &row) == 0) {
		if (n->kind == BUNDLE_CHUNKS)
			check_chunk_list(v, &row);
		else if (n->kind == BUNDLE_TREE)
			check_tree(v, &row);
	}
	free(row.full);
}

int verify_check_objects(struct verify *v)
{
	sqlite3_stmt *stmt = NULL;
	int rc;

	v->buf = malloc(STREAM_BUF);
	if (!v->buf) {
		v->oom = 1;
		return -1;
	}
	/* Version 1 has no dict column. */
	if (sqlite3_prepare_v2(v->bundle->db,
			       v->bundle->version >= 2
				       ? "SELECT rowid, id, kind, size, "
					 "encoding, data, dict FROM objects"
				       : "SELECT rowid, id, kind, size, "
					 "encoding, data, NULL FROM objects",
			       -1, &stmt, NULL) != SQLITE_OK) {
		verify_sql_problem(v, "cannot read objects");
		return 0;
	}
	while (!v->oom && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct bundle_id id;
		uint32_t node;

		if (sqlite3_column_bytes(stmt, 1) != BUNDLE_ID_LEN)
			continue;
		memcpy(id.bytes, sqlite3_column_blob(stmt, 1), BUNDLE_ID_LEN);
		node = verify_find(v, &id);
		if (node == NO_NODE || v->nodes[node].checked)
			continue;
		check_row(v, stmt, node);
	}
	if (!v->oom && rc != SQLITE_DONE)
		verify_sql_problem(v, "cannot read objects");
	sqlite3_finalize(stmt);
	return v->oom ? -1 : 0;
}

/* Hash the chunks of one intact list in order and compare the result with
 * the content hash that the list records. */
static void check_chunked(struct verify *v, uint32_t node)
{
	struct vnode *n = &v->nodes[node];
	struct chunk_list list;
	struct bundle_id content;
	unsigned int id_len = BUNDLE_ID_LEN;
	EVP_MD_CTX *sha = EVP_MD_CTX_new();
	void *data = NULL;
	size_t len;

	if (!sha || !EVP_DigestInit_ex(sha, store_sha256_md(), NULL)) {
		v->oom = 1;
		goto out;
	}
	if (bundle_get(v->bundle, &n->id, &data, &len, NULL) ||
	    chunk_list_parse(data, len, &list))
		goto damaged;
	for (size_t i = 0; i < list.n_chunks; i++) {
		struct bundle_id id;
		uint64_t size;
		void *chunk;
		size_t chunk_len;

		chunk_list_get(&list, i, &id, &size);
		if (bundle_get(v->bundle, &id, &chunk, &chunk_len, NULL))
			goto damaged;
		EVP_DigestUpdate(sha, chunk, chunk_len);
		free(chunk);
	}
	EVP_DigestFinal_ex(sha, content.bytes, &id_len);
	if (memcmp(content.bytes, list.content.bytes, BUNDLE_ID_LEN) == 0)
		goto out;
	n->bad = 1;
	verify_problem(v, node, &n->id, 0,
		       "its chunks do not hash to the "
		       "content id it records");
	goto out;

damaged:
	n->bad = 1;
	verify_problem(v, node, &n->id, 0, "cannot read it again: %s",
		       bundle_error());
out:
	free(data);
	EVP_MD_CTX_free(sha);
}

int verify_check_chunked_content(struct verify *v)
{
	for (size_t i = 0; i < v->n_nodes && !v->oom; i++) {
		struct vnode *n = &v->nodes[i];
		int intact = n->kind == BUNDLE_CHUNKS && n->checked && !n->bad;

		for (uint32_t e = 0; intact && e < n->n_edges; e++)
			intact = !v->nodes[v->edges[n->first_edge + e]].bad;
		if (intact)
			check_chunked(v, (uint32_t)i);
	}
	return v->oom ? -1 : 0;
}
