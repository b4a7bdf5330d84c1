/*
 * cmd_sandbox.c - "runbundle sandbox".
 */
#include "cli/cli.h"
#include "record/commands.h"

int cmd_sandbox(int argc, char **argv, const struct cli_command *self)
{
	(void)argc;
	(void)argv;
	cli_error("%s: not implemented yet", self->name);
	return CLI_EXIT_ERROR;
}
