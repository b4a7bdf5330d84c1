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
 * ends as the signal would have ended it. Keeps errno. */
void inspect_signal_resend(int sig);

#endif
