/*
 * options.h - the command line of the inspect commands: "--name VALUE",
 * "--name=VALUE", "-n VALUE" and "--flag" options before or after the
 * operands, and "--" before operands that start with '-', with the usage
 * errors of cli_usage_error().
 */
#ifndef INSPECT_OPTIONS_H
#define INSPECT_OPTIONS_H

#include "cli/cli.h"

/* One option, --name or, when short_name is not 0, -short_name too.
 * With value set, it takes an argument, stored in *value (a pointer
 * into argv). With flag set, it takes none and sets *flag to 1. */
struct inspect_option {
	const char *name;
	char short_name;
	const char **value;
	int *flag;
};

/* The maximum number of options in one table, not counting its end. */
#define INSPECT_OPTIONS_MAX 8

/*
 * Parse argv (argc words from the command's name on) against options,
 * a table ended by an entry whose name is NULL, and require exactly
 * one operand, the bundle, among them. Returns the index of the bundle
 * in argv. On a bad command line it prints the usage error ("unknown
 * option", "missing value", a missing bundle or an extra argument) and
 * returns -1, after which the command exits with CLI_EXIT_USAGE.
 */
int inspect_options_parse(int argc, char **argv,
			  const struct cli_command *self,
			  const struct inspect_option *options);

#endif
