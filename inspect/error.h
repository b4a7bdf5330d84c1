/*
 * error.h - how the read-side library of inspect/ (view.h, answer.h,
 * content.h, layout.h) reports failure.
 *
 * A function that fails returns -1 (or NULL) and stores a message of the
 * form "<what failed>: '<value>': <why>", and sometimes a hint with the
 * fix, readable through inspect_error() and inspect_error_hint() until
 * the next failure on the same thread. These files never print and never
 * exit; the cmd_*.c files do.
 */
#ifndef INSPECT_ERROR_H
#define INSPECT_ERROR_H

/* The last failure's message on this thread; "" when there was none. The
 * library owns the string. */
const char *inspect_error(void);

/* The last failure's hint, or NULL. The library owns the string. */
const char *inspect_error_hint(void);

/* Store a message and clear the hint. Control characters are replaced by
 * '?', because values come from untrusted bundles. */
void inspect_set_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* Store the hint for the message stored last. */
void inspect_set_hint(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* Copy a library's message (and hint) into this module's, so a caller
 * needs to look in one place only. Returns -1. */
int inspect_take_error(const char *message, const char *hint);

struct archive;

/* Return why the last call on ar failed. The system's error text comes
 * first, because libarchive's text for a failed open names only the
 * file ("Failed to open 'x.tar'"). */
const char *inspect_archive_reason(struct archive *ar);

#endif
