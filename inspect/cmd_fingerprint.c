/*
 * cmd_fingerprint.c - "runbundle fingerprint": print this machine's
 * environment fingerprint, or compare it with a stored one.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "harness/error.h"
#include "harness/fingerprint.h"
#include "harness/input_file.h"
#include "inspect/commands.h"

#define MAX_SECRETS 64
#define MAX_FINGERPRINT (16u << 20)

struct fingerprint_args {
	bool json;
	const char *compare;
	const char *secrets[MAX_SECRETS + 1];
	size_t n_secrets;
};

static int parse_args(int argc, char **argv, const struct cli_command *self,
		      struct fingerprint_args *args)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "compare", required_argument, NULL, 'c' },
		{ "secret", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(args, 0, sizeof(*args));
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":", options, NULL)) != -1) {
		if (c == 'j') {
			args->json = true;
		} else if (c == 'c') {
			args->compare = optarg;
		} else if (c == 's') {
			if (args->n_secrets == MAX_SECRETS)
				return cli_usage_error(self, "too many "
						       "--secret options");
			args->secrets[args->n_secrets++] = optarg;
		} else {
			return cli_option_error(self, c, argv);
		}
	}
	if (optind < argc)
		return cli_usage_error(self, "unexpected argument: '%s'",
				       argv[optind]);
	return 0;
}

/* Print "path: value" for every leaf, with control characters as '?'. */
static void print_flat(const cJSON *item, const char *prefix)
{
	char path[512], clean[4096];
	const cJSON *child;

	if (cJSON_IsObject(item) || cJSON_IsArray(item)) {
		int i = 0;

		cJSON_ArrayForEach(child, item) {
			if (cJSON_IsObject(item))
				snprintf(path, sizeof(path), "%s%s%s", prefix,
					 *prefix ? "." : "", child->string);
			else
				snprintf(path, sizeof(path), "%s[%d]", prefix,
					 i++);
			print_flat(child, path);
		}
		return;
	}
	if (cJSON_IsString(item)) {
		cli_sanitize(clean, sizeof(clean), item->valuestring);
	} else {
		char *text = cJSON_PrintUnformatted(item);

		cli_sanitize(clean, sizeof(clean), text ? text : "?");
		free(text);
	}
	printf("%s: %s\n", prefix, clean);
}

static cJSON *load_fingerprint(const char *path)
{
	const char *reason;
	FILE *f = harness_fopen_input(path, &reason);
	char *text = NULL;
	size_t len;
	cJSON *fp = NULL;

	if (!f) {
		cli_error("cannot open fingerprint: '%s': %s", path, reason);
		return NULL;
	}
	text = malloc(MAX_FINGERPRINT + 1);
	len = text ? fread(text, 1, MAX_FINGERPRINT + 1, f) : 0;
	fclose(f);
	if (text && len <= MAX_FINGERPRINT) {
		text[len] = '\0';
		fp = cJSON_Parse(text);
	}
	free(text);
	if (!cJSON_IsObject(fp)) {
		cJSON_Delete(fp);
		cli_error("invalid fingerprint: '%s': not a JSON object of at "
			  "most 16 MiB", path);
		cli_hint("give a file that 'runbundle fingerprint --json' "
			 "wrote");
		return NULL;
	}

	/* Any object would otherwise compare as a fingerprint with every
	 * field unset. Every fingerprint names its kernel and its writer. */
	if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(fp, "kernel")) ||
	    !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(
		    fp, "runbundle_version"))) {
		cJSON_Delete(fp);
		cli_error("invalid fingerprint: '%s': no 'kernel' object or "
			  "'runbundle_version' string", path);
		cli_hint("give a file that 'runbundle fingerprint --json' "
			 "wrote");
		return NULL;
	}
	return fp;
}

static int print_json(const cJSON *item)
{
	char *text = cJSON_Print(item);

	if (!text) {
		cli_error("cannot print the fingerprint: out of memory");
		return CLI_EXIT_ERROR;
	}
	printf("%s\n", text);
	free(text);
	return CLI_EXIT_OK;
}

static int compare(const struct fingerprint_args *args, const cJSON *now)
{
	cJSON *recorded = load_fingerprint(args->compare);
	cJSON *diffs;
	int rc;

	if (!recorded)
		return CLI_EXIT_ERROR;
	diffs = harness_fingerprint_compare(recorded, now);
	cJSON_Delete(recorded);
	if (!diffs)
		return cli_error_from(harness_error(), NULL);
	if (args->json) {
		rc = print_json(diffs);
	} else {
		char *text = harness_fingerprint_diff_text(diffs);

		if (!text) {
			cJSON_Delete(diffs);
			return cli_error_from(harness_error(), NULL);
		}
		fputs(text, stdout);
		free(text);
		rc = CLI_EXIT_OK;
	}
	if (rc == CLI_EXIT_OK && cJSON_GetArraySize(diffs) > 0)
		rc = CLI_EXIT_FAIL;
	cJSON_Delete(diffs);
	return rc;
}

int cmd_fingerprint(int argc, char **argv, const struct cli_command *self)
{
	struct harness_fingerprint_options options = { 0 };
	struct fingerprint_args args;
	cJSON *fp;
	int rc;

	rc = parse_args(argc, argv, self, &args);
	if (rc)
		return rc;
	options.secret_names = args.n_secrets ? args.secrets
					      : harness_default_secret_names;
	fp = harness_fingerprint_collect(&options);
	if (!fp)
		return cli_error_from(harness_error(), harness_error_hint());

	if (args.compare)
		rc = compare(&args, fp);
	else if (args.json)
		rc = print_json(fp);
	else {
		print_flat(fp, "");
		rc = CLI_EXIT_OK;
	}
	cJSON_Delete(fp);
	if (rc == CLI_EXIT_OK && fflush(stdout) != 0) {
		cli_error("cannot write the fingerprint: 'stdout': %s",
			  strerror(errno));
		return CLI_EXIT_ERROR;
	}
	return rc;
}
