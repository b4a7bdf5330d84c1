/*
 * trust.c - the checks of a bundle before a replay or a comparison uses
 * it (trust.h).
 */
#include <stddef.h>

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
