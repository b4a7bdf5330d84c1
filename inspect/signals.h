/*
 * signals.h - removing a command's temporary file when a signal ends it.
 */
#ifndef INSPECT_SIGNALS_H
#define INSPECT_SIGNALS_H

/*
 * Run handler on SIGHUP, SIGINT, SIGQUIT and SIGTERM, except for those
 * the caller ignores (nohup), which stay ignored. handler must be
 * async-signal-safe, and should end with inspect_signal_resend(sig).
 */
void inspect_catch_signals(void (*handler)(int sig));

/* Give sig its default action again and raise it, so that the process
 * ends as the signal would have ended it. Prints the note of
 * inspect_signal_note() first. Keeps errno. */
void inspect_signal_resend(int sig);

/*
 * Set the text, formatted as printf() does, that a signal caught by
 * inspect_catch_signals() prints on stderr before it ends the command:
 * what it leaves half-written, and the fix. NULL removes it.
 */
void inspect_signal_note(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* Catch the signals of inspect_catch_signals() only to print the note. */
void inspect_catch_signals_note(void);

#endif
