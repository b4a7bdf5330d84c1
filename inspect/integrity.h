/*
 * integrity.h - the checks that the reading commands (log, show, ls,
 * cat) run on a bundle they have printed from, so that a damaged,
 * forged or incomplete bundle is never shown as if it were sound.
 *
 * Each object these commands read is already checked against its id,
 * and SQLite rejects a file shorter than its header records when it is
 * opened. The quick check, bundle_verify_events(), costs one read of
 * the events table and one SHA-256 per event. It checks each event's
 * stored hash, seq and prev link, and the root digest, as runbundle
 * verify does, and notes whether the bundle was finalized. It reads no
 * object that the command did not print, so damage there is found
 * only by the full check (--verify), which runs bundle_verify() and
 * re-hashes every object too.
 *
 * Command layer: inspect_integrity_warn() prints on stderr.
 */
#ifndef INSPECT_INTEGRITY_H
#define INSPECT_INTEGRITY_H

#include <getopt.h>
#include <stddef.h>

#include "inspect/view.h"

/* Options of the reading commands that change the checks. */
enum inspect_check_flags {
	INSPECT_CHECK_FULL = 1,		  /* --verify */
	INSPECT_CHECK_ALLOW_INCOMPLETE = 2, /* --allow-incomplete */
};

/* The getopt_long entries of those options, for a command's table. */
#define INSPECT_CHECK_OPTIONS                                               \
	{ "verify", no_argument, NULL, INSPECT_CHECK_OPT_VERIFY },           \
	{ "allow-incomplete", no_argument, NULL, INSPECT_CHECK_OPT_ALLOW }

/* Values that getopt_long returns for them, outside the range of
 * characters. */
#define INSPECT_CHECK_OPT_VERIFY 0x100
#define INSPECT_CHECK_OPT_ALLOW 0x101

/* Add the flag of option c, as getopt_long returned it, to *flags.
 * Returns 1 when c is one of these options, else 0. */
int inspect_check_option(int c, int *flags);

/* The maximum number of problems stored and printed, one a line. Any
 * more are only counted. */
#define INSPECT_INTEGRITY_LISTED 4

struct inspect_integrity {
	int incomplete;	   /* not finalized: no root digest covers the
			    * last events */
	size_t n_problems; /* damage found, all of it counted */
	char problems[INSPECT_INTEGRITY_LISTED][256];
};

/*
 * Check the bundle at path, open as view, into *out: the quick check,
 * or the full one when full is nonzero. Returns 0, or -1 with the
 * message in inspect_error() when the check itself could not run (out
 * of memory, or a file that bundle_verify() cannot open).
 */
int inspect_integrity_check(const struct inspect_view *view, const char *path,
			    int full, struct inspect_integrity *out);

/*
 * Return whether an unfinalized bundle fails a reading command, as it
 * fails runbundle verify. It always fails without
 * INSPECT_CHECK_ALLOW_INCOMPLETE in flags. With it, it fails only when
 * it has no events and no -wal beside it (wal_missing), because its
 * committed events are then most likely in the -wal that was not
 * copied. Returns 0 when incomplete is 0.
 */
int inspect_incomplete_fails(int incomplete, int wal_missing,
			     size_t n_events, int flags);

/*
 * Run inspect_integrity_check(), the full one when flags has
 * INSPECT_CHECK_FULL, and print each problem found on stderr as
 * "runbundle: the bundle is damaged: '<path>': <why>" (or "is
 * incomplete", when inspect_incomplete_fails()), then
 * "hint: runbundle verify <path>". Prints nothing for a sound bundle.
 * Returns CLI_EXIT_OK when sound, CLI_EXIT_FAIL when damaged or
 * incomplete, CLI_EXIT_ERROR when the check could not run.
 */
int inspect_integrity_warn(const struct inspect_view *view, const char *path,
			   int flags);

/*
 * Nonzero when path has no "<path>-wal" file beside it. While record
 * runs, committed events are in that file until a checkpoint copies them
 * into the bundle, so a copy of an unfinalized bundle taken without it
 * can lack events that were committed. Checked before the bundle is
 * opened, because opening it may create an empty -wal.
 */
int inspect_wal_missing(const char *path);

/* Print the note and the hint for an unfinalized bundle at path that
 * has no -wal beside it (see inspect_wal_missing()), on stderr. */
void inspect_wal_warn(const char *path);

/* The facts about a bundle that decide, with --allow-incomplete,
 * whether runbundle verify and the reading commands accept it. */
struct inspect_bundle_state {
	int finalized;
	size_t n_events;
	int wal_missing; /* not finalized, and no -wal beside it */
	int changed_while_read; /* another process wrote it meanwhile */
};

/* Fill *b from view. wal_missing is what inspect_wal_missing() returned
 * before the bundle was opened, because opening it may create a -wal. */
void inspect_bundle_state_set(struct inspect_bundle_state *b,
			      const struct inspect_view *view,
			      int wal_missing);

/*
 * Print on stderr what runbundle verify prints for an unfinalized
 * bundle: the note of a missing -wal, then, when the bundle fails
 * without --allow-incomplete in flags, "the bundle is incomplete" and
 * hint. Prints nothing for a finalized bundle. A copy that has no events
 * and no -wal gets the note only, because --allow-incomplete cannot
 * make it pass and the hint would mislead.
 */
void inspect_incomplete_warn(const struct inspect_bundle_state *b,
			     const char *path, int flags, const char *hint);

#endif
