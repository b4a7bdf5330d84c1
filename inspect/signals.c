/*
 * signals.c - removing a command's temporary file when a signal ends it.
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>

#include "inspect/signals.h"

void inspect_catch_signals(void (*handler)(int sig))
{
	const int signals[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM};
	struct sigaction sa = {.sa_handler = handler};

	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
		struct sigaction old;

		if (sigaction(signals[i], NULL, &old) == 0 &&
		    old.sa_handler != SIG_IGN)
			sigaction(signals[i], &sa, NULL);
	}
}

void inspect_signal_resend(int sig)
{
	int saved = errno;

	signal(sig, SIG_DFL);
	raise(sig);
	errno = saved;
}
