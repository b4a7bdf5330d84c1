/*
 * cmd_diff.c - "runbundle diff A B": compare two recorded runs step by
 * step, as a replay compares itself with its recording.
 */
#include <getopt.h>
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
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "strict-git-index", no_argument, NULL, 's' },
		{ "allow-incomplete", no_argument, NULL, 'a' },
		{ "match-rule", required_argument, NULL, 'm' },
		{ "compare-output", no_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const required[] = { "A", "B", NULL };
	const char *paths[2] = {NULL, NULL};
	const char *rules[REPLAY_MAX_MATCH_RULES];
	size_t n_rules = 0;
	struct replay_run *a = NULL, *b = NULL;
	bool json = false, strict_index = false, allow_incomplete = false;
	bool compare_output = false;
	int c, rc;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":", options, NULL)) != -1) {
		if (c == 'j')
			json = true;
		else if (c == 's')
			strict_index = true;
		else if (c == 'a')
			allow_incomplete = true;
		else if (c == 'o')
			compare_output = true;
		else if (c == 'm' && n_rules == REPLAY_MAX_MATCH_RULES)
			return cli_usage_error(self, "too many --match-rule "
						     "options: '%s'", optarg);
		else if (c == 'm' && harness_rule_check(optarg) < 0)
			return cli_usage_error(self, "invalid --match-rule: "
					       "%s", harness_error());
		else if (c == 'm')
			rules[n_rules++] = optarg;
		else
			return cli_option_error(self, c, argv);
	}
	if (cli_operands(self, argc, argv, optind, required, 2, "A B"))
		return CLI_EXIT_USAGE;
	paths[0] = argv[optind];
	paths[1] = argv[optind + 1];
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
	a->compare_output = compare_output;
	rc = replay_compare_and_print(a, b, json, NULL);
	replay_run_free(a);
	replay_run_free(b);
	return rc;
}
