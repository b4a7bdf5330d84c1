/*
 * patch.h - the workspace diff between two snapshots as a unified diff
 * in git's extended format, which both "git apply" and "patch -p1"
 * apply.
 *
 * Which changes come out as what:
 *  - a file or symlink added, deleted or modified: "diff --git" with
 *    "new file mode", "deleted file mode" or "old mode"/"new mode", and
 *    the hunks of "diff -u" (diffutils) run on the two contents. A
 *    symlink is mode 120000 with its target as content, as git writes it.
 *  - a change of kind (file to symlink, for example) or of a symlink's
 *    target: a deletion, then an addition, because patch(1) does not
 *    patch a symlink in place.
 *  - a binary file (a NUL byte in its first 8000 bytes, git's rule): the
 *    line "Binary files a/P and b/P differ" alone. Both tools skip it,
 *    so applying the patch leaves that file unchanged. A file larger
 *    than 1 GiB is noted the same way instead of being diffed.
 *  - directories, fifos, devices and unreadable entries: left out and
 *    counted in skipped; git does not track them either.
 *
 * Names are quoted the way git quotes them, with C escapes inside double
 * quotes, when they contain a control character, a quote, a backslash or
 * a byte above 0x7f. A name with a space gets a tab after it on the
 * "---" and "+++" lines, so that patch(1) finds where the name ends.
 *
 * Why diff(1): Debian packages no diff library (no libxdiff), diffutils
 * is an essential package present on every Debian system, and its
 * output is the reference that patch(1) was written against. Each
 * modified text file costs one diff process and two temporary files; a
 * file added or deleted whole gets the same hunk without them.
 *
 * Errors: returns 0, or -1 with the message in inspect_error().
 */
#ifndef INSPECT_PATCH_H
#define INSPECT_PATCH_H

#include <stdint.h>
#include <stdio.h>

#include "bundle/bundle.h"

struct inspect_patch_stats {
	uint64_t added, deleted, modified, mode; /* paths, by change */
	uint64_t binary;			 /* of those, binary */
	uint64_t skipped;			 /* not files */
	uint64_t lines_added, lines_removed;
};

/* A callback per changed path, for --json; may be NULL. path is raw;
 * change is 'A', 'D', 'M' or 'T'. */
typedef void (*inspect_patch_file_fn)(const char *path, int change,
				      int binary, uint64_t lines_added,
				      uint64_t lines_removed, void *arg);

/* A writer of one hunk line (with its newline, if any) to out, used in
 * place of fwrite(); line may contain NUL bytes. */
typedef void (*inspect_patch_line_fn)(const char *line, size_t len,
				      FILE *out);

struct inspect_patch_options {
	const char *const *paths; /* limit to these paths and below */
	size_t n_paths;
	FILE *out;		  /* where the diff goes; NULL: count only */
	inspect_patch_line_fn put_line; /* NULL: fwrite() */
	inspect_patch_file_fn on_file;
	void *arg;
};

/* Diff tree old_root (NULL: empty) against new_root into options->out
 * and fill *stats (zeroed first). */
int inspect_patch(struct bundle *bundle, const struct bundle_id *old_root,
		  const struct bundle_id *new_root,
		  const struct inspect_patch_options *options,
		  struct inspect_patch_stats *stats);

#endif
