/*
 * cmd_verify.c - "runbundle verify": check a bundle and print OK or each
 * problem with the events and snapshots it affects.
 *
 * Exit statuses: 0 when the bundle is intact and finalized, or intact
 * with --allow-incomplete given. 1 when problems were found or the
 * bundle is incomplete, 2 for a bad command line, and 3 when the file
 * cannot be opened as a bundle at all. An unfinalized bundle with no
 * events and no -wal beside it fails even with --allow-incomplete: it is
 * most likely a copy taken during record without the -wal that contains
 * the committed events.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bundle/verify.h"
#include "cli/cli.h"
#include "inspect/commands.h"
#include "inspect/integrity.h"

struct verify_args {
	const char *path;
	int json;
	int allow_incomplete;
	int wal_missing; /* not finalized, and no -wal beside it */
};

static int parse_args(int argc, char **argv, const struct cli_command *self,
		      struct verify_args *args)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "allow-incomplete", no_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":", options, NULL)) != -1) {
		if (c == 'j')
			args->json = 1;
		else if (c == 'a')
			args->allow_incomplete = 1;
		else
			return cli_option_error(self, c, argv);
	}
	if (cli_one_bundle(self, argc, argv, optind))
		return CLI_EXIT_USAGE;
	args->path = argv[optind];
	return 0;
}

/* Print one line per affected event. An event whose text has no kind
 * (text that is not JSON, say) is printed without one. */
static void print_affected(const struct bundle_verify_problem *problem)
{
	for (size_t i = 0; i < problem->n_affected; i++) {
		const struct bundle_verify_affected *a = &problem->affected[i];
		char hex[BUNDLE_ID_HEX_LEN + 1];

		printf("  affects event %llu", (unsigned long long)a->seq);
		if (a->kind[0])
			printf(" (%s)", a->kind);
		if (a->has_tree) {
			bundle_id_to_hex(&a->tree, hex);
			printf(", snapshot %s", hex);
		}
		putchar('\n');
	}
	if (problem->n_affected_total > problem->n_affected)
		printf("  affects %llu more events\n",
		       (unsigned long long)(problem->n_affected_total -
					    problem->n_affected));
}

static void print_text(const struct verify_args *args,
		       const struct bundle_verify_report *report, int ok)
{
	char hex[BUNDLE_ID_HEX_LEN + 1];
	char path[512];

	cli_sanitize(path, sizeof(path), args->path);
	for (size_t i = 0; i < report->n_problems; i++) {
		const struct bundle_verify_problem *p = &report->problems[i];

		printf("problem: ");
		if (p->event)
			printf("event %llu: ", (unsigned long long)p->event);
		if (p->has_object) {
			bundle_id_to_hex(&p->object, hex);
			printf("object %s: ", hex);
		}
		printf("%s\n", p->message);
		print_affected(p);
	}
	if (!report->finalized && report->n_events == 0 && args->wal_missing)
		printf("incomplete: '%s' was not finalized and has no "
		       "events, but its committed events may be in the "
		       "missing '%s-wal'\n",
		       path, path);
	else if (!report->finalized && report->n_events == 0)
		printf("incomplete: '%s' was not finalized and has no "
		       "events\n",
		       path);
	else if (!report->finalized)
		printf("incomplete: '%s' was not finalized, so no root digest "
		       "covers its last events; events 1 to %llu of %llu are "
		       "intact\n",
		       path, (unsigned long long)report->verified_events,
		       (unsigned long long)report->n_events);
	if (report->n_problems) {
		printf("%zu problem%s in '%s'\n", report->n_problems,
		       report->n_problems == 1 ? "" : "s", path);
		return;
	}
	if (args->wal_missing)
		inspect_wal_warn(args->path);
	if (!ok && report->n_events > 0)
		cli_hint("pass --allow-incomplete to accept an intact prefix "
			 "of an unfinalized bundle");
	if (!ok)
		return;
	printf("OK: %llu objects, %llu events",
	       (unsigned long long)report->n_objects,
	       (unsigned long long)report->n_events);
	if (!report->finalized)
		printf(", not finalized");
	if (args->wal_missing)
		printf(", and more may be in the missing '%s-wal'", path);
	if (report->has_root) {
		bundle_id_to_hex(&report->root, hex);
		printf(", root digest %s", hex);
	}
	printf("\n");
	/* Chunks stored by a read of a file that kept changing are left
	 * without a reference; they are harmless, so only counted. */
	if (report->n_unreferenced)
		printf("note: %llu unreferenced objects\n",
		       (unsigned long long)report->n_unreferenced);
}

static cJSON *hex_or_null(int has, const struct bundle_id *id)
{
	char hex[BUNDLE_ID_HEX_LEN + 1];

	if (!has)
		return cJSON_CreateNull();
	bundle_id_to_hex(id, hex);
	return cJSON_CreateString(hex);
}

static cJSON *affected_json(const struct bundle_verify_affected *a)
{
	cJSON *item = cJSON_CreateObject();

	cJSON_AddNumberToObject(item, "seq", (double)a->seq);
	cJSON_AddStringToObject(item, "kind", a->kind);
	cJSON_AddItemToObject(item, "snapshot",
			      hex_or_null(a->has_tree, &a->tree));
	return item;
}

static cJSON *problem_json(const struct bundle_verify_problem *p)
{
	cJSON *item = cJSON_CreateObject();
	cJSON *affected = cJSON_CreateArray();

	cJSON_AddStringToObject(item, "message", p->message);
	cJSON_AddItemToObject(item, "object",
			      hex_or_null(p->has_object, &p->object));
	if (p->event)
		cJSON_AddNumberToObject(item, "event", (double)p->event);
	else
		cJSON_AddNullToObject(item, "event");
	for (size_t i = 0; i < p->n_affected; i++)
		cJSON_AddItemToArray(affected, affected_json(&p->affected[i]));
	cJSON_AddItemToObject(item, "affected_events", affected);
	cJSON_AddNumberToObject(item, "affected_events_total",
				(double)p->n_affected_total);
	return item;
}

static int print_json(const struct verify_args *args,
		      const struct bundle_verify_report *report, int ok)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *problems = cJSON_CreateArray();
	char *text;

	cJSON_AddStringToObject(root, "bundle", args->path);
	cJSON_AddBoolToObject(root, "ok", ok);
	cJSON_AddBoolToObject(root, "finalized", report->finalized);
	cJSON_AddBoolToObject(root, "wal_missing", args->wal_missing);
	cJSON_AddNumberToObject(root, "objects", (double)report->n_objects);
	cJSON_AddNumberToObject(root, "events", (double)report->n_events);
	cJSON_AddNumberToObject(root, "verified_events",
				(double)report->verified_events);
	cJSON_AddItemToObject(root, "root",
			      hex_or_null(report->has_root, &report->root));
	for (size_t i = 0; i < report->n_problems; i++)
		cJSON_AddItemToArray(problems,
				     problem_json(&report->problems[i]));
	cJSON_AddItemToObject(root, "problems", problems);

	text = cJSON_Print(root);
	cJSON_Delete(root);
	if (!text) {
		cli_error("cannot print report: '%s': out of memory",
			  args->path);
		return -1;
	}
	printf("%s\n", text);
	cJSON_free(text);
	return 0;
}

int cmd_verify(int argc, char **argv, const struct cli_command *self)
{
	struct verify_args args = {0};
	struct bundle_verify_report report;
	int rc, ok;

	rc = parse_args(argc, argv, self, &args);
	if (rc)
		return rc;

	/* Before the bundle is opened, which may create an empty -wal. */
	args.wal_missing = inspect_wal_missing(args.path);
	if (bundle_verify(args.path, &report))
		return cli_error_from(bundle_error(), bundle_error_hint());

	args.wal_missing = args.wal_missing && !report.finalized;
	ok = report.n_problems == 0 &&
	     (report.finalized || args.allow_incomplete) &&
	     !(args.wal_missing && report.n_events == 0);
	if (args.json)
		rc = print_json(&args, &report, ok);
	else
		print_text(&args, &report, ok);
	bundle_verify_release(&report);

	if (rc)
		return CLI_EXIT_ERROR;
	if (fflush(stdout) != 0) {
		cli_error("cannot write report: '%s': output failed",
			  args.path);
		return CLI_EXIT_ERROR;
	}
	return ok ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}
