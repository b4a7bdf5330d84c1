/*
 * sandbox_launch.c - time sandbox_launch() and sandbox_wait() of `true`
 * in one process, as the recorder calls them, without the start-up of
 * the runbundle executable. Prints the median of N runs in ms.
 *
 * usage: sandbox_launch_bench WORKSPACE [N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sandbox/error.h"
#include "sandbox/policy.h"
#include "sandbox/sandbox.h"

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int compare(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	struct sandbox_policy *policy = sandbox_policy_default();
	char *cmd[] = { "true", NULL };
	int n = argc > 2 ? atoi(argv[2]) : 100;
	double *ms = calloc((size_t)n, sizeof(*ms));
	struct sandbox_config config = { .policy = policy, .argv = cmd };

	if (argc < 2 || !policy || !ms || n < 1) {
		fprintf(stderr, "usage: sandbox_launch_bench WORKSPACE [N]\n");
		return 2;
	}
	config.workspace = argv[1];
	for (int i = 0; i < n; i++) {
		struct sandbox_child child;
		struct sandbox_result result;
		double start = now_ms();

		if (sandbox_launch(&config, &child) < 0 ||
		    sandbox_wait(&child, &result) < 0) {
			fprintf(stderr, "bench: %s\n", sandbox_error());
			return 1;
		}
		sandbox_child_release(&child);
		ms[i] = now_ms() - start;
	}
	qsort(ms, (size_t)n, sizeof(*ms), compare);
	printf("%.2f\n", ms[n / 2]);
	free(ms);
	sandbox_policy_free(policy);
	return 0;
}
