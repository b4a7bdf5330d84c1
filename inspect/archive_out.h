/*
 * archive_out.h - the file that export and export-bundle write an
 * archive to.
 */
#ifndef INSPECT_ARCHIVE_OUT_H
#define INSPECT_ARCHIVE_OUT_H

struct archive;

/*
 * Create out, which must not exist, and open ar on it. One open with
 * O_EXCL checks and creates, so a symlink planted at out in a shared
 * /tmp is never followed. Returns the file descriptor, which the caller
 * closes after archive_write_close(), or -1 with the error set.
 */
int inspect_archive_create(struct archive *ar, const char *out);

#endif
