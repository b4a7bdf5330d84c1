/*
 * cmd_export_bundle.c - "runbundle export-bundle" and "runbundle
 * import": the whole bundle to and from the open layout (layout.h).
 */
#include <getopt.h>
#include <string.h>

#include "cli/cli.h"
#include "inspect/commands.h"
#include "inspect/error.h"
#include "inspect/integrity.h"
#include "inspect/layout.h"
#include "inspect/output.h"

static void print_stats(const char *verb, const char *out,
			const struct inspect_layout_stats *s, int json)
{
	char root[BUNDLE_ID_HEX_LEN + 1] = "";

	if (s->has_root)
		bundle_id_to_hex(&s->root, root);
	if (json) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "out", out);
		cJSON_AddStringToObject(o, "state", s->finalized ? "finalized" :
								   "writing");
		if (s->has_root)
			cJSON_AddStringToObject(o, "root", root);
		else
			cJSON_AddNullToObject(o, "root");
		out_add_num(o, "events", s->events);
		out_add_num(o, "objects", s->objects);
		out_add_num(o, "bytes", s->bytes);
		out_json(o);
		return;
	}
	out_field(verb, 9, out);
	printf("%-9s%llu events, %llu objects, %llu bytes\n", "",
	       (unsigned long long)s->events, (unsigned long long)s->objects,
	       (unsigned long long)s->bytes);
	printf("%-9s%s\n", "root", s->has_root ? root : "none (incomplete)");
}

static int parse(int argc, char **argv, const struct cli_command *self,
		 const char **out, int *json)
{
	static const struct option long_options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const import_input[] = { "FILE.tar.zst", NULL };
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:", long_options, NULL)) != -1) {
		if (cli_short_value_check(self, long_options, c, argv))
			return CLI_EXIT_USAGE;
		if (c == 'j')
			*json = 1;
		else if (c == 'o')
			*out = optarg;
		else
			return cli_option_error(self, c, argv);
	}
	if (!*out)
		return cli_usage_error(self, "missing -o: give the "
				       "file to write");
	if (strcmp(self->name, "import") == 0)
		return cli_operands(self, argc, argv, optind, import_input, 1,
				    "FILE.tar.zst");
	return cli_one_bundle(self, argc, argv, optind);
}

int cmd_export_bundle(int argc, char **argv, const struct cli_command *self)
{
	struct inspect_layout_stats stats;
	const char *out = NULL;
	int json = 0, rc = parse(argc, argv, self, &out, &json);
	int wal_missing;

	if (rc)
		return rc;

	/* An unfinalized bundle in WAL mode without a -wal file beside it
	 * is either one whose writer closed it, or a copy that may lack
	 * committed events, which the export would leave out: it warns.
	 * Checked before the bundle is opened, which may create a -wal. */
	wal_missing = inspect_wal_missing(argv[optind]);
	if (inspect_layout_export(argv[optind], out, &stats) < 0) {
		rc = out_fail();
		if (wal_missing)
			inspect_wal_warn(argv[optind]);
		return rc;
	}
	if (wal_missing && !stats.finalized)
		inspect_wal_warn(argv[optind]);
	print_stats("exported", out, &stats, json);
	return CLI_EXIT_OK;
}

int cmd_import(int argc, char **argv, const struct cli_command *self)
{
	struct inspect_layout_stats stats;
	const char *out = NULL;
	int json = 0, rc = parse(argc, argv, self, &out, &json);

	if (rc)
		return rc;
	if (inspect_layout_import(argv[optind], out, &stats) < 0)
		return out_fail();
	print_stats("imported", out, &stats, json);
	return CLI_EXIT_OK;
}
