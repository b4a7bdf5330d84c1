/*
 * archive_out.c - the file that an archive is written to
 * (archive_out.h).
 */
#include <archive.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "inspect/archive_out.h"
#include "inspect/error.h"

int inspect_archive_create(struct archive *ar, const char *out)
{
	int fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
				   O_CLOEXEC, 0666);

	if (fd < 0 && errno == EEXIST) {
		inspect_set_error("cannot create archive: '%s': it exists",
				  out);
		inspect_set_hint("remove it or name another file with -o");
		return -1;
	}
	if (fd < 0) {
		inspect_set_error("cannot create archive: '%s': %s", out,
				  strerror(errno));
		return -1;
	}
	if (archive_write_open_fd(ar, fd) != ARCHIVE_OK) {
		inspect_set_error("cannot create archive: '%s': %s", out,
				  inspect_archive_reason(ar));
		close(fd);
		unlink(out);
		return -1;
	}
	return fd;
}
