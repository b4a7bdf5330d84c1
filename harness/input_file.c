/*
 * input_file.c - opening a user-named input file without blocking.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/input_file.h"

int harness_open_input(const char *path, const char **reason)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0) {
		*reason = strerror(errno);
	} else if (!S_ISREG(st.st_mode)) {
		*reason = S_ISDIR(st.st_mode) ? strerror(EISDIR)
					   : "not a regular file";
	} else {
		return fd;
	}
	if (fd >= 0)
		close(fd);
	return -1;
}

FILE *harness_fopen_input(const char *path, const char **reason)
{
	int fd = harness_open_input(path, reason);
	FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;

	if (fd >= 0 && !f) {
		*reason = strerror(errno);
		close(fd);
	}
	return f;
}
