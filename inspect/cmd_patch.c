/*
 * cmd_patch.c - "runbundle patch": the workspace diff between two steps
 * as a unified diff that git apply and patch -p1 apply (patch.h).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "inspect/commands.h"
#include "inspect/error.h"
#include "inspect/output.h"
#include "inspect/patch.h"

struct patch_args {
	const char *path;
	const char *from, *to;
	const char *const *paths;
	size_t n_paths;
	int json;
};

static void file_json(const char *path, int change, int binary,
		      uint64_t added, uint64_t removed, void *arg)
{
	cJSON *row = cJSON_CreateObject();
	char code[2] = { (char)change, 0 };

	cJSON_AddStringToObject(row, "path", path);
	cJSON_AddStringToObject(row, "change", code);
	cJSON_AddBoolToObject(row, "binary", binary);
	out_add_num(row, "lines_added", added);
	out_add_num(row, "lines_removed", removed);
	cJSON_AddItemToArray(arg, row);
}

static cJSON *stats_json(const struct inspect_patch_stats *s)
{
	cJSON *o = cJSON_CreateObject();

	out_add_num(o, "added", s->added);
	out_add_num(o, "modified", s->modified);
	out_add_num(o, "deleted", s->deleted);
	out_add_num(o, "mode", s->mode);
	out_add_num(o, "binary", s->binary);
	out_add_num(o, "not_files", s->skipped);
	out_add_num(o, "lines_added", s->lines_added);
	out_add_num(o, "lines_removed", s->lines_removed);
	return o;
}

static int run_json(struct inspect_view *v, size_t from, size_t to,
		    struct inspect_patch_options *opts)
{
	struct inspect_patch_stats stats;
	cJSON *o = cJSON_CreateObject();
	cJSON *files = cJSON_AddArrayToObject(o, "files");
	char *diff = NULL;
	size_t len = 0;
	int rc;

	opts->out = open_memstream(&diff, &len);
	opts->on_file = file_json;
	opts->arg = files;
	if (!opts->out) {
		cJSON_Delete(o);
		cli_error("cannot diff: out of memory");
		return CLI_EXIT_ERROR;
	}
	rc = inspect_patch(v->bundle, &v->steps[from].root, &v->steps[to].root,
			   opts, &stats);
	fclose(opts->out);
	if (rc < 0) {
		free(diff);
		cJSON_Delete(o);
		return out_fail();
	}
	out_add_num(o, "from", from);
	out_add_num(o, "to", to);
	cJSON_AddItemToObject(o, "stats", stats_json(&stats));
	cJSON_AddStringToObject(o, "diff", diff ? diff : "");
	free(diff);
	return out_json(o);
}

static int run(const struct patch_args *a)
{
	struct inspect_patch_options opts = { .paths = a->paths,
					      .n_paths = a->n_paths,
					      .out = stdout };
	struct inspect_patch_stats stats;
	struct inspect_view v;
	size_t from, to;
	int rc = out_open(&v, a->path);

	if (rc)
		return rc;
	if (inspect_view_step(&v, a->from, &from) < 0 ||
	    inspect_view_step(&v, a->to, &to) < 0) {
		inspect_view_close(&v);
		return out_fail();
	}
	if (a->json)
		rc = run_json(&v, from, to, &opts);
	else if (inspect_patch(v.bundle, &v.steps[from].root,
			       &v.steps[to].root, &opts, &stats) < 0)
		rc = out_fail();
	inspect_view_close(&v);
	if (fflush(stdout) != 0) {
		cli_error("cannot write the diff: 'stdout': write failed");
		return CLI_EXIT_ERROR;
	}
	return rc;
}

int cmd_patch(int argc, char **argv, const struct cli_command *self)
{
	static const struct option long_options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	struct patch_args a = { .from = "initial", .to = "final" };
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		switch (c) {
		case 'j':
			a.json = 1;
			break;
		case 'f':
			a.from = optarg;
			break;
		case 't':
			a.to = optarg;
			break;
		default:
			return cli_usage_error(self, "invalid option: '%s'",
					       argv[optind - 1]);
		}
	}
	if (argc - optind < 1)
		return cli_usage_error(self, "missing BUNDLE");
	a.path = argv[optind];
	a.paths = (const char *const *)argv + optind + 1;
	a.n_paths = (size_t)(argc - optind - 1);
	return run(&a);
}
