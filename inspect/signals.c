/*
 * signals.c - removing a command's temporary file when a signal ends it,
 * and saying what the signal left half-written.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>

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

/* The note is formatted beforehand, because a handler may only write. */
static char note[2048];
static volatile sig_atomic_t note_len;

void inspect_signal_note(const char *fmt, ...)
{
	va_list ap;
	int n;

	note_len = 0;
	if (!fmt)
		return;
	va_start(ap, fmt);
	n = vsnprintf(note, sizeof(note), fmt, ap);
	va_end(ap);
	if (n > 0)
		note_len = n < (int)sizeof(note) ? n : (int)sizeof(note) - 1;
}

static void on_signal(int sig)
{
	inspect_signal_resend(sig);
}

void inspect_catch_signals_note(void)
{
	inspect_catch_signals(on_signal);
}

void inspect_signal_resend(int sig)
{
	int saved = errno;

	if (note_len > 0 && write(STDERR_FILENO, note, (size_t)note_len) < 0)
		note_len = 0;
	signal(sig, SIG_DFL);
	raise(sig);
	errno = saved;
}
