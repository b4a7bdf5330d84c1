/*
 * options.c - getopt_long(3) over a table of inspect_option (options.h).
 */
#include <getopt.h>
#include <string.h>

#include "inspect/options.h"

/* getopt_long's tables for the first n options: a long option returns
 * its index plus one, a short one its letter. */
static void build_tables(const struct inspect_option *options, int n,
			 struct option *long_options, char *short_options)
{
	size_t len = 0;

	/* ':' distinguishes a missing value from an unknown option. Options
	 * may follow the operand, as in the other readers of a bundle. */
	short_options[len++] = ':';
	for (int i = 0; i < n; i++) {
		int has_arg = options[i].value ? required_argument :
						 no_argument;

		long_options[i].name = options[i].name;
		long_options[i].has_arg = has_arg;
		long_options[i].flag = NULL;
		long_options[i].val = i + 1;
		if (options[i].short_name) {
			short_options[len++] = options[i].short_name;
			if (has_arg)
				short_options[len++] = ':';
		}
	}
	memset(&long_options[n], 0, sizeof(long_options[n]));
	short_options[len] = '\0';
}

/* The table index of what getopt_long returned, or -1. */
static int option_index(const struct inspect_option *options, int n, int c)
{
	if (c >= 1 && c <= n)
		return c - 1;
	for (int i = 0; i < n; i++) {
		if (options[i].short_name && c == options[i].short_name)
			return i;
	}
	return -1;
}

int inspect_options_parse(int argc, char **argv,
			  const struct cli_command *self,
			  const struct inspect_option *options)
{
	struct option long_options[INSPECT_OPTIONS_MAX + 1];
	char short_options[2 + 2 * INSPECT_OPTIONS_MAX];
	int c, i, n = 0;

	while (n < INSPECT_OPTIONS_MAX && options[n].name)
		n++;
	build_tables(options, n, long_options, short_options);

	opterr = 0;
	while ((c = getopt_long(argc, argv, short_options, long_options,
				NULL)) != -1) {
		if (cli_short_value_check(self, long_options, c, argv))
			return -1;
		i = option_index(options, n, c);
		if (i < 0) {
			cli_option_error(self, c, argv);
			return -1;
		}
		if (options[i].value)
			*options[i].value = optarg;
		else
			*options[i].flag = 1;
	}
	if (cli_one_bundle(self, argc, argv, optind))
		return -1;
	return optind;
}
