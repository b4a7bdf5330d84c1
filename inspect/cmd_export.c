/*
 * cmd_export.c - "runbundle export": the workspace at one step as a tar
 * archive (pax format, optionally zstd-compressed) written with
 * libarchive, or as a directory (bundle_checkout).
 *
 * The archive keeps modes, owners, mtimes with nanoseconds, symlinks,
 * hardlinks and special files. Entries whose content was never stored
 * (unreadable, or changing while read) are left out and reported. A
 * sparse file is written with its holes as zeros.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/checkout.h"
#include "cli/cli.h"
#include "inspect/archive_out.h"
#include "inspect/commands.h"
#include "inspect/content.h"
#include "inspect/error.h"
#include "inspect/integrity.h"
#include "inspect/output.h"

struct export_ctx {
	struct bundle *bundle;
	struct archive *ar;
	struct archive_entry *entry;
	uint64_t files, dirs, symlinks, specials, skipped, bytes;
	int keep_setid; /* for dir: --keep-setuid */
	int fd;		/* the archive's file, once created, or -1 */
	const char *out;
	int partial;	/* for dir: a failed export left part of it */
};

static int ar_fail(struct export_ctx *c, const char *path)
{
	char name[1024];

	if (archive_errno(c->ar) > 0)
		return inspect_archive_write_error(c->ar, c->out);
	bundle_name_escape(name, sizeof(name), (const unsigned char *)path,
			   strlen(path));
	inspect_set_error("cannot write archive entry: '%s': %s", name,
			  archive_error_string(c->ar));
	return -1;
}

static int write_data(const void *data, size_t len, void *arg)
{
	struct export_ctx *c = arg;

	if (archive_write_data(c->ar, data, len) != (la_ssize_t)len)
		return inspect_archive_write_error(c->ar, c->out);
	c->bytes += len;
	return 0;
}

/*
 * Fail a file larger than the file system of the archive can hold. Its
 * holes are written as zeros, so the archive would grow past that size,
 * and zeros up to an offset of 2^62 bytes take centuries at 1 GB/s.
 * NOTE: where the file system allows 2^63 bytes (tmpfs, XFS, btrfs),
 * such a file passes, and its zeros are written until the disk is full.
 */
static int check_size(struct export_ctx *c, const char *path,
		      const struct bundle_tree_entry *e)
{
	uint64_t limit;
	char *name;

	if (e->kind != BUNDLE_ENTRY_FILE ||
	    !bundle_file_size_limit(c->fd, e->size, &limit))
		return 0;
	name = bundle_name_escape_dup((const unsigned char *)path,
				      strlen(path));
	inspect_set_error("cannot export file: '%s': %llu bytes: more than "
			  "the %llu bytes that the file system of '%s' can "
			  "hold",
			  name ? name : "(out of memory)",
			  (unsigned long long)e->size,
			  (unsigned long long)limit, c->out);
	inspect_set_hint("export with --format dir, which keeps the holes, "
			 "to a file system that holds larger files");
	free(name);
	return -1;
}

static void fill(struct archive_entry *ae, const char *path,
		 const struct bundle_tree_entry *e)
{
	archive_entry_clear(ae);
	archive_entry_set_pathname(ae, path);
	archive_entry_set_mode(ae, e->mode);
	archive_entry_set_uid(ae, e->uid);
	archive_entry_set_gid(ae, e->gid);
	archive_entry_set_mtime(ae, e->mtime_sec, e->mtime_nsec);
	if (e->kind == BUNDLE_ENTRY_FILE)
		archive_entry_set_size(ae, (la_int64_t)e->size);
	else
		archive_entry_set_size(ae, 0);
}

static int on_entry(const char *path, const struct bundle_tree_entry *e,
		    void *arg)
{
	struct export_ctx *c = arg;
	char text[BUNDLE_TREE_TEXT_MAX + 1];
	int rc;

	if (e->kind == BUNDLE_ENTRY_ERROR || e->kind == BUNDLE_ENTRY_CHANGED ||
	    (e->kind == BUNDLE_ENTRY_SPECIAL && S_ISSOCK(e->mode))) {
		char *name = bundle_name_escape_dup((const unsigned char *)
						    path, strlen(path));

		cli_error("not exported: '%s': %s",
			  name ? name : "(out of memory)",
			  S_ISSOCK(e->mode) ? "a socket" :
			  "its content was not stored");
		free(name);
		c->skipped++;
		return 0;
	}
	if (check_size(c, path, e) < 0)
		return -1;
	fill(c->entry, path, e);
	if (e->text_len)
		memcpy(text, e->text, e->text_len);
	text[e->text_len] = '\0';
	if (e->kind == BUNDLE_ENTRY_SYMLINK)
		archive_entry_set_symlink(c->entry, text);
	if (e->kind == BUNDLE_ENTRY_HARDLINK) {
		archive_entry_set_hardlink(c->entry, text);
		archive_entry_set_mode(c->entry, (e->mode & 07777) | S_IFREG);
	}
	if (e->kind == BUNDLE_ENTRY_SPECIAL)
		archive_entry_set_rdev(c->entry, (dev_t)e->rdev);
	/* ARCHIVE_WARN is a name that is not valid in the locale's
	 * charset: the pax writer then stores its bytes as they are, with
	 * hdrcharset=BINARY, which is what a snapshot's raw names need. */
	rc = archive_write_header(c->ar, c->entry);
	if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN)
		return ar_fail(c, path);
	c->files += e->kind == BUNDLE_ENTRY_FILE ||
		    e->kind == BUNDLE_ENTRY_HARDLINK;
	c->dirs += e->kind == BUNDLE_ENTRY_DIR;
	c->symlinks += e->kind == BUNDLE_ENTRY_SYMLINK;
	c->specials += e->kind == BUNDLE_ENTRY_SPECIAL;
	if (e->kind == BUNDLE_ENTRY_FILE)
		return inspect_content_stream(c->bundle, e, write_data, c);
	return 0;
}

static int open_archive(struct export_ctx *c, const char *format,
			const char *out)
{
	c->ar = archive_write_new();
	c->entry = archive_entry_new();
	if (!c->ar || !c->entry) {
		inspect_set_error("cannot create archive: out of memory");
		return -1;
	}
	/* Full pax, because pax_restricted writes an mtime's nanoseconds
	 * only for an entry that needs an extended header anyway (a long
	 * name, say), and drops them from every other entry. */
	if (archive_write_set_format_pax(c->ar) != ARCHIVE_OK ||
	    (strcmp(format, "tar.zst") == 0 &&
	     archive_write_add_filter_zstd(c->ar) != ARCHIVE_OK)) {
		inspect_set_error("cannot create archive: '%s': %s", out,
				  inspect_archive_reason(c->ar));
		return -1;
	}
	c->fd = inspect_archive_create(c->ar, out);
	return c->fd < 0 ? -1 : 0;
}

static int export_tar(struct export_ctx *c, const struct bundle_id *root,
		      const char *format, const char *out)
{
	int rc;

	c->out = out;
	rc = open_archive(c, format, out);
	if (rc == 0)
		rc = inspect_tree_walk(c->bundle, root, "", on_entry, c);
	/* Once marked failed, the close does not pad the failed entry
	 * with zeros up to its header's size, which can be terabytes. */
	if (rc != 0 && c->fd >= 0) {
		archive_write_fail(c->ar);
		archive_write_close(c->ar);
	} else if (c->fd >= 0 && archive_write_close(c->ar) != ARCHIVE_OK) {
		rc = inspect_archive_write_error(c->ar, out);
	}
	archive_write_free(c->ar);
	archive_entry_free(c->entry);
	if (inspect_archive_finish(c->fd, out, rc == 0) < 0)
		rc = -1;
	return rc ? -1 : 0;
}

static void print_skip(const char *path, enum bundle_entry_kind kind,
		       const char *why, void *arg)
{
	(void)kind;
	((struct export_ctx *)arg)->skipped++;
	cli_error("not exported: '%s': %s", path, why);
}

static int export_dir(struct export_ctx *c, const struct bundle_id *root,
		      const char *out)
{
	struct bundle_checkout_options opts = {
		.on_skip = print_skip,
		.arg = c,
		.keep_setid = c->keep_setid,
		.not_empty_hint = "remove it or name another directory with -o",
	};
	struct bundle_checkout_stats st = {0};

	c->skipped = 0;
	if (bundle_checkout(c->bundle, root, out, &opts, &st) < 0) {
		c->partial = st.started;
		return inspect_take_error(bundle_error(), bundle_error_hint());
	}
	c->files = st.files;
	c->dirs = st.dirs;
	c->symlinks = st.symlinks;
	c->specials = st.specials;
	c->bytes = st.bytes;
	inspect_note_setid(st.setid_cleared);
	return 0;
}

static void print_result(const struct export_ctx *c, const char *format,
			 const char *out, size_t step, int json)
{
	cJSON *o;

	if (!json) {
		char line[1024];

		snprintf(line, sizeof(line), "%s (%s): step %zu, %llu files, "
			 "%llu dirs, %llu symlinks, %llu bytes", out, format,
			 step, (unsigned long long)c->files,
			 (unsigned long long)c->dirs,
			 (unsigned long long)c->symlinks,
			 (unsigned long long)c->bytes);
		out_field("exported ", 9, line);
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "out", out);
	cJSON_AddStringToObject(o, "format", format);
	out_add_num(o, "step", step);
	out_add_num(o, "files", c->files);
	out_add_num(o, "dirs", c->dirs);
	out_add_num(o, "symlinks", c->symlinks);
	out_add_num(o, "specials", c->specials);
	out_add_num(o, "skipped", c->skipped);
	out_add_num(o, "bytes", c->bytes);
	out_json(o);
}

/* Print on stderr the lines about an unfinalized bundle, as the other
 * readers print them. */
static void warn_incomplete(const struct inspect_bundle_state *state,
			    const char *path, int flags)
{
	char hint[512];

	snprintf(hint, sizeof(hint), "pass --allow-incomplete to export the "
		 "last snapshot it has; 'runbundle verify %s' checks it",
		 path);
	inspect_incomplete_warn(state, path, flags, hint);
}

static int run(const char *path, const char *format, const char *step_name,
	       const char *out, int json, int keep_setid, int flags)
{
	struct export_ctx c = { .keep_setid = keep_setid, .fd = -1 };
	struct inspect_bundle_state state;
	struct inspect_view v;
	size_t step;
	/* Before the bundle is opened, which may create an empty -wal. */
	int wal_missing = inspect_wal_missing(path);
	int rc = out_open(&v, path);

	if (rc)
		return rc;
	/* A killed recording has no final step, and its last snapshot
	 * would pass for the run's result, so it needs the flag. */
	inspect_bundle_state_set(&state, &v, wal_missing);
	if (inspect_incomplete_fails(!v.finalized, state.wal_missing,
				     v.n_events, flags)) {
		inspect_view_close(&v);
		warn_incomplete(&state, path, flags);
		return CLI_EXIT_FAIL;
	}
	/* A changed event can name another sound tree as the step's
	 * snapshot, so the chain is checked before anything is written. */
	rc = inspect_integrity_warn(&v, path, flags);
	if (rc) {
		inspect_view_close(&v);
		return rc;
	}
	c.bundle = v.bundle;
	if (inspect_view_step(&v, step_name, &step) < 0)
		rc = -1;
	else if (strcmp(format, "dir") == 0)
		rc = export_dir(&c, &v.steps[step].root, out);
	else
		rc = export_tar(&c, &v.steps[step].root, format, out);
	/* Every unreadable entry is skipped, so an incomplete snapshot
	 * with none is one whose root could not be read. */
	if (rc == 0 && !v.steps[step].complete && c.skipped == 0) {
		cli_error("not exported: '.': its content was not stored");
		c.skipped++;
	}
	inspect_view_close(&v);
	if (rc < 0) {
		rc = out_fail();
		if (c.partial)
			inspect_note_partial(out);
		return rc;
	}
	print_result(&c, format, out, step, json);
	warn_incomplete(&state, path, flags);
	return c.skipped ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

int cmd_export(int argc, char **argv, const struct cli_command *self)
{
	static const struct option long_options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "format", required_argument, NULL, 'f' },
		{ "step", required_argument, NULL, 's' },
		{ "keep-setuid", no_argument, NULL, 'k' },
		{ "allow-incomplete", no_argument, NULL, 'a' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const char *format = NULL, *step = "final", *out = NULL;
	int c, rc, json = 0, keep_setid = 0, flags = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:", long_options, NULL)) != -1) {
		if (cli_short_value_check(self, long_options, c, argv))
			return CLI_EXIT_USAGE;
		switch (c) {
		case 'j': json = 1; break;
		case 'k': keep_setid = 1; break;
		case 'a': flags = INSPECT_CHECK_ALLOW_INCOMPLETE; break;
		case 'f': format = optarg; break;
		case 's': step = optarg; break;
		case 'o': out = optarg; break;
		default:
			return cli_option_error(self, c, argv);
		}
	}
	if (!format)
		return cli_usage_error(self, "missing --format: give tar, "
				       "tar.zst or dir");
	if (strcmp(format, "tar") != 0 && strcmp(format, "tar.zst") != 0 &&
	    strcmp(format, "dir") != 0)
		return cli_usage_error(self, "--format must be tar, tar.zst "
				       "or dir: '%s'", format);
	if (!out)
		return cli_usage_error(self, "missing -o: give the "
				       "file or directory to write");
	if (keep_setid && strcmp(format, "dir") != 0)
		return cli_usage_error(self, "invalid --keep-setuid: '%s': "
				       "it applies to --format dir only, and "
				       "an archive keeps the bits", format);
	if ((rc = cli_one_bundle(self, argc, argv, optind)) != 0)
		return rc;
	return run(argv[optind], format, step, out, json, keep_setid,
		   flags);
}
