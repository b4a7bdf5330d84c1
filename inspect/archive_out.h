/*
 * archive_out.h - the file that export and export-bundle write an
 * archive to.
 */
#ifndef INSPECT_ARCHIVE_OUT_H
#define INSPECT_ARCHIVE_OUT_H

struct archive;

/*
 * Check that out does not exist, create a temporary file beside it and
 * open ar on that. One open with O_EXCL creates it, so a symlink
 * planted in a shared /tmp is never followed. Returns the file
 * descriptor, which the caller passes to inspect_archive_finish() after
 * archive_write_close(), or -1 with the error set.
 */
int inspect_archive_create(struct archive *ar, const char *out);

/* Set the error of a failed write of ar, which inspect_archive_create()
 * opened for out. Returns -1. */
int inspect_archive_write_error(struct archive *ar, const char *out);

/*
 * Close fd. When ok, sync the archive first and rename it to out,
 * unless out exists by now; otherwise remove it. Returns 0, or -1 with
 * the error set when ok was true.
 */
int inspect_archive_finish(int fd, const char *out, int ok);

#endif
