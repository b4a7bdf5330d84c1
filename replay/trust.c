/*
 * trust.c - the checks of a bundle before a replay or a comparison uses
 * it (trust.h).
 */
#include <stddef.h>
#include <string.h>

#include "bundle/error.h"
#include "bundle/verify.h"
#include "cli/cli.h"
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
