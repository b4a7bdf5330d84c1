/*
 * trust.c - the checks of a bundle before a replay or a comparison uses
 * it (trust.h).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle/error.h"
#include "bundle/verify.h"
#include "cli/cli.h"
#include "record/record_gateway.h"
#include "replay/trust.h"

int replay_check_intact(const char *path)
{
	struct bundle_verify_report vr;
	size_t n;

	if (bundle_verify(path, &vr) < 0)
		return cli_error_from(bundle_error(), bundle_error_hint());
	n = vr.n_problems;
	bundle_verify_release(&vr);
	if (n == 0)
		return CLI_EXIT_OK;
	cli_error("the bundle is damaged: '%s': %zu problem%s", path, n,
		  n == 1 ? "" : "s");
	cli_hint("'runbundle verify %s' lists them; use an intact copy of "
		 "the bundle", path);
	return CLI_EXIT_ERROR;
}

int replay_check_sandbox(const struct replay_run *run, bool no_sandbox)
{
	const char *mode = cJSON_GetStringValue(
		cJSON_GetObjectItem(run->record, "sandbox"));
	bool recorded_none = mode && strcmp(mode, "none") == 0;

	if (recorded_none == no_sandbox)
		return CLI_EXIT_OK;
	if (no_sandbox) {
		cli_error("cannot replay without a sandbox: '%s': the run was "
			  "recorded in the sandbox, and a replay runs it in "
			  "the recorded one", run->path);
		cli_hint("drop --sandbox none");
		return CLI_EXIT_USAGE;
	}
	cli_error("cannot replay without a sandbox: '%s': the run was "
		  "recorded with --sandbox none, so its replay would run the "
		  "recorded command on this host as you, with your files and "
		  "network", run->path);
	cli_hint("read what it runs with 'runbundle log %s', then replay "
		 "with --sandbox none if you trust whoever recorded it",
		 run->path);
	return CLI_EXIT_USAGE;
}

/* The command line's upstream named name, or NULL. */
static const char *find_upstream(const char *const *upstreams, size_t n,
				 const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < n; i++) {
		if (strncmp(upstreams[i], name, len) == 0 &&
		    upstreams[i][len] == '=')
			return upstreams[i];
	}
	return NULL;
}

static int reject_upstream(const char *pair, const char *why,
			   const char *hint)
{
	cli_error("cannot forward to an upstream: '%s': %s", pair, why);
	if (hint)
		cli_hint("%s", hint);
	return CLI_EXIT_USAGE;
}

/* Each command-line upstream names a recorded one, once. */
static int check_names(const cJSON *recorded, const char *const *upstreams,
		       size_t n)
{
	char name[128];

	for (size_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%.*s",
			 (int)strcspn(upstreams[i], "="), upstreams[i]);
		if (!cJSON_GetObjectItem(recorded, name))
			return reject_upstream(upstreams[i], "the recording "
					       "has no upstream of that name",
					       "name only the upstreams of the "
					       "record event, which 'runbundle "
					       "show BUNDLE 1' prints");
		if (find_upstream(upstreams, i, name))
			return reject_upstream(upstreams[i], "it is given "
					       "twice", NULL);
	}
	return CLI_EXIT_OK;
}

/* Print the URL that receives the key, before the replay starts. */
static void note_forward(const char *pair)
{
	char key[160];

	record_gateway_key_name(key, sizeof(key), pair);
	fprintf(stderr, "note: a request that matches no recording goes to "
			"upstream '%.*s' at '%s', %s %s\n",
		(int)strcspn(pair, "="), pair, strchr(pair, '=') + 1,
		getenv(key) ? "with the key in" : "without a key, since "
		"this environment has no", key);
}

int replay_check_upstreams(const struct replay_run *run,
			   const char *const *upstreams, size_t n)
{
	const cJSON *recorded = cJSON_GetObjectItem(run->record, "upstreams");
	const cJSON *u;
	char pair[4096], hint[256];
	int rc = check_names(recorded, upstreams, n);

	if (rc)
		return rc;
	cJSON_ArrayForEach(u, recorded) {
		const char *url = cJSON_GetStringValue(u);

		if (find_upstream(upstreams, n, u->string))
			continue;
		snprintf(pair, sizeof(pair), "%s=%s", u->string,
			 url ? url : "");
		record_gateway_key_name(hint, sizeof(hint), pair);
		cli_error("cannot forward to an upstream of the bundle: '%s': "
			  "forwarding sends the key in %s from this "
			  "environment there, and whoever recorded the "
			  "bundle chose that URL", pair, hint);
		cli_hint("name the upstream yourself with --upstream %s=URL, "
			 "and give the recorded URL only if you trust it",
			 u->string);
		return CLI_EXIT_USAGE;
	}
	for (size_t i = 0; i < n; i++)
		note_forward(upstreams[i]);
	return CLI_EXIT_OK;
}
