/*
 * snapshot.h - store a directory as a Merkle tree of tree objects, find
 * stored snapshots, and list what changed between two of them.
 *
 * A snapshot walks a directory depth first in tree order and stores one
 * tree object per directory (bundle/tree.h), the content of every regular
 * file (bundle_put_fd), and one event of kind "snapshot" whose data names
 * the root tree. Objects and event are committed in one transaction, so
 * a snapshot is stored whole or not at all.
 *
 * Invariants:
 *  1. Symlinks are never followed, special files are never opened, and
 *     the walk does not leave the directory through a symlink.
 *  2. Nothing is stored silently wrong. A file that cannot be read
 *     becomes an ERROR entry, and a file whose size, mtime or ctime
 *     differs after reading is read again, up to
 *     BUNDLE_SNAPSHOT_READ_TRIES times, and becomes a CHANGED entry when
 *     it keeps changing. A file is opened without blocking. One that
 *     another replaced between its lstat and its open counts as a
 *     change too: a regular file there is read within the same tries,
 *     and anything else, such as a FIFO, is CHANGED at once. Either entry makes
 *     the snapshot incomplete, and the event records that.
 *  3. Stat cache: the previous snapshot of the same directory (by its
 *     absolute path) serves as the cache, like git's index. A file whose
 *     mode, uid, gid, size and mtime (in nanoseconds) equal its entry
 *     there, and whose device, inode and ctime equal the record kept
 *     beside that tree (the stat_cache table), reuses that entry's
 *     content without being read. The
 *     exception is git's rule for racy timestamps: an mtime less than
 *     BUNDLE_SNAPSHOT_RACY_SEC before the previous snapshot started is
 *     not trusted, because a file written within the timestamp
 *     granularity of its last read may have changed without a new mtime.
 *  4. Memory: the walk keeps one directory listing and one tree per level
 *     of nesting, plus the path of every file with more than one link, so
 *     it grows with the size of the largest directories and the number of
 *     hardlinked files, never with the size of the files.
 *  5. Absent while empty: a directory named in options.absent_if_empty
 *     is left out, with no entry in its parent's tree, while it is
 *     empty or contains only listed directories that are left out
 *     themselves. A snapshot taken while such directories exist then
 *     lists the same entries as one taken after they are removed, and
 *     its diff from that one is empty. The root tree ids are the same
 *     too unless the parent of a listed directory is below the root,
 *     because the mkdir and rmdir change that parent's mtime. Anything
 *     else in a listed directory, an entry that the excludes leave out
 *     included, keeps it and the listed directories above it.
 *
 * The event data of a snapshot (docs/bundle-format.md) has "path",
 * "root" (hex tree id), "complete", "start_sec", "start_nsec",
 * "excludes", "hidden", the counts of struct bundle_snapshot_stats, and
 * the root directory's "root_mode", "root_uid", "root_gid",
 * "root_mtime_sec" and "root_mtime_nsec".
 *
 * Errors: functions return 0 on success and -1 on failure, with the
 * message in bundle_error(). Problems with single files are not failures:
 * they are entries, reported through on_problem.
 */
#ifndef BUNDLE_SNAPSHOT_H
#define BUNDLE_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "bundle/bundle.h"
#include "bundle/checkout.h"
#include "bundle/tree.h"

#define BUNDLE_SNAPSHOT_READ_TRIES 3
#define BUNDLE_SNAPSHOT_MAX_DEPTH  512
/* Two seconds: the coarsest mtime granularity of a common Linux
 * filesystem (FAT); ext4 and tmpfs are much finer. */
#define BUNDLE_SNAPSHOT_RACY_SEC 2

/* Counts of one snapshot; bytes are file sizes, holes included. */
struct bundle_snapshot_stats {
	uint64_t files; /* regular files, hardlinks included */
	uint64_t dirs;	/* directories below the root */
	uint64_t symlinks;
	uint64_t specials;
	uint64_t errors;     /* ERROR entries */
	uint64_t changed;    /* CHANGED entries */
	uint64_t bytes;	     /* total size of the regular files */
	uint64_t bytes_read; /* bytes read this time, not from the cache */
	uint64_t cached;     /* files whose content came from the cache */
};

struct bundle_snapshot_options {
	/* Patterns for fnmatch(3). One without '/' is matched against each
	 * name, one with '/' against the whole path from the snapshot root
	 * (FNM_PATHNAME), and a leading '/' only anchors the pattern there,
	 * as in gitignore. A matching entry, and everything below a matching
	 * directory, is left out. The patterns are recorded in the event. */
	const char *const *excludes;
	size_t n_excludes;

	/* Paths from the snapshot root, such as ".env", left out like the
	 * excludes, each with everything below it: the parts that the
	 * sandbox hides from the agent, which a reader of the bundle must
	 * not see either. Each is a whole path, not a pattern, written as
	 * in absent_if_empty; "." leaves out everything. The paths are
	 * recorded in the event, under "hidden". */
	const char *const *hidden;
	size_t n_hidden;
	int no_cache; /* read every file, ignoring the previous snapshot */

	/* Directories to leave out while they are empty (invariant 5):
	 * paths from the snapshot root such as ".git/hooks", without a
	 * leading or trailing '/' and without "." or ".." components.
	 * A file or symlink at a listed path is stored as usual, and so is
	 * a listed directory that cannot be read. Only the directories
	 * on the way to a listed path compare their names with the list.
	 * The list is not recorded in the event. */
	const char *const *absent_if_empty;
	size_t n_absent_if_empty;

	/* Called for every entry that makes the snapshot incomplete, with
	 * its path from the root escaped for display, its kind (ERROR or
	 * CHANGED) and the reason. May be NULL. */
	void (*on_problem)(const char *path, enum bundle_entry_kind kind,
			   const char *why, void *arg);

	/* Called after each directory is stored, and between the files of
	 * a directory after every 8 MiB read, with the counts so far, for
	 * progress display. May be NULL. */
	void (*on_progress)(const struct bundle_snapshot_stats *stats,
			    void *arg);
	void *arg; /* passed to on_problem and on_progress */
};

/* A stored snapshot. */
struct bundle_snapshot {
	uint64_t seq;	       /* its event */
	struct bundle_id root; /* its root tree */
	int complete;	       /* no ERROR or CHANGED entry */
	struct bundle_snapshot_stats stats;
	/* The root directory's own mode, owner and mtime; pass it to
	 * bundle_checkout as options.root to restore them. */
	struct bundle_root_meta root_meta;
};

/*
 * Snapshot dir into bundle, which must be open for writing, and fill
 * *snapshot. Must not be called inside bundle_begin(): it runs its own
 * transaction. options may be NULL.
 */
int bundle_snapshot_take(struct bundle *bundle, const char *dir,
			 const struct bundle_snapshot_options *options,
			 struct bundle_snapshot *snapshot);

/*
 * Find a stored snapshot by name: "latest" (the last snapshot event), a
 * decimal event number, or a hex prefix of at least 4 digits of a
 * snapshot's root tree id, which must match one root only. A decimal name
 * is tried as an event number first. A full 64-digit id of any stored
 * tree also works, as snapshot 0. Fails, naming the value, when nothing
 * or more than one snapshot matches.
 */
int bundle_snapshot_find(struct bundle *bundle, const char *name,
			 struct bundle_snapshot *snapshot);

/* Load the snapshot of event seq; fails when it is not a snapshot. */
int bundle_snapshot_load(struct bundle *bundle, uint64_t seq,
			 struct bundle_snapshot *snapshot);

/* The kind of change at one path between two snapshots. */
enum bundle_change {
	BUNDLE_CHANGE_ADDED = 'A',
	BUNDLE_CHANGE_DELETED = 'D',
	BUNDLE_CHANGE_MODIFIED = 'M', /* content, kind, link target or type */
	BUNDLE_CHANGE_MODE = 'T',     /* only the permission bits */
};

/*
 * Called once per changed path, in tree order. path is the raw path from
 * the root (not NUL-safe for display: escape it with
 * bundle_name_escape()), path_len its length. old is NULL for ADDED, new
 * NULL for DELETED. Returning nonzero stops the diff with that value.
 */
typedef int (*bundle_diff_fn)(const unsigned char *path, size_t path_len,
			      enum bundle_change change,
			      const struct bundle_tree_entry *old,
			      const struct bundle_tree_entry *new, void *arg);

/*
 * List the files added, deleted, modified and mode-changed from the tree
 * old_root to new_root. old_root NULL means an empty tree. Directories
 * themselves are not listed: an added or deleted directory lists every
 * entry below it, and an empty one is listed as itself. Subtrees with
 * the same id are skipped without being loaded. Metadata other than mode
 * and content (mtime, owner) is not a change.
 */
int bundle_snapshot_diff(struct bundle *bundle,
			 const struct bundle_id *old_root,
			 const struct bundle_id *new_root, bundle_diff_fn fn,
			 void *arg);

#endif
