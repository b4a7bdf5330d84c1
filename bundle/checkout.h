/*
 * checkout.h - recreate a stored snapshot in a directory.
 *
 * Files are written with libarchive's archive_write_disk, which restores
 * modes, mtimes (to the nanosecond), symlinks, hardlinks and device
 * nodes, and applies the modes and mtimes of directories after their
 * content is written. Sparse files get their holes back: only the data
 * extents are written, and the file is extended to its size.
 *
 * Invariants:
 *  1. Nothing is written outside the target directory: names come from
 *     trees that bundle_tree_parse() validated, hardlink targets with "."
 *     or ".." components or a leading '/' are rejected, and libarchive
 *     refuses to write through a symlink (ARCHIVE_EXTRACT_SECURE_SYMLINKS
 *     and ARCHIVE_EXTRACT_SECURE_NODOTDOT).
 *  2. File content streams from the bundle in chunks, so memory does not
 *     grow with the size of a file.
 *  3. Entries that cannot be recreated are skipped, reported through
 *     on_skip and counted, and the rest is still checked out. They are
 *     ERROR and CHANGED entries, whose content was never stored, sockets,
 *     and entries that libarchive rejects alone (ARCHIVE_FAILED), such as
 *     a device node without privilege or a path through a symlink. A
 *     skipped directory takes its content with it.
 *
 * Errors: returns 0 on success and -1 on failure, with the message in
 * bundle_error(). A failure leaves what was written so far in place.
 */
#ifndef BUNDLE_CHECKOUT_H
#define BUNDLE_CHECKOUT_H

#include <stdint.h>

#include "bundle/bundle.h"
#include "bundle/tree.h"

/* The metadata of a snapshot's root directory, which is in no tree
 * entry (see struct bundle_snapshot). */
struct bundle_root_meta {
	int have; /* 0 for snapshots that did not record it */
	uint32_t mode;
	uint32_t uid;
	uint32_t gid;
	int64_t mtime_sec;
	uint32_t mtime_nsec;
};

struct bundle_checkout_options {
	int force; /* write into a directory that is not empty */
	/* The hint for a directory that is not empty, for a command that
	 * has no --force. NULL gives checkout's hint, which names it. */
	const char *not_empty_hint;
	int owner; /* restore uid and gid too (needs root) */
	/* Restore the setuid and setgid bits of regular files. Without it
	 * they are cleared: a bundle is untrusted input, and such a file
	 * would run with the rights of its new owner, root's in a checkout
	 * as root. */
	int keep_setid;

	/* Called for each skipped entry, with its path escaped for display,
	 * its kind and the reason. May be NULL. */
	void (*on_skip)(const char *path, enum bundle_entry_kind kind,
			const char *why, void *arg);
	void *arg;
	/* Applied to dir itself once everything below it is written: the
	 * permission bits and mtime, and the owner too with owner set. May
	 * be NULL, and is ignored unless root->have. */
	const struct bundle_root_meta *root;
};

/* Counts of one checkout. */
struct bundle_checkout_stats {
	uint64_t files; /* regular files and hardlinks */
	uint64_t dirs;
	uint64_t symlinks;
	uint64_t specials;
	uint64_t skipped;
	uint64_t bytes; /* content bytes written, holes not included */
	uint64_t setid_cleared; /* files whose setuid or setgid bit was
				 * cleared, without keep_setid */
	int started;		/* dir was created or found empty, so
				 * after a failure it contains the part
				 * written, and only that */
};

/*
 * Write the tree root and everything below it into dir, which is created
 * when missing and must be empty unless options->force is set. options
 * and stats may be NULL. Returns 0, or -1 with bundle_error() set at the
 * first entry that cannot be written; what was written before it stays.
 * A file whose content did not arrive whole (a damaged object, a full
 * disk) is removed, so that no file keeps its recorded size and mtime
 * with other content. The message then names the file and the object or
 * the errno, with a hint to run verify or to free space.
 */
int bundle_checkout(struct bundle *bundle, const struct bundle_id *root,
		    const char *dir,
		    const struct bundle_checkout_options *options,
		    struct bundle_checkout_stats *stats);

/*
 * Return 0 when the file system of fd, an open regular file, can hold a
 * file of size bytes, or 1 with the largest size it can hold in *limit.
 * Returns 0 when fd cannot tell, such as a pipe. fd's offset is kept.
 */
int bundle_file_size_limit(int fd, uint64_t size, uint64_t *limit);

/* Return 1 when dir has no entry but "." and "..", 0 when it has one,
 * and -1 with errno set when it cannot be read. */
int bundle_dir_is_empty(const char *dir);

#endif
