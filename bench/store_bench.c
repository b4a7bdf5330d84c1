/*
 * store_bench.c - store files in a new bundle with a given zstd level and
 * average chunk size, and print what it took. Run by bench/chunking.sh.
 *
 *	store_bench LEVEL CHUNK_AVG BUNDLE FILE...
 *
 * Prints one line: seconds, bytes read, bundle bytes.
 * Each FILE is stored in its own transaction, as a snapshot would.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bundle/bundle.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int put(struct bundle *bundle, const char *path, uint64_t *total)
{
	struct bundle_id ref;
	uint64_t size;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc;

	if (fd < 0) {
		perror(path);
		return -1;
	}
	rc = bundle_begin(bundle);
	if (rc == 0)
		rc = bundle_put_fd(bundle, fd, &ref, NULL, &size);
	if (rc == 0)
		rc = bundle_append_event(bundle, "put", NULL, &ref, 1, NULL);
	if (rc == 0)
		rc = bundle_commit(bundle);
	close(fd);
	if (rc)
		fprintf(stderr, "store_bench: %s: %s\n", path, bundle_error());
	*total += size;
	return rc;
}

int main(int argc, char **argv)
{
	struct bundle_options options = {0};
	struct bundle *bundle;
	uint64_t total = 0;
	struct stat st;
	double start;

	if (argc < 5) {
		fprintf(stderr, "usage: store_bench LEVEL CHUNK_AVG BUNDLE "
				"FILE...\n");
		return 2;
	}
	options.zstd_level = atoi(argv[1]);
	options.chunk_avg = (uint32_t)strtoul(argv[2], NULL, 10);

	start = now();
	bundle = bundle_create(argv[3], &options);
	if (!bundle) {
		fprintf(stderr, "store_bench: %s\n", bundle_error());
		return 1;
	}
	for (int i = 4; i < argc; i++) {
		if (put(bundle, argv[i], &total))
			return 1;
	}
	if (bundle_finalize(bundle, NULL)) {
		fprintf(stderr, "store_bench: %s\n", bundle_error());
		return 1;
	}
	bundle_close(bundle);
	if (stat(argv[3], &st))
		return 1;
	printf("%.3f %llu %llu\n", now() - start, (unsigned long long)total,
	       (unsigned long long)st.st_size);
	return 0;
}
