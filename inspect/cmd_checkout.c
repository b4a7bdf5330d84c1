/*
 * cmd_checkout.c - "runbundle checkout": recreate a stored snapshot.
 *
 * SNAPSHOT is "latest", the event number of a snapshot event, or a hex
 * prefix (at least 4 digits) of a snapshot's root tree id, as
 * bundle_snapshot_find() describes. Exit status 0 when every entry was
 * recreated, 1 when some were skipped (entries that were unreadable or
 * kept changing when snapshotted, and sockets), 2 for usage, 3 when the
 * checkout failed.
 */
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "bundle/bundle.h"
#include "bundle/checkout.h"
#include "bundle/snapshot.h"
#include "cli/cli.h"
#include "inspect/commands.h"
#include "inspect/error.h"
#include "inspect/output.h"
#include "inspect/signals.h"
#include "inspect/view.h"

static void print_skip(const char *path, enum bundle_entry_kind kind,
		       const char *why, void *arg)
{
	(void)kind;
	(void)arg;
	cli_error("not checked out: '%s': %s", path, why);
}

static int run(const char *path, const char *name, const char *dir,
	       const struct bundle_checkout_options *options)
{
	struct bundle_checkout_options with_root = *options;
	struct bundle_checkout_stats stats = {0};
	struct bundle_snapshot snapshot;
	struct bundle *bundle = bundle_open(path, BUNDLE_READ);
	int rc;

	if (!bundle) {
		inspect_open_error(path);
		return cli_error_from(inspect_error(), inspect_error_hint());
	}
	rc = bundle_snapshot_find(bundle, name, &snapshot);
	with_root.root = &snapshot.root_meta;
	if (rc == 0) {
		inspect_signal_note("runbundle: the tree is incomplete: '%s': "
				    "a signal stopped the checkout\nhint: "
				    "remove '%s' before you run the command "
				    "again\n", dir, dir);
		inspect_catch_signals_note();
		rc = bundle_checkout(bundle, &snapshot.root, dir, &with_root,
				     &stats);
		inspect_signal_note(NULL);
	}
	if (rc < 0) {
		cli_error_from(bundle_error(), bundle_error_hint());
		if (rc < 0 && stats.started)
			inspect_note_partial(dir);
		bundle_close(bundle);
		return CLI_EXIT_ERROR;
	}
	bundle_close(bundle);
	/* Every unreadable entry is skipped, so an incomplete snapshot
	 * with none is one whose root could not be read. */
	if (!snapshot.complete && stats.skipped == 0) {
		print_skip(".", BUNDLE_ENTRY_ERROR,
			   "could not be read when snapshotted", NULL);
		stats.skipped++;
	}
	inspect_note_setid(stats.setid_cleared);
	return stats.skipped ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

int cmd_checkout(int argc, char **argv, const struct cli_command *self)
{
	static const struct option long_options[] = {
		{"force", no_argument, NULL, 'f'},
		{"owner", no_argument, NULL, 'o'},
		{"keep-setuid", no_argument, NULL, 's'},
		{NULL, 0, NULL, 0},
	};
	static const char *const required[] = {
		"BUNDLE", "SNAPSHOT", "DIR", NULL
	};
	struct bundle_checkout_options options = {.on_skip = print_skip};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", long_options, NULL)) != -1) {
		switch (c) {
		case 'f':
			options.force = 1;
			break;
		case 'o':
			options.owner = 1;
			break;
		case 's':
			options.keep_setid = 1;
			break;
		default:
			return cli_option_error(self, c, argv);
		}
	}
	if (cli_operands(self, argc, argv, optind, required, 3,
			 "BUNDLE SNAPSHOT DIR"))
		return CLI_EXIT_USAGE;

	/* Refused before anything is written: without CAP_CHOWN the first
	 * owner to restore fails, after the files are already there. */
	if (options.owner && geteuid() != 0) {
		cli_error("cannot restore owners: '--owner': only root can "
			  "give files to other users");
		cli_hint("run as root, or leave out --owner");
		return CLI_EXIT_ERROR;
	}
	return run(argv[optind], argv[optind + 1], argv[optind + 2], &options);
}
