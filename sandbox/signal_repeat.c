/*
 * signal_repeat.c - count a signal that one event delivers twice once.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "sandbox/sandbox.h"

/* Milliseconds within which the same signal again counts once. */
#define REPEAT_MS 100

bool sandbox_signal_repeated(int sig)
{
	static volatile sig_atomic_t last_sig;
	static int64_t last_ms;
	struct timespec ts;
	int64_t now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (sig == last_sig && now - last_ms < REPEAT_MS)
		return true;
	last_sig = sig;
	last_ms = now;
	return false;
}
