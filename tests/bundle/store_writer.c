/*
 * store_writer.c - a test-only writer that drives the bundle store from
 * shell tests, before any runbundle command writes bundles.
 *
 *	store_writer put BUNDLE FILE...   store the files and one "put"
 *	                                  event; print one ref per file
 *	store_writer tree BUNDLE FILE...  store the files, a tree of them
 *	                                  and one "snapshot" event
 *	store_writer cat BUNDLE REF       write stored content to stdout
 *	store_writer finalize BUNDLE      finalize; print the root digest
 *	store_writer loop BUNDLE SEED     append events with random objects
 *	                                  until killed, printing each
 *	                                  committed sequence number
 *
 * BUNDLE is created when it does not exist. Exits 0 on success and 1
 * with the library's message on failure.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/bundle.h"
#include "bundle/tree.h"

static int failed(const char *what)
{
	const char *hint = bundle_error_hint();

	fprintf(stderr, "store_writer: %s: %s\n", what, bundle_error());
	if (hint)
		fprintf(stderr, "hint: %s\n", hint);
	return 1;
}

static struct bundle *open_or_create(const char *path)
{
	if (access(path, F_OK) == 0)
		return bundle_open(path, BUNDLE_APPEND);
	return bundle_create(path, NULL);
}

static int put_file(struct bundle *bundle, const char *path,
		    struct bundle_id *ref, struct bundle_tree_entry *entry)
{
	struct bundle_id content;
	struct stat st;
	uint64_t size;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc;

	if (fd < 0) {
		perror(path);
		return -1;
	}
	rc = bundle_put_fd(bundle, fd, ref, &content, &size);
	if (rc == 0 && entry && fstat(fd, &st) == 0) {
		const char *name = strrchr(path, '/');

		name = name ? name + 1 : path;
		memset(entry, 0, sizeof(*entry));
		entry->kind = BUNDLE_ENTRY_FILE;
		entry->name = (const unsigned char *)name;
		entry->name_len = strlen(name);
		entry->mode = st.st_mode;
		entry->mtime_sec = st.st_mtim.tv_sec;
		entry->size = size;
		entry->ref = *ref;
		/* Only chunked content has a ref other than its hash. */
		entry->ref_kind = memcmp(ref, &content, sizeof(content)) == 0
					  ? BUNDLE_BLOB
					  : BUNDLE_CHUNKS;
	}
	close(fd);
	return rc;
}

static int cmd_put(struct bundle *bundle, int n, char **files, int tree)
{
	struct bundle_id *refs = calloc((size_t)n + 1, sizeof(*refs));
	struct bundle_tree entries;
	char hex[BUNDLE_ID_HEX_LEN + 1];
	void *data;
	size_t len;

	bundle_tree_init(&entries);
	if (!refs || bundle_begin(bundle))
		return failed("begin");
	for (int i = 0; i < n; i++) {
		struct bundle_tree_entry entry;

		if (put_file(bundle, files[i], &refs[i], &entry))
			return failed(files[i]);
		if (tree && bundle_tree_add(&entries, &entry))
			return failed(files[i]);
		bundle_id_to_hex(&refs[i], hex);
		printf("%s %s\n", hex, files[i]);
	}
	if (tree) {
		if (bundle_tree_encode(&entries, &data, &len) ||
		    bundle_put(bundle, BUNDLE_TREE, data, len, &refs[0]))
			return failed("tree");
		free(data);
		n = 1;
		bundle_id_to_hex(&refs[0], hex);
		printf("%s tree\n", hex);
	}
	if (bundle_append_event(bundle, tree ? "snapshot" : "put", NULL, refs,
				(size_t)n, NULL) ||
	    bundle_commit(bundle))
		return failed("event");
	bundle_tree_release(&entries);
	free(refs);
	return 0;
}

/* One transaction: a few random objects, some large enough to be
 * chunked, and the event that references them. */
static int loop_step(struct bundle *bundle, unsigned int *seed,
		     unsigned char *buf, size_t cap)
{
	struct bundle_id refs[3];
	size_t n = 1 + (size_t)(rand_r(seed) % 3);
	uint64_t seq;

	if (bundle_begin(bundle))
		return -1;
	for (size_t i = 0; i < n; i++) {
		size_t len = (size_t)rand_r(seed) % cap;

		for (size_t j = 0; j < len; j++)
			buf[j] = (unsigned char)(rand_r(seed) >> 7);
		if (bundle_put(bundle, BUNDLE_BLOB, buf, len, &refs[i]))
			return -1;
	}
	if (bundle_append_event(bundle, "step", NULL, refs, n, &seq) ||
	    bundle_commit(bundle))
		return -1;
	printf("%llu\n", (unsigned long long)seq);
	fflush(stdout);
	return 0;
}

static int cmd_loop(struct bundle *bundle, const char *seed_text)
{
	unsigned int seed = (unsigned int)strtoul(seed_text, NULL, 10);
	size_t cap = 512 * 1024;
	unsigned char *buf = malloc(cap);

	if (!buf)
		return 1;
	for (;;) {
		if (loop_step(bundle, &seed, buf, cap))
			return failed("loop");
	}
}

static int cmd_cat(const char *path, const char *hex)
{
	struct bundle *bundle = bundle_open(path, BUNDLE_READ);
	struct bundle_id ref;
	int rc = 0;

	if (!bundle)
		return failed(path);
	if (bundle_id_from_hex(&ref, hex)) {
		fprintf(stderr, "store_writer: invalid id: '%s'\n", hex);
		rc = 2;
	} else if (bundle_write_content(bundle, &ref, STDOUT_FILENO)) {
		rc = failed(hex);
	}
	bundle_close(bundle);
	return rc;
}

int main(int argc, char **argv)
{
	struct bundle *bundle;
	struct bundle_id root;
	char hex[BUNDLE_ID_HEX_LEN + 1];
	int rc = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: store_writer put|tree|finalize|loop "
				"BUNDLE [ARG...]\n");
		return 2;
	}
	if (strcmp(argv[1], "cat") == 0 && argc == 4)
		return cmd_cat(argv[2], argv[3]);
	bundle = open_or_create(argv[2]);
	if (!bundle)
		return failed(argv[2]);

	if (strcmp(argv[1], "put") == 0 || strcmp(argv[1], "tree") == 0) {
		rc = cmd_put(bundle, argc - 3, argv + 3,
			     strcmp(argv[1], "tree") == 0);
	} else if (strcmp(argv[1], "finalize") == 0) {
		if (bundle_finalize(bundle, &root)) {
			rc = failed("finalize");
		} else {
			bundle_id_to_hex(&root, hex);
			printf("%s\n", hex);
		}
	} else if (strcmp(argv[1], "loop") == 0 && argc == 4) {
		rc = cmd_loop(bundle, argv[3]);
	} else {
		fprintf(stderr, "store_writer: unknown command: '%s'\n",
			argv[1]);
		rc = 2;
	}
	bundle_close(bundle);
	return rc;
}
