/*
 * wal_stop_preload.c - an LD_PRELOAD library for the tests of readers
 * of a bundle whose writer switches journal modes. The process stops
 * itself with SIGSTOP once: with WAL_STOP=unlink just after it removes a
 * -wal file, with WAL_STOP=create just before it creates one, and with
 * WAL_STOP=journal just after it tries to remove a -journal file that is
 * not there, as runbundle does after each switch to WAL, and with
 * WAL_STOP=read just after a snapshot opens a file whose name ends in
 * .stop-here, and with WAL_STOP=page just before the first read of a
 * 16 KiB page past the first, as SQLite reads a bundle's tables.
 */
/* Both open and open64 are defined here, which the 64-bit offsets of the
 * build would rename to one symbol. */
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef int (*unlink_fn)(const char *);
typedef int (*open_fn)(const char *, int, ...);
typedef int (*openat_fn)(int, const char *, int, ...);
typedef ssize_t (*pread_fn)(int, void *, size_t, off_t);

static int stopped;

static int ends_with(const char *path, const char *suffix)
{
	size_t len = strlen(path), n = strlen(suffix);

	return len > n && strcmp(path + len - n, suffix) == 0;
}

static void stop_at(const char *when, const char *path, const char *suffix)
{
	const char *want = getenv("WAL_STOP");

	if (!stopped && want && strcmp(want, when) == 0 &&
	    ends_with(path, suffix)) {
		stopped = 1;
		raise(SIGSTOP);
	}
}

int unlink(const char *path)
{
	unlink_fn real_unlink = (unlink_fn)dlsym(RTLD_NEXT, "unlink");
	int rc = real_unlink(path);

	if (rc == 0)
		stop_at("unlink", path, "-wal");
	else if (errno == ENOENT)
		stop_at("journal", path, "-journal");
	return rc;
}

static int open_with(const char *name, const char *path, int flags,
		     va_list ap)
{
	open_fn real_open = (open_fn)dlsym(RTLD_NEXT, name);
	mode_t mode = (flags & O_CREAT) ? (mode_t)va_arg(ap, int) : 0;
	struct stat st;

	if ((flags & O_CREAT) && stat(path, &st) != 0)
		stop_at("create", path, "-wal");
	return real_open(path, flags, mode);
}

int open(const char *path, int flags, ...)
{
	va_list ap;
	int fd;

	va_start(ap, flags);
	fd = open_with("open", path, flags, ap);
	va_end(ap);
	return fd;
}

int open64(const char *path, int flags, ...)
{
	va_list ap;
	int fd;

	va_start(ap, flags);
	fd = open_with("open64", path, flags, ap);
	va_end(ap);
	return fd;
}

static int openat_with(const char *name, int dirfd, const char *path,
		       int flags, va_list ap)
{
	openat_fn real_openat = (openat_fn)dlsym(RTLD_NEXT, name);
	mode_t mode = (flags & O_CREAT) ? (mode_t)va_arg(ap, int) : 0;
	int fd = real_openat(dirfd, path, flags, mode);

	if (fd >= 0)
		stop_at("read", path, ".stop-here");
	return fd;
}

/* The snapshot opens the files of the workspace relative to their
 * folder. */
int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	int fd;

	va_start(ap, flags);
	fd = openat_with("openat", dirfd, path, flags, ap);
	va_end(ap);
	return fd;
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	int fd;

	va_start(ap, flags);
	fd = openat_with("openat64", dirfd, path, flags, ap);
	va_end(ap);
	return fd;
}

static ssize_t pread_with(const char *name, int fd, void *buf, size_t count,
			  off_t offset)
{
	pread_fn real_pread = (pread_fn)dlsym(RTLD_NEXT, name);
	const char *want = getenv("WAL_STOP");

	if (!stopped && want && strcmp(want, "page") == 0 &&
	    count == 16384 && offset >= 16384) {
		stopped = 1;
		raise(SIGSTOP);
	}
	return real_pread(fd, buf, count, offset);
}

ssize_t pread(int fd, void *buf, size_t count, off_t offset)
{
	return pread_with("pread", fd, buf, count, offset);
}

ssize_t pread64(int fd, void *buf, size_t count, off_t offset)
{
	return pread_with("pread64", fd, buf, count, offset);
}
