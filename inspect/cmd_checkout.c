/*
 * cmd_checkout.c - "runbundle checkout".
 */
#include "cli/cli.h"
#include "inspect/commands.h"

int cmd_checkout(int argc, char **argv, const struct cli_command *self)
{
	(void)argc;
	(void)argv;
	cli_error("%s: not implemented yet", self->name);
	return CLI_EXIT_ERROR;
}
