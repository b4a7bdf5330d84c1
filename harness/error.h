/*
 * error.h - how the harness library reports failure.
 *
 * A function of this library that fails returns -1 (or NULL) and stores a
 * message of the form "<what failed>: '<value>': <why>", and sometimes a
 * hint with the fix. Both stay readable through harness_error() and
 * harness_error_hint() until the next failure on the same thread. The
 * library never prints and never exits.
 */
#ifndef HARNESS_ERROR_H
#define HARNESS_ERROR_H

/* The last failure's message on this thread; "" when there was none. The
 * library owns the string. */
const char *harness_error(void);

/* The last failure's hint, or NULL. The library owns the string. */
const char *harness_error_hint(void);

/* Store a message and clear the hint. Control characters are replaced by
 * '?', because values often come from untrusted files. */
void harness_set_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* Store the hint for the message stored last. */
void harness_set_hint(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

#endif
