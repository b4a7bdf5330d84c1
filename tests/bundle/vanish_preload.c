/*
 * vanish_preload.c - an LD_PRELOAD library for the snapshot tests. It
 * removes a file or empty directory whose name starts with "vanish-"
 * just before runbundle opens it, so that the walk meets an entry that
 * was deleted between its listing and its read, as a build's temporary
 * files are. Only openat() is wrapped, which is how the walk opens
 * files and directories.
 */
/* The build sets _FILE_OFFSET_BITS=64, under which fcntl.h names
 * openat64 when the code calls openat, so both are wrapped by name. */
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

typedef int (*openat_fn)(int, const char *, int, ...);

static int wrapped(const char *symbol, int dirfd, const char *path,
		   int flags, mode_t mode)
{
	openat_fn real = (openat_fn)dlsym(RTLD_NEXT, symbol);
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	if (strncmp(base, "vanish-", 7) == 0 && !(flags & O_CREAT) &&
	    unlinkat(dirfd, path, 0) < 0 && errno == EISDIR)
		unlinkat(dirfd, path, AT_REMOVEDIR);
	return real(dirfd, path, flags, mode);
}

/* Define name(), which reads the mode only when flags create a file, as
 * the C library's own does. */
#define WRAPPER(name)                                                  \
	int name(int dirfd, const char *path, int flags, ...)          \
	{                                                              \
		mode_t mode = 0;                                       \
		va_list ap;                                            \
									       \
		va_start(ap, flags);                                   \
		if (flags & (O_CREAT | O_TMPFILE))                     \
			mode = va_arg(ap, mode_t);                     \
		va_end(ap);                                            \
		return wrapped(#name, dirfd, path, flags, mode);       \
	}

WRAPPER(openat)
WRAPPER(openat64)
