/*
 * cmd_diff.c - "runbundle diff A B": compare two recorded runs step by
 * step, as a replay compares itself with its recording.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/error.h"
#include "harness/normalize.h"
#include "replay/commands.h"
#include "replay/output.h"
#include "replay/replay.h"
#include "replay/repeat.h"
#include "replay/trust.h"

int cmd_diff(int argc, char **argv, const struct cli_command *self)
{
	const char *paths[2] = {NULL, NULL};
	const char *rules[REPLAY_MAX_MATCH_RULES];
	size_t n_rules = 0;
	struct replay_run *a = NULL, *b = NULL;
	struct replay_comparison cmp;
	bool json = false, strict_index = false, allow_incomplete = false;
	size_t n = 0;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (strcmp(argv[i], "--strict-git-index") == 0)
			strict_index = true;
		else if (strcmp(argv[i], "--allow-incomplete") == 0)
			allow_incomplete = true;
		else if (strcmp(argv[i], "--match-rule") == 0 && !argv[i + 1])
			return cli_usage_error(self, "--match-rule needs a "
						     "value");
		else if (strcmp(argv[i], "--match-rule") == 0 &&
			 n_rules == REPLAY_MAX_MATCH_RULES)
			return cli_usage_error(self, "too many --match-rule "
						     "options: '%s'",
					       argv[i + 1]);
		else if (strcmp(argv[i], "--match-rule") == 0 &&
			 harness_rule_check(argv[i + 1]) < 0)
			return cli_usage_error(self, "invalid --match-rule: "
					       "%s", harness_error());
		else if (strcmp(argv[i], "--match-rule") == 0)
			rules[n_rules++] = argv[++i];
		else if (argv[i][0] == '-' && argv[i][1])
			return cli_usage_error(self, "unknown option: '%s'",
					       argv[i]);
		else if (n == 2)
			return cli_usage_error(self, "too many bundles: '%s'",
					       argv[i]);
		else
			paths[n++] = argv[i];
	}
	if (n != 2)
		return cli_usage_error(self, "expected two bundles, A and B");
	for (size_t i = 0; i < 2; i++) {
		rc = replay_check_intact(paths[i], allow_incomplete);
		if (rc)
			return rc;
	}
	a = replay_run_load(paths[0]);
	b = a ? replay_run_load(paths[1]) : NULL;
	if (!b) {
		replay_run_free(a);
		return cli_error_from(replay_error(), replay_error_hint());
	}
	a->match_rules = rules;
	a->n_match_rules = n_rules;
	a->strict_git_index = strict_index;
	rc = replay_compare(a, b, &cmp);
	if (rc == 0) {
		rc = replay_print_comparison(&cmp, json, NULL);
		replay_comparison_release(&cmp);
	} else {
		rc = cli_error_from(replay_error(), replay_error_hint());
	}
	replay_run_free(a);
	replay_run_free(b);
	return rc;
}
