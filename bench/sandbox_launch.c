/*
 * sandbox_launch.c - time sandbox_launch() and sandbox_wait() of `true`
 * in one process, without the start-up of the runbundle executable.
 * Prints the median of N runs in ms. By default sandbox_wait() waits
 * for the teardown, as the recorder calls it. With "status" it returns
 * when init reports the status, as in `runbundle sandbox`, and each
 * run's init is reaped after the run's time is taken.
 *
 * usage: sandbox_launch_bench WORKSPACE [N [status]]
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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
		fprintf(stderr, "usage: sandbox_launch_bench WORKSPACE "
			"[N [status]]\n");
		return 2;
	}
	config.workspace = argv[1];
	if (argc > 3 && strcmp(argv[3], "status") == 0)
		config.wait_mode = SANDBOX_WAIT_STATUS;
	for (int i = 0; i < n; i++) {
		struct sandbox_child child;
		struct sandbox_result result;
		double start = now_ms();
		bool at_status;
		int control;

		if (sandbox_launch(&config, &child) < 0 ||
		    sandbox_wait(&child, &result) < 0) {
			fprintf(stderr, "bench: %s\n", sandbox_error());
			return 1;
		}
		/* After the status, init exits only when the control
		 * socket closes, as the exit of `runbundle sandbox` does.
		 * Both fields are the library's own, read here for that. */
		control = child.control;
		at_status = child.ended_at_status;
		sandbox_child_release(&child);
		ms[i] = now_ms() - start;
		if (at_status)
			close(control);
		while (waitpid(-1, NULL, 0) > 0)
			;
	}
	qsort(ms, (size_t)n, sizeof(*ms), compare);
	printf("%.2f\n", ms[n / 2]);
	free(ms);
	sandbox_policy_free(policy);
	return 0;
}
