/*
 * integrity.c - the quick and the full check of a bundle that a reading
 * command has printed from, and the warning lines it prints for them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bundle/verify.h"
#include "cli/cli.h"
#include "inspect/error.h"
#include "inspect/integrity.h"
#include "inspect/output.h"

static void add_problem(struct inspect_integrity *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void add_problem(struct inspect_integrity *out, const char *fmt, ...)
{
	va_list ap;

	if (out->n_problems < INSPECT_INTEGRITY_LISTED) {
		va_start(ap, fmt);
		vsnprintf(out->problems[out->n_problems],
			  sizeof(out->problems[0]), fmt, ap);
		va_end(ap);
	}
	out->n_problems++;
}

/* The problems that bundle_verify() (full) or bundle_verify_events()
 * finds, each with the event and object it names, as runbundle verify
 * prints them. */
static int check(const char *path, int full, struct inspect_integrity *out)
{
	struct bundle_verify_report vr;
	int rc = full ? bundle_verify(path, &vr)
		      : bundle_verify_events(path, &vr);

	if (rc < 0)
		return inspect_take_error(bundle_error(), bundle_error_hint());
	for (size_t i = 0; i < vr.n_problems; i++) {
		const struct bundle_verify_problem *p = &vr.problems[i];
		char event[32] = "", object[BUNDLE_ID_HEX_LEN + 16] = "";

		if (p->event)
			snprintf(event, sizeof(event), "event %llu: ",
				 (unsigned long long)p->event);
		if (p->has_object) {
			char hex[BUNDLE_ID_HEX_LEN + 1];

			bundle_id_to_hex(&p->object, hex);
			snprintf(object, sizeof(object), "object %s: ", hex);
		}
		add_problem(out, "%s%s%s", event, object, p->message);
	}
	bundle_verify_release(&vr);
	return 0;
}

int inspect_integrity_check(const struct inspect_view *view, const char *path,
			    int full, struct inspect_integrity *out)
{
	memset(out, 0, sizeof(*out));
	out->incomplete = !view->finalized;
	return check(path, full, out);
}

int inspect_check_option(int c, int *flags)
{
	if (c == INSPECT_CHECK_OPT_VERIFY)
		*flags |= INSPECT_CHECK_FULL;
	else if (c == INSPECT_CHECK_OPT_ALLOW)
		*flags |= INSPECT_CHECK_ALLOW_INCOMPLETE;
	else
		return 0;
	return 1;
}

int inspect_incomplete_fails(int incomplete, int wal_missing,
			     size_t n_events, int flags)
{
	if (!incomplete)
		return 0;
	if (!(flags & INSPECT_CHECK_ALLOW_INCOMPLETE))
		return 1;
	return wal_missing && n_events == 0;
}

/* Say that the bundle at path was not finalized, and what that leaves
 * unchecked: its last events, or nothing when it has none. */
static void incomplete_error(const char *path, size_t n_events)
{
	if (n_events == 0)
		cli_error("the bundle is incomplete: '%s': it was not "
			  "finalized, and has no events", path);
	else
		cli_error("the bundle is incomplete: '%s': it was not "
			  "finalized, so no root digest covers its last "
			  "events", path);
}

int inspect_integrity_warn(const struct inspect_view *view, const char *path,
			   int flags)
{
	struct inspect_integrity check;
	size_t listed;
	int wal_missing;

	fflush(stdout);
	if (inspect_integrity_check(view, path, flags & INSPECT_CHECK_FULL,
				    &check) < 0)
		return out_fail();
	/* The warning goes with a rejection: --allow-incomplete accepts a
	 * copy that has events as it is, without its -wal. */
	wal_missing = check.incomplete && inspect_wal_missing(path);
	if (!inspect_incomplete_fails(check.incomplete, wal_missing,
				      view->n_events, flags))
		check.incomplete = 0;
	else if (wal_missing)
		inspect_wal_warn(path);
	if (!check.incomplete && !check.n_problems)
		return CLI_EXIT_OK;
	listed = check.n_problems < INSPECT_INTEGRITY_LISTED ?
			 check.n_problems : INSPECT_INTEGRITY_LISTED;
	for (size_t i = 0; i < listed; i++)
		cli_error("the bundle is damaged: '%s': %s", path,
			  check.problems[i]);
	if (check.n_problems > listed)
		cli_error("the bundle is damaged: '%s': %zu more problems",
			  path, check.n_problems - listed);
	if (check.incomplete)
		incomplete_error(path, view->n_events);
	cli_hint("runbundle verify %s", path);
	return CLI_EXIT_FAIL;
}

/*
 * Return whether another process holds one of SQLite's locks on fd,
 * which are on the 512 bytes from offset 2^30. Every connection to a
 * file in WAL mode holds one, as does a writer that leaves WAL mode.
 */
static bool sqlite_locked(int fd)
{
	struct flock lock = {
		.l_type = F_WRLCK,
		.l_whence = SEEK_SET,
		.l_start = 0x40000000,
		.l_len = 512,
	};

	return fcntl(fd, F_GETLK, &lock) == 0 && lock.l_type != F_UNLCK;
}

/* Return whether path is an SQLite file in WAL mode (header bytes 18
 * and 19 are 2) with no -wal beside it, and set *locked to whether
 * another process holds an SQLite lock on it. */
static bool wal_absent(const char *path, const char *wal, bool *locked)
{
	unsigned char header[20];
	/* O_NONBLOCK: a FIFO must not hang the check; opening reports it. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	bool absent;

	*locked = false;
	if (fd < 0)
		return false;
	absent = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		 pread(fd, header, sizeof(header), 0) == sizeof(header) &&
		 memcmp(header, "SQLite format 3", 16) == 0 &&
		 header[18] == 2 && header[19] == 2 &&
		 lstat(wal, &st) < 0 && errno == ENOENT;
	if (absent)
		*locked = sqlite_locked(fd);
	close(fd);
	return absent;
}

/*
 * A writer that leaves WAL mode removes the -wal before it rewrites the
 * header, so a locked file is looked at again for up to 1 s, until its
 * header or its -wal changes. A bundle that a running writer keeps in
 * WAL mode, moved away from its -wal, stays as it is and is reported.
 */
int inspect_wal_missing(const char *path)
{
	const struct timespec pause = {.tv_nsec = 20 * 1000 * 1000};
	/* SQLite puts the -wal beside the file that a symlink names. */
	char *resolved = realpath(path, NULL);
	const char *file = resolved ? resolved : path;
	size_t len = strlen(file) + sizeof("-wal");
	char *wal = malloc(len);
	bool absent, locked = true;

	if (!wal) {
		free(resolved);
		return 0;
	}
	snprintf(wal, len, "%s-wal", file);
	absent = wal_absent(path, wal, &locked);
	for (int tries = 0; absent && locked && tries < 50; tries++) {
		nanosleep(&pause, NULL);
		absent = wal_absent(path, wal, &locked);
	}
	free(wal);
	free(resolved);
	return absent;
}

void inspect_wal_warn(const char *path)
{
	cli_error("the bundle may lack committed events: '%s-wal': missing, "
		  "and until a bundle is finalized its committed events can "
		  "be in that file", path);
	cli_hint("copy '%s-wal' together with the bundle, or copy bundles "
		 "only after runbundle record has ended", path);
}

void inspect_bundle_state_set(struct inspect_bundle_state *b,
			      const struct inspect_view *view,
			      int wal_missing)
{
	b->finalized = view->finalized;
	b->n_events = view->n_events;
	b->wal_missing = wal_missing && !view->finalized;
}

void inspect_incomplete_warn(const struct inspect_bundle_state *b,
			     const char *path, int flags, const char *hint)
{
	if (b->finalized)
		return;
	fflush(stdout);
	if (b->wal_missing)
		inspect_wal_warn(path);
	if (flags & INSPECT_CHECK_ALLOW_INCOMPLETE ||
	    (b->wal_missing && b->n_events == 0))
		return;
	incomplete_error(path, b->n_events);
	cli_hint("%s", hint);
}
