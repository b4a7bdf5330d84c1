/*
 * cmd_patch.c - "runbundle patch": the workspace diff between two steps
 * as a unified diff that git apply and patch -p1 apply (patch.h).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "inspect/commands.h"
#include "inspect/content.h"
#include "inspect/error.h"
#include "inspect/integrity.h"
#include "inspect/output.h"
#include "inspect/patch.h"

struct patch_args {
	const char *path;
	const char *from, *to;
	const char *const *paths;
	size_t n_paths;
	int json;
	int checks; /* enum inspect_check_flags */
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

/* Write one hunk line with each control character other than tab and
 * newline, C1 control and bidirectional override as '?', as show prints
 * text. On a terminal the diff is read, not applied, and the agent
 * wrote the files. */
static void put_line_shown(const char *line, size_t len, FILE *out)
{
	char *piece = malloc(len + 1), *clean = malloc(len + 1);
	size_t at = 0;

	if (!piece || !clean) {
		fprintf(out, "(%zu bytes of a line: out of memory)\n", len);
		free(piece);
		free(clean);
		return;
	}
	while (at < len) {
		size_t n = 0;

		while (at + n < len && line[at + n] != '\n' &&
		       line[at + n] != '\t' && line[at + n] != '\0')
			n++;
		memcpy(piece, line + at, n);
		piece[n] = '\0';
		cli_sanitize(clean, n + 1, piece);
		fputs(clean, out);
		if (at + n < len)
			fputc(line[at + n] == '\0' ? '?' : line[at + n], out);
		at += n + 1;
	}
	free(piece);
	free(clean);
}

/* Nonzero when path is in the snapshot root (the root itself too). */
static int in_snapshot(struct inspect_view *v, const struct bundle_id *root,
		       const char *path)
{
	struct inspect_node node = {0};
	int found = inspect_node_find(v->bundle, root, path, &node) == 0;

	inspect_node_release(&node);
	return found;
}

/* Reject a PATH operand that neither step has, so that a misspelt path
 * is not taken for one without changes. */
static int check_paths(struct inspect_view *v, const struct patch_args *a,
		       size_t from, size_t to)
{
	for (size_t i = 0; i < a->n_paths; i++) {
		const char *p = a->paths[i];
		char shown[512];

		if (in_snapshot(v, &v->steps[from].root, p) ||
		    in_snapshot(v, &v->steps[to].root, p))
			continue;
		cli_sanitize(shown, sizeof(shown), p);
		if (from == to)
			inspect_set_error("no such path: '%s': not in step %zu "
					  "of the run", shown, from);
		else
			inspect_set_error("no such path: '%s': in neither step "
					  "%zu nor step %zu of the run", shown,
					  from, to);
		inspect_set_hint("'runbundle ls %s' lists the paths of the "
				 "final step", a->path);
		return -1;
	}
	return 0;
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
	    inspect_view_step(&v, a->to, &to) < 0 ||
	    check_paths(&v, a, from, to) < 0) {
		inspect_view_close(&v);
		return out_fail();
	}
	if (!a->json && isatty(STDOUT_FILENO))
		opts.put_line = put_line_shown;
	if (a->json)
		rc = run_json(&v, from, to, &opts);
	else if (inspect_patch(v.bundle, &v.steps[from].root,
			       &v.steps[to].root, &opts, &stats) < 0)
		rc = out_fail();
	if (fflush(stdout) != 0) {
		inspect_view_close(&v);
		cli_error("cannot write the diff: 'stdout': write failed");
		return CLI_EXIT_ERROR;
	}
	if (rc == CLI_EXIT_OK)
		rc = inspect_integrity_warn(&v, a->path, a->checks);
	inspect_view_close(&v);
	return rc;
}

int cmd_patch(int argc, char **argv, const struct cli_command *self)
{
	static const struct option long_options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		INSPECT_CHECK_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct patch_args a = { .from = "initial", .to = "final" };
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", long_options, NULL)) != -1) {
		if (inspect_check_option(c, &a.checks))
			continue;
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
			return cli_option_error(self, c, argv);
		}
	}
	if (argc - optind < 1)
		return cli_usage_error(self, "missing bundle: none follows "
				       "the options");
	a.path = argv[optind];
	a.paths = (const char *const *)argv + optind + 1;
	a.n_paths = (size_t)(argc - optind - 1);
	return run(&a);
}
