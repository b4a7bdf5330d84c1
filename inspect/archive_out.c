/*
 * archive_out.c - the file that an archive is written to
 * (archive_out.h).
 *
 * The archive is written to OUT.tmp-PID-N beside OUT and renamed to OUT
 * once it is complete and synced. So an export that fails or is killed
 * leaves no truncated archive under the name that a script takes for
 * the whole one. A signal that ends the export removes the temporary
 * file first. SIGKILL leaves it, under a name that shows what it is.
 */
#include <archive.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inspect/archive_out.h"
#include "inspect/error.h"
#include "inspect/signals.h"

/* The temporary file being written, for the signal handler. */
static char *temp_path;
static volatile sig_atomic_t temp_live;

static void on_signal(int sig)
{
	int saved = errno;

	if (temp_live)
		unlink(temp_path);
	errno = saved;
	inspect_signal_resend(sig);
}

static void exists_error(const char *out)
{
	inspect_set_error("cannot create archive: '%s': it exists", out);
	inspect_set_hint("remove it or name another file with -o");
}

static int open_temp(const char *out)
{
	size_t len = strlen(out) + 48;
	int fd = -1;

	temp_path = malloc(len);
	if (!temp_path) {
		errno = ENOMEM;
		return -1;
	}
	for (unsigned n = 0; n < 100 && fd < 0; n++) {
		snprintf(temp_path, len, "%s.tmp-%ld-%u", out,
			 (long)getpid(), n);
		temp_live = 0;
		fd = open(temp_path, O_WRONLY | O_CREAT | O_EXCL |
			  O_NOFOLLOW | O_CLOEXEC, 0666);
		if (fd >= 0)
			temp_live = 1;
		else if (errno != EEXIST)
			break;
	}
	return fd;
}

int inspect_archive_create(struct archive *ar, const char *out)
{
	struct stat st;
	int fd;

	if (lstat(out, &st) == 0) {
		exists_error(out);
		return -1;
	}
	inspect_catch_signals(on_signal);
	fd = open_temp(out);
	if (fd < 0) {
		inspect_set_error("cannot create archive: '%s': %s", out,
				  strerror(errno));
		return -1;
	}
	if (archive_write_open_fd(ar, fd) != ARCHIVE_OK) {
		inspect_set_error("cannot create archive: '%s': %s", out,
				  inspect_archive_reason(ar));
		inspect_archive_finish(fd, out, 0);
		return -1;
	}
	return fd;
}

static int write_error(const char *out, int err)
{
	inspect_set_error("cannot write archive: '%s': %s", out,
			  strerror(err));
	if (err == ENOSPC || err == EDQUOT)
		inspect_set_hint("free space on the file system of '%s', or "
				 "name a file elsewhere with -o", out);
	else if (err == EFBIG)
		inspect_set_hint("raise the file size limit ('ulimit -f')");
	return -1;
}

int inspect_archive_write_error(struct archive *ar, const char *out)
{
	int err = archive_errno(ar);

	if (err > 0)
		return write_error(out, err);
	inspect_set_error("cannot write archive: '%s': %s", out,
			  inspect_archive_reason(ar));
	return -1;
}

/* Return whether err shows that the file system lacks the call, not
 * that the call failed. */
static int unsupported(int err)
{
	return err == EINVAL || err == ENOSYS || err == EPERM ||
	       err == EOPNOTSUPP;
}

/*
 * Rename from to to unless to exists. A file system without
 * RENAME_NOREPLACE gets a hard link and an unlink, which fail the same
 * way. One without hard links either (some FUSE file systems) gets a
 * check and a plain rename, where a file created between the two would
 * be replaced.
 */
static int move_noreplace(const char *from, const char *to)
{
	struct stat st;

	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (!unsupported(errno))
		return -1;
	if (link(from, to) == 0) {
		unlink(from);
		return 0;
	}
	if (!unsupported(errno))
		return -1;
	if (lstat(to, &st) == 0) {
		errno = EEXIST;
		return -1;
	}
	return rename(from, to);
}

int inspect_archive_finish(int fd, const char *out, int ok)
{
	int rc = ok ? 0 : -1;

	if (fd < 0)
		return rc;
	if (rc == 0 && fsync(fd) < 0)
		rc = write_error(out, errno);
	if (close(fd) < 0 && rc == 0)
		rc = write_error(out, errno);
	if (rc == 0 && move_noreplace(temp_path, out) < 0) {
		if (errno == EEXIST)
			exists_error(out);
		else
			write_error(out, errno);
		rc = -1;
	}
	if (rc < 0)
		unlink(temp_path);
	temp_live = 0;
	free(temp_path);
	temp_path = NULL;
	return rc;
}
